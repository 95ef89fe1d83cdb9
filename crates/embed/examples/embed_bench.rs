//! Speed of the builtin embedder on real Jira issues (../shared/data/deepse_storypoints, 4,753 issues:
//! title + description): texts per second on one thread for titles and for title + description (cut
//! at 128 tokens), by batch size; query latency (p50, p95) for short questions; the load time and what
//! the model adds to the process's memory (mapped file pages, which processes share, apart from
//! private memory). `cargo run --release -p analytics-embed --example embed_bench [-- DATA_DIR]`

use analytics_embed::{default_dir, Embedder};
use std::time::Instant;

fn status(key: &str) -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse().ok()).unwrap_or(0.0) / 1024.0
}

fn issues(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in ["mesos", "jirasoftware", "duracloud", "mule", "moodle"] {
        let mut r = csv::Reader::from_path(format!("{dir}/{f}.csv")).expect("a Deep-SE CSV file");
        for rec in r.records().flatten() {
            out.push((rec.get(1).unwrap_or("").to_string(), rec.get(2).unwrap_or("").to_string()));
        }
    }
    out
}

fn rate(e: &Embedder, texts: &[String], batch: usize) -> f64 {
    let t = Instant::now();
    for chunk in texts.chunks(batch) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        std::hint::black_box(e.embed(&refs).expect("embed"));
    }
    texts.len() as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let data =
        std::env::args().nth(1).unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/deepse_storypoints").into());
    let all = issues(&data);
    let (anon0, file0) = (status("RssAnon:"), status("RssFile:"));
    let e = Embedder::load(&default_dir(), 1).expect("the model (scripts/models.sh)");
    e.embed(&["warm up"]).unwrap();
    let (anon1, file1) = (status("RssAnon:"), status("RssFile:"));
    println!(
        "{} issues; model loaded in {:.0} ms; memory after loading and one call: +{:.0} MiB mapped file pages (shared), +{:.0} MiB private",
        all.len(),
        e.load_ms,
        file1 - file0,
        anon1 - anon0
    );
    // A fixed sample, the same every run: every 12th issue.
    let sample: Vec<&(String, String)> = all.iter().step_by(12).take(400).collect();
    let titles: Vec<String> = sample.iter().map(|(t, _)| t.clone()).collect();
    let full: Vec<String> = sample.iter().map(|(t, d)| format!("{t}\n{d}")).collect();
    let tokens = |v: &[String]| v.iter().map(|t| e.tokens(t).unwrap().len()).sum::<usize>() as f64 / v.len() as f64;
    println!(
        "sample: {} issues; mean tokens: titles {:.1}, title + description {:.1} (cut at {})",
        sample.len(),
        tokens(&titles),
        tokens(&full),
        analytics_embed::MAX_TOKENS
    );
    for batch in [1, 8, 32] {
        println!(
            "1 thread, batch {batch:>2}: titles {:.1} texts/s, title + description {:.1} texts/s",
            rate(&e, &titles, batch),
            rate(&e, &full[..100], batch)
        );
    }
    for batch in [8, 16, 32] {
        let t = Instant::now();
        let refs: Vec<&str> = full.iter().map(String::as_str).collect();
        std::hint::black_box(e.embed_many(&refs, batch, || ()).expect("embed"));
        println!(
            "1 thread, sorted by length (embed_many), batch {batch:>2}: title + description {:.1} texts/s (all {})",
            full.len() as f64 / t.elapsed().as_secs_f64(),
            full.len()
        );
    }
    let queries = [
        "login times out behind the proxy",
        "flaky integration tests",
        "crash when the slave restarts",
        "export issues to a spreadsheet",
        "memory grows until the process dies",
        "docs for the REST API are wrong",
        "the scheduler never hears about lost executors",
        "upgrade the dependency to the new version",
    ];
    let mut ms: Vec<f64> = Vec::new();
    for _ in 0..10 {
        for q in queries {
            let t = Instant::now();
            std::hint::black_box(e.embed(&[q]).unwrap());
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "query embedding latency (1 thread, {} queries): p50 {:.1} ms, p95 {:.1} ms (goal p50 <= 15 ms: ratio {:.2})",
        ms.len(),
        p(0.5),
        p(0.95),
        p(0.5) / 15.0
    );
}
