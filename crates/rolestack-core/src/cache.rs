//! What was read from the store, kept for the next request while the store's version
//! ([`crate::store::Store::version`]) has not moved: authenticated AccessKeys and STS sessions,
//! parsed policy documents, rendered instance credentials. A write that commits moves the
//! version, so nothing served from here is older than the last committed change (a deleted
//! AccessKey fails on the very next request). A store that gives no version (one shared with
//! other servers) is never cached from.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Entries kept before the cache starts over (bounds memory whatever the callers send).
const CAPACITY: usize = 4096;

/// A map from keys to values read at a store version.
pub struct VersionedCache<K, V> {
    entries: Mutex<HashMap<K, (u64, V)>>,
}

impl<K: Eq + Hash, V: Clone> Default for VersionedCache<K, V> {
    fn default() -> Self {
        VersionedCache { entries: Mutex::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash, V: Clone> VersionedCache<K, V> {
    /// The value kept for `key` if it was read at `version` (the store's current one).
    pub fn get<Q>(&self, key: &Q, version: Option<u64>) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let version = version?;
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(key).filter(|(v, _)| *v == version).map(|(_, value)| value.clone())
    }

    /// Keeps `value`, read at `version` (taken before the read began).
    pub fn put(&self, key: K, version: Option<u64>, value: V) {
        let Some(version) = version else { return };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            // Stale entries first; if all are current, start over.
            entries.retain(|_, (v, _)| *v == version);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (version, value));
    }

    /// Returns the value for `key` at `version`, reading it with `read` when not kept. Errors
    /// are not kept.
    pub fn get_or_read<E>(&self, key: K, version: Option<u64>, read: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        if let Some(v) = self.get(&key, version) {
            return Ok(v);
        }
        let value = read()?;
        self.put(key, version, value.clone());
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_reused_only_at_its_version() {
        let c: VersionedCache<String, u32> = VersionedCache::default();
        c.put("a".into(), Some(1), 10);
        assert_eq!(c.get("a", Some(1)), Some(10));
        assert_eq!(c.get("a", Some(2)), None, "a newer version hides it");
        assert_eq!(c.get("a", None), None);
        c.put("b".into(), None, 5);
        assert_eq!(c.get("b", None), None, "without a version nothing is kept");
        assert_eq!(c.get_or_read("c".to_string(), Some(3), || Ok::<_, ()>(7)), Ok(7));
        assert_eq!(c.get_or_read("c".to_string(), Some(3), || Err(())), Ok(7));
        assert_eq!(c.get_or_read("c".to_string(), Some(4), || Err(())), Err(()));
    }

    #[test]
    fn the_cache_stays_bounded() {
        let c: VersionedCache<u32, u32> = VersionedCache::default();
        for i in 0..(CAPACITY as u32 * 3) {
            c.put(i, Some(1), i);
        }
        assert!(c.entries.lock().unwrap().len() <= CAPACITY);
    }
}
