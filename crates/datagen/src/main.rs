//! `agile-datagen --issues N [--seed S] [--tenants T] [--end YYYY-MM-DD] [--id-offset K] --out DIR`
//! writes one COPY-ready CSV file per table into DIR, plus `load.psql` (the psql `\copy` commands that
//! load them), and prints a summary line.

use agile_datagen::{csv::CsvSink, generate, Config};
use chrono::NaiveDate;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: agile-datagen --issues N [--seed S] [--tenants T] [--end YYYY-MM-DD] [--id-offset K] --out DIR";

fn parse(args: &[String]) -> Result<(Config, PathBuf), String> {
    let mut issues = 20_000usize;
    let mut seed = 42u64;
    let mut tenants: Option<usize> = None;
    let mut end = "2026-11-27".to_string();
    let mut id_offset = 0i64;
    let mut out: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        let bad = |v: &str| format!("bad value for {flag}: {v}");
        match flag.as_str() {
            "--issues" => {
                let v = value()?;
                issues = v.parse().map_err(|_| bad(&v))?;
            }
            "--seed" => {
                let v = value()?;
                seed = v.parse().map_err(|_| bad(&v))?;
            }
            "--tenants" => {
                let v = value()?;
                tenants = Some(v.parse().map_err(|_| bad(&v))?);
            }
            "--end" => end = value()?,
            "--id-offset" => {
                let v = value()?;
                id_offset = v.parse().map_err(|_| bad(&v))?;
            }
            "--out" => out = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let day = NaiveDate::parse_from_str(&end, "%Y-%m-%d").map_err(|_| format!("bad --end date: {end}"))?;
    let end_ts = day.and_hms_opt(23, 59, 59).map(|d| d.and_utc().timestamp()).ok_or("bad --end date")?;
    let mut cfg = Config::for_scale(issues, seed, end_ts);
    if let Some(t) = tenants {
        cfg.tenants = t.max(1);
    }
    cfg.id_offset = id_offset;
    Ok((cfg, out.ok_or_else(|| format!("--out is required\n{USAGE}"))?))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cfg, out) = match parse(&args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let result = CsvSink::create(&out).and_then(|mut sink| {
        let stats = generate(&cfg, &mut sink)?;
        sink.finish()?;
        std::fs::write(out.join("load.psql"), CsvSink::load_script(&out))?;
        Ok(stats)
    });
    match result {
        Ok(s) => {
            println!("tenants={} boards={} issues={}", s.tenants, s.boards, s.issues);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("agile-datagen: {e}");
            ExitCode::FAILURE
        }
    }
}
