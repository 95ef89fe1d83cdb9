//! The rule of the extension's per-backend memos of compiled specs (the prepared specs that
//! `analytics_run`, `analytics_rows` and `analytics_ask` reuse, and `analytics_compile`'s answers): every
//! entry was made under one catalog version, and the whole memo starts empty when the version changes or
//! when it already holds [`CAP`] entries. The entries themselves are whatever map the caller keeps.

/// How many entries a memo holds before it starts over.
pub const CAP: usize = 512;

/// A memo's entries (`T`, e.g. a map) together with the catalog version they were made under.
#[derive(Debug, Default)]
pub struct Memo<T> {
    version: String,
    len: usize,
    entries: T,
}

impl<T: Default> Memo<T> {
    /// The entries, if they were made under `version` (none are valid under another version).
    pub fn get(&self, version: &str) -> Option<&T> {
        (self.version == version).then_some(&self.entries)
    }

    /// The entries to add one new entry to, made under `version`: they start empty first if they belong to
    /// another version or if the memo is full. Each call counts as one entry.
    pub fn room(&mut self, version: &str) -> &mut T {
        if self.version != version || self.len >= CAP {
            version.clone_into(&mut self.version);
            self.entries = T::default();
            self.len = 0;
        }
        self.len += 1;
        &mut self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn entries_belong_to_their_catalog_version() {
        let mut m: Memo<HashMap<u32, u32>> = Memo::default();
        assert!(m.get("v1").is_none_or(HashMap::is_empty));
        m.room("v1").insert(1, 10);
        assert_eq!(m.get("v1").and_then(|e| e.get(&1)), Some(&10));
        assert!(m.get("v2").is_none(), "another version sees nothing");
        m.room("v2").insert(2, 20);
        assert_eq!(m.get("v2").map(HashMap::len), Some(1), "a new version starts empty");
        assert!(m.get("v1").is_none());
    }

    #[test]
    fn a_full_memo_starts_over() {
        let mut m: Memo<HashMap<usize, usize>> = Memo::default();
        for i in 0..CAP {
            m.room("v").insert(i, i);
        }
        assert_eq!(m.get("v").map(HashMap::len), Some(CAP));
        m.room("v").insert(CAP, CAP);
        let entries = m.get("v").unwrap();
        assert_eq!(entries.len(), 1, "the entry that did not fit is the only one left");
        assert_eq!(entries.get(&CAP), Some(&CAP));
    }
}
