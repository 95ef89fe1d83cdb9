//! Deterministic demo and benchmark data for agile_analytics.
//!
//! The same seed, scale and end date always give byte-identical output. Tenants own boards; each board
//! runs two-week sprints up to the end date (closed ones, one active, one future) with realistic flow:
//! reviews, blocked spells, rework, reopens, mid-sprint adds and removals, re-estimates, spillover and
//! comments. Rows are written as COPY-ready CSV (see [`csv`]) and loaded by `scripts/load_data.sh`.
//! Nothing here is installed with the extension.

pub mod csv;
pub mod model;
pub mod sim;
pub mod words;

use model::Sink;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sim::{Board, BoardPlan, Ids};

#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    /// Stop adding boards once this many issues exist.
    pub issues: usize,
    /// Number of tenants; boards are dealt to them in turn.
    pub tenants: usize,
    /// The moment of the "export", Unix seconds. Nothing happens after it.
    pub end: i64,
    /// Ids of every table start after this (the loader passes the database's current maximum).
    pub id_offset: i64,
    pub issues_per_sprint: f64,
}

impl Config {
    /// Defaults for `issues` issues: 3 tenants up to 60k issues, then one tenant per 20k.
    pub fn for_scale(issues: usize, seed: u64, end: i64) -> Self {
        Config { seed, issues, tenants: (issues / 20_000).max(3), end, id_offset: 0, issues_per_sprint: 18.0 }
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stats {
    pub tenants: usize,
    pub boards: usize,
    pub issues: usize,
}

/// The tenant name of tenant number `i`.
pub fn tenant_name(i: usize) -> String {
    words::TENANTS.get(i).map(|s| s.to_string()).unwrap_or_else(|| format!("tenant_{i:04}"))
}

/// Generates boards until `cfg.issues` issues exist, writing every row to `sink`.
pub fn generate<S: Sink>(cfg: &Config, sink: &mut S) -> std::io::Result<Stats> {
    let tenants = cfg.tenants.max(1);
    let mut ids = Ids::starting_after(cfg.id_offset);
    let mut stats = Stats { tenants: tenants.min(cfg.issues.max(1)), ..Default::default() };
    let mut board_no = 0usize;
    while stats.issues < cfg.issues {
        let tenant = board_no % tenants;
        let nth = board_no / tenants; // the tenant's nth board
        let (key, name) = words::PROJECTS[nth % words::PROJECTS.len()];
        let round = nth / words::PROJECTS.len();
        let (project, board) = if round == 0 {
            (key.to_string(), format!("{name} team"))
        } else {
            (format!("{key}{}", round + 1), format!("{name} team {}", round + 1))
        };
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        rng.set_stream(board_no as u64);
        let remaining = cfg.issues - stats.issues;
        let wanted = rand::Rng::random_range(&mut rng, 26..=52usize);
        let sprints = wanted.min(((remaining as f64 / cfg.issues_per_sprint).ceil() as usize).max(3));
        let plan = BoardPlan { tenant: tenant_name(tenant), project, board, sprints, issues_per_sprint: cfg.issues_per_sprint };
        stats.issues += Board::new(rng, &mut ids, sink, cfg.end, &plan).run()?;
        stats.boards += 1;
        board_no += 1;
    }
    stats.tenants = tenants.min(stats.boards);
    Ok(stats)
}
