//! JIT for spec queries. A compiled spec reads one tenant's rows; PostgreSQL decides on JIT from the
//! plan's estimated cost, and a nested loop over status history can cross `jit_above_cost` while the
//! query itself runs in a few milliseconds: compiling then costs 10-20 ms more than it saves (measured:
//! p90 cycle time by issue type, 11 ms without JIT, 25-33 ms with it). Unless `analytics.jit` is on, the
//! extension switches `jit` off for its own query only, the way a function's `SET jit = off` clause does.

/// Runs `query` (which plans and runs a spec query) with `jit` off unless analytics.jit allows it, then
/// puts `jit` back as it was. When `query` raises an error, the (sub)transaction's abort restores it.
pub fn scoped<T>(query: impl FnOnce() -> T) -> T {
    if crate::gucs::jit() {
        return query();
    }
    let level = crate::search_path::scoped_setting(c"jit", c"off");
    let result = query();
    crate::search_path::end_scope(level);
    result
}
