"""Runs the real jira-agile-metrics (JAM 0.24) calculators for ageing WIP, net flow and the Monte Carlo
burnup forecast against the scripted Jira and writes their results as TSV for scripts/test_peer.sh.

JAM's command line writes these three only as charts (PNG), so this driver uses JAM's own config
parser, Jira client, query manager and calculators in process and writes what their `run()` returns.
The one piece not in a JAM `run()`: the forecast's finish-date quantiles, which JAM computes in the
chart writer (`finish_dates = trials.apply(pd.Series.last_valid_index); finish_dates.quantile(q)`);
the same two lines are repeated here.

Where JAM's definitions differ from ours on purpose, JAM is configured to match (documented in
src/tests/jam.rs):
  - net flow: JAM's arrivals are items reaching its committed column; ours are created issues. The
    net-flow run uses a copy of the settings with committed_column = the backlog column, at daily
    frequency (JAM's default is weekly bins Tuesday..Monday labelled by the Monday before).
  - forecast: JAM samples the calendar days [end - window, end] (window + 1 days); ours the
    weeks_of_history * 7 days before as_of. The window is set to weeks * 7 - 1 days ending the day
    before the forecast's start day, so both resample the same daily counts.

Usage: jam_calculators.py CONFIG OUTDIR WEEKS TRIALS SEED
Writes OUTDIR/jam_ageing.tsv (key, status, age days), jam_netflow.tsv (day, arrivals, departures,
net flow), jam_forecast.tsv (start day, items left, then quantile and finish date per line).
"""
import copy
import datetime
import os
import sys

import numpy as np
import pandas as pd

from jira_agile_metrics.calculators.ageingwip import AgeingWIPChartCalculator
from jira_agile_metrics.calculators.burnup import BurnupCalculator
from jira_agile_metrics.calculators.cfd import CFDCalculator
from jira_agile_metrics.calculators.cycletime import CycleTimeCalculator
from jira_agile_metrics.calculators.forecast import BurnupForecastCalculator
from jira_agile_metrics.calculators.netflow import NetFlowChartCalculator
from jira_agile_metrics.cli import get_jira_client
from jira_agile_metrics.config import config_to_options
from jira_agile_metrics.querymanager import QueryManager


def main():
    config, out, weeks, trials, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    with open(config) as f:
        options = config_to_options(f.read(), cwd=os.path.dirname(os.path.abspath(config)))
    settings = options["settings"]
    qm = QueryManager(get_jira_client(options["connection"]), settings)
    results = {}
    for calc in (CycleTimeCalculator, CFDCalculator, BurnupCalculator):
        results[calc] = calc(qm, settings, results).run()

    # The forecast starts on the CFD's last day (JAM: burnup_data.index.max()); ageing is read at the
    # end of that day, i.e. "today" is the day after.
    last_day = results[CFDCalculator].index.max().date()
    today = last_day + datetime.timedelta(days=1)

    s = dict(settings, ageing_wip_chart="unused.png")
    ageing = AgeingWIPChartCalculator(qm, s, results).run(today=today)
    with open(f"{out}/jam_ageing.tsv", "w") as f:
        for _, row in ageing.iterrows():
            f.write(f"{row['key']}\t{row['status']}\t{int(row['age'])}\n")

    s = copy.deepcopy(settings)
    s["committed_column"] = s["backlog_column"]
    s["net_flow_frequency"] = "D"
    flow = NetFlowChartCalculator(qm, s, results).run()
    with open(f"{out}/jam_netflow.tsv", "w") as f:
        for day, row in flow.iterrows():
            f.write(f"{day.date()}\t{int(row['arrivals'])}\t{int(row['departures'])}\t{int(row['net_flow'])}\n")

    s = dict(settings, burnup_forecast_chart="unused.png", burnup_forecast_chart_trials=trials,
             burnup_forecast_chart_throughput_window=weeks * 7 - 1,
             burnup_forecast_chart_throughput_window_end=last_day - datetime.timedelta(days=1))
    np.random.seed(seed)
    mc = BurnupForecastCalculator(qm, s, results).run()
    burnup = results[BurnupCalculator]
    target = burnup[settings["backlog_column"]].max()
    done = burnup[settings["done_column"]].max()
    finish = mc.apply(pd.Series.last_valid_index)
    quantiles = finish.quantile(settings["quantiles"]).dt.normalize()
    with open(f"{out}/jam_forecast.tsv", "w") as f:
        f.write(f"{last_day}\t{int(target - done)}\n")
        for q, day in quantiles.items():
            f.write(f"{q}\t{day.date()}\n")


if __name__ == "__main__":
    main()
