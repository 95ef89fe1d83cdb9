//! A process that embeds starts a bounded number of threads, once: with 1 thread, at most one rayon
//! worker beside the caller, and no new thread per call. (Its own test binary: the count is the
//! process's.)

use analytics_embed::{default_dir, Embedder};

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn threads_are_bounded_and_started_once() {
    let before = threads();
    let e = Embedder::load(&default_dir(), 1).unwrap();
    e.embed(&["the login page times out", "add dark mode"]).unwrap();
    let after_first = threads();
    for _ in 0..5 {
        e.embed(&["crash on startup", "export to CSV misses custom fields", "flaky CI"]).unwrap();
    }
    let after = threads();
    println!("threads: {before} before, {after_first} after the first call, {after} after 6 calls");
    assert!(after_first <= before + 1, "{before} -> {after_first}");
    assert_eq!(after, after_first, "no thread per call");
    println!("load: {:.0} ms", e.load_ms);
}
