//! The embedded default store: one SQLite database in WAL mode. Records are JSON documents keyed by
//! (kind, account scope, name) with case-insensitive names, as RAM compares names; relations are a
//! second table indexed both ways. Kinds whose names are identifiers (`Kind::exact_names`) also
//! compare them exactly. One connection behind a mutex serializes transactions, which is
//! what a single-node embedded store needs; `BEGIN IMMEDIATE` makes each call's reads and writes atomic.
//! Read transactions run on a pool of read-only connections, and the listings they read are kept
//! while nothing changes (`ListCache`).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rolestack_core::audit::{EventQuery, EventRow};
use rolestack_core::store::{like_prefix, FaultRow, InstanceEventRow, Kind, Link, OssBucketUsage, Relation, Store, Tx};
use rolestack_core::{Error, Result};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE records (
    kind  TEXT NOT NULL,
    scope TEXT NOT NULL,
    name  TEXT NOT NULL COLLATE NOCASE,
    data  TEXT NOT NULL,
    PRIMARY KEY (kind, scope, name)
);
CREATE TABLE links (
    rel     TEXT NOT NULL,
    scope   TEXT NOT NULL,
    lhs     TEXT NOT NULL COLLATE NOCASE,
    rhs     TEXT NOT NULL COLLATE NOCASE,
    created TEXT NOT NULL,
    PRIMARY KEY (rel, scope, lhs, rhs)
);
CREATE INDEX links_by_rhs ON links (rel, scope, rhs);
CREATE TABLE nonces (
    access_key_id TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    expires       INTEGER NOT NULL,
    PRIMARY KEY (access_key_id, nonce)
);
CREATE INDEX nonces_by_expiry ON nonces (expires);
"#,
    r#"
-- OSS: bucket names and object keys are case-sensitive and ordered byte-wise, so keys are
-- stored as BLOBs (memcmp order of their UTF-8 bytes).
CREATE TABLE oss_buckets (
    name  BLOB NOT NULL PRIMARY KEY,
    owner TEXT NOT NULL,
    data  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX oss_buckets_by_owner ON oss_buckets (owner, name);
CREATE TABLE oss_objects (
    bucket BLOB NOT NULL,
    key    BLOB NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE oss_uploads (
    bucket    BLOB NOT NULL,
    key       BLOB NOT NULL,
    upload_id BLOB NOT NULL,
    data      TEXT NOT NULL,
    PRIMARY KEY (bucket, key, upload_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX oss_uploads_by_id ON oss_uploads (bucket, upload_id);
CREATE TABLE oss_parts (
    upload_id BLOB NOT NULL,
    number    INTEGER NOT NULL,
    data      TEXT NOT NULL,
    PRIMARY KEY (upload_id, number)
) WITHOUT ROWID;
"#,
    r#"
-- ActionTrail events (core::audit): the fields lookups filter on, and the event as JSON.
CREATE TABLE events (
    account       TEXT NOT NULL,
    time_ms       INTEGER NOT NULL,
    id            TEXT NOT NULL,
    event_name    TEXT NOT NULL,
    event_rw      TEXT NOT NULL,
    service_name  TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    access_key_id TEXT NOT NULL,
    resources     TEXT NOT NULL,
    data          TEXT NOT NULL,
    PRIMARY KEY (account, time_ms, id)
) WITHOUT ROWID;
CREATE INDEX events_by_time ON events (time_ms);
"#,
    r#"
-- Events as an ordinary (rowid) table: rows of a kilobyte append far faster than into the
-- key's B-tree of a WITHOUT ROWID table; the key becomes a unique index.
CREATE TABLE events_rows (
    account       TEXT NOT NULL,
    time_ms       INTEGER NOT NULL,
    id            TEXT NOT NULL,
    event_name    TEXT NOT NULL,
    event_rw      TEXT NOT NULL,
    service_name  TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    access_key_id TEXT NOT NULL,
    resources     TEXT NOT NULL,
    data          TEXT NOT NULL
);
INSERT INTO events_rows SELECT account, time_ms, id, event_name, event_rw, service_name, user_name, access_key_id, resources, data
    FROM events ORDER BY time_ms, id;
DROP TABLE events;
ALTER TABLE events_rows RENAME TO events;
CREATE UNIQUE INDEX events_key ON events (account, time_ms, id);
CREATE INDEX events_by_time ON events (time_ms);
"#,
    r#"
-- Faults injected into instances' metadata services, and each instance's event list (core::fault).
CREATE TABLE instance_faults (
    account     TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    until_ms    INTEGER,
    remaining   INTEGER,
    spec        TEXT NOT NULL,
    PRIMARY KEY (account, instance_id, id)
) WITHOUT ROWID;
CREATE TABLE instance_events (
    account     TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    time_ms     INTEGER NOT NULL,
    id          TEXT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (account, instance_id, time_ms, id)
) WITHOUT ROWID;
"#,
    r#"
-- OSS versioning (core::oss::versioning): noncurrent versions and delete markers. The current
-- version of a key stays in oss_objects (objects stored before stay there: the `null` version).
-- `ord` sorts the versions of a key newest first.
CREATE TABLE oss_object_versions (
    bucket     BLOB NOT NULL,
    key        BLOB NOT NULL,
    ord        TEXT NOT NULL,
    version_id TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (bucket, key, ord)
) WITHOUT ROWID;
CREATE UNIQUE INDEX oss_object_versions_by_id ON oss_object_versions (bucket, key, version_id);
"#,
];

pub struct SqliteStore {
    /// The one connection that writes (`BEGIN IMMEDIATE`: writers take turns, as SQLite requires).
    conn: Mutex<Connection>,
    /// Read-only connections for read transactions: in WAL mode they read a snapshot while the
    /// writer writes, so reads never wait for writes (empty for an in-memory database).
    readers: Vec<Mutex<Connection>>,
    /// The reader a read transaction waits for when every reader is busy (taken in turn).
    next_reader: std::sync::atomic::AtomicUsize,
    /// [`Store::version`]: bumped after each commit that changed records or links.
    version: AtomicU64,
    /// Listings read by read transactions at the current version.
    listings: ListCache,
}

/// The listings ([`Tx::list`]) that read transactions read, kept while the store's version stays
/// the same: a read-heavy control plane (ListRoles, ListPolicies…) lists the same records again
/// and again between writes, and a listing from memory spares the read transaction's locks and
/// statements. Every commit that changes a record or link moves the version first, so a listing
/// is only ever served to a transaction that began before such a commit returned — what reading
/// the database would give it, or a newer one (a transaction that began just before a commit
/// may store what it read after it under the older version: newer data, never older). Write
/// transactions never use it (they must see their own writes). Bounded: when the listings held
/// pass [`ListCache::MAX_BYTES`], it starts over; an idle server empties it
/// ([`Store::release_memory`]).
#[derive(Default)]
struct ListCache {
    state: Mutex<Listings>,
}

#[derive(Default)]
struct Listings {
    version: u64,
    bytes: usize,
    by_query: std::collections::HashMap<ListQuery, Arc<Vec<String>>>,
}

/// The arguments of a [`Tx::list`] call.
#[derive(PartialEq, Eq, Hash)]
struct ListQuery {
    kind: &'static str,
    scope: String,
    prefix: String,
    after: Option<String>,
    limit: usize,
}

impl ListCache {
    /// Bytes of records held at most.
    const MAX_BYTES: usize = 4 << 20;

    fn lock(&self) -> MutexGuard<'_, Listings> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, version: u64, query: &ListQuery) -> Option<Arc<Vec<String>>> {
        let listings = self.lock();
        (listings.version == version).then(|| listings.by_query.get(query).cloned()).flatten()
    }

    fn put(&self, version: u64, query: ListQuery, records: Arc<Vec<String>>) {
        let size: usize = records.iter().map(String::len).sum::<usize>() + query.scope.len() + query.prefix.len() + 64;
        let mut listings = self.lock();
        if version < listings.version || size > Self::MAX_BYTES {
            return;
        }
        if version > listings.version || listings.bytes + size > Self::MAX_BYTES {
            *listings = Listings { version, ..Listings::default() };
        }
        listings.bytes += size;
        listings.by_query.insert(query, records);
    }
}

/// Read connections per file database.
const READERS: usize = 4;

/// Page cache of each read connection, in KiB (as a negative `cache_size`).
const READER_CACHE_KIB: i64 = -512;

/// Prepared statements kept per connection: more than the store has, so none is parsed twice.
const STATEMENT_CACHE: usize = 128;

fn db_err(e: rusqlite::Error) -> Error {
    Error::Store(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path).map_err(db_err)?;
        let mut store = Self::init(conn)?;
        for _ in 0..READERS {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let reader = Connection::open_with_flags(path, flags).map_err(db_err)?;
            reader.busy_timeout(std::time::Duration::from_secs(5)).map_err(db_err)?;
            reader.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            // The OS caches the file for every connection alike; a small page cache each keeps
            // the server's own memory small.
            reader.pragma_update(None, "cache_size", READER_CACHE_KIB).map_err(db_err)?;
            store.readers.push(Mutex::new(reader));
        }
        Ok(store)
    }

    /// A private in-memory database, for tests.
    pub fn in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory().map_err(db_err)?)
    }

    fn init(mut conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(db_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(db_err)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(db_err)?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction().map_err(db_err)?;
            tx.execute_batch(sql).map_err(db_err)?;
            tx.pragma_update(None, "user_version", i + 1).map_err(db_err)?;
            tx.commit().map_err(db_err)?;
        }
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            readers: Vec::new(),
            next_reader: std::sync::atomic::AtomicUsize::new(0),
            version: AtomicU64::new(0),
            listings: ListCache::default(),
        })
    }
}

impl Store for SqliteStore {
    fn begin(&self) -> Result<Box<dyn Tx + '_>> {
        // A poisoned mutex only means another request panicked mid-call; its transaction was rolled
        // back by `Drop`, so the connection is still consistent.
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        conn.prepare_cached("BEGIN IMMEDIATE").and_then(|mut s| s.execute([])).map_err(db_err)?;
        Ok(Box::new(SqliteTx { conn, done: false, changed: false, nonces_purged: false, version: Some(&self.version), listings: None }))
    }

    fn begin_read(&self) -> Result<Box<dyn Tx + '_>> {
        if self.readers.is_empty() {
            return self.begin();
        }
        // The first free reader, else wait for the next in turn. First, not next: readers are
        // taken in the same order every time, so a light load keeps reusing the first one and
        // only its page cache warms up — a single client paging through a listing would otherwise
        // fill every reader's cache, a quarter as fast each, and the server's memory would keep
        // growing long after the listing's first pages (benches/run.sh `list`, docs/STATUS.md).
        let n = self.readers.len();
        let conn = self.readers.iter().find_map(|r| r.try_lock().ok()).unwrap_or_else(|| {
            let next = self.next_reader.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.readers[next % n].lock().unwrap_or_else(|p| p.into_inner())
        });
        // The version before the transaction's snapshot: see `ListCache`.
        let version = self.version.load(Ordering::Acquire);
        conn.prepare_cached("BEGIN").and_then(|mut s| s.execute([])).map_err(db_err)?;
        Ok(Box::new(SqliteTx {
            conn,
            done: false,
            changed: false,
            nonces_purged: false,
            version: None,
            listings: Some((&self.listings, version)),
        }))
    }

    fn version(&self) -> Option<u64> {
        Some(self.version.load(Ordering::Acquire))
    }

    fn release_memory(&self) {
        // Only connections nobody is using: a busy one is not idle, and waiting would block it.
        for conn in std::iter::once(&self.conn).chain(&self.readers) {
            if let Ok(conn) = conn.try_lock() {
                // `sqlite3_db_release_memory`: frees the page cache's unused pages.
                conn.execute_batch("PRAGMA shrink_memory").ok();
            }
        }
        // Kept listings go too (read again when asked for).
        *self.listings.lock() = Listings::default();
    }
}

struct SqliteTx<'a> {
    conn: MutexGuard<'a, Connection>,
    done: bool,
    /// Whether a record or link changed (the store's version moves at commit).
    changed: bool,
    /// Whether expired nonces were purged already (once per transaction: the journal spends
    /// hundreds of nonces in one).
    nonces_purged: bool,
    /// The store's version (write transactions only).
    version: Option<&'a AtomicU64>,
    /// The listings of read transactions, and the store's version when this one began.
    listings: Option<(&'a ListCache, u64)>,
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.prepare_cached("ROLLBACK").and_then(|mut s| s.execute([]));
        }
    }
}

/// The exclusive bounds `(lo, hi)` of keys that start with `prefix` and sort after `after`: no
/// UTF-8 text contains the byte `0xFF`, so `prefix ‖ 0xFF` is above every key with the prefix.
fn prefix_range(prefix: &[u8], after: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let lo = if after >= prefix {
        after.to_vec()
    } else {
        // Just below `prefix`: every key starting with it is greater.
        let mut lo = prefix.to_vec();
        match lo.pop() {
            Some(last) if last > 0 => {
                lo.push(last - 1);
                lo.push(0xFF);
            }
            Some(_) => {}
            None => {}
        }
        lo
    };
    let mut hi = prefix.to_vec();
    hi.push(0xFF);
    (lo, hi)
}

fn utf8(bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| Error::Store(format!("stored OSS name is not UTF-8: {e}")))
}

fn limit_sql(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl SqliteTx<'_> {
    /// [`Tx::list`] from the database.
    fn list_records(&self, kind: Kind, scope: &str, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        // A `LIKE` over a bound value makes SQLite prepare the statement again at every binding:
        // without a prefix (nearly every listing) the statement has none.
        let sql = if prefix.is_empty() {
            "SELECT data FROM records WHERE kind = ?1 AND scope = ?2 AND ?3 = '%' \
             AND (?4 IS NULL OR name > ?4) ORDER BY name LIMIT ?5"
        } else {
            "SELECT data FROM records WHERE kind = ?1 AND scope = ?2 AND name LIKE ?3 ESCAPE '\\' \
             AND (?4 IS NULL OR name > ?4) ORDER BY name LIMIT ?5"
        };
        let mut stmt = self.conn.prepare_cached(sql).map_err(db_err)?;
        let rows =
            stmt.query_map(params![kind.as_str(), scope, like_prefix(prefix), after, limit_sql(limit)], |r| r.get(0)).map_err(db_err)?;
        rows.collect::<std::result::Result<Vec<String>, _>>().map_err(db_err)
    }

    /// Runs a statement, prepared once per connection (parsing SQL is a good part of a call).
    fn run(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.conn.prepare_cached(sql)?.execute(params)
    }

    /// The first row of a query, prepared once per connection.
    fn one_row<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.conn.prepare_cached(sql)?.query_row(params, f)
    }
}

impl Tx for SqliteTx<'_> {
    fn get(&mut self, kind: Kind, scope: &str, name: &str) -> Result<Option<String>> {
        self.one_row(
            "SELECT data FROM records WHERE kind = ?1 AND scope = ?2 AND name = ?3 AND (?4 = 0 OR name = ?3 COLLATE BINARY)",
            params![kind.as_str(), scope, name, kind.exact_names()],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)
    }

    fn insert(&mut self, kind: Kind, scope: &str, name: &str, data: &str) -> Result<bool> {
        let n = self
            .run(
                "INSERT INTO records (kind, scope, name, data) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![kind.as_str(), scope, name, data],
            )
            .map_err(db_err)?;
        self.changed |= n == 1;
        Ok(n == 1)
    }

    fn update(&mut self, kind: Kind, scope: &str, name: &str, data: &str) -> Result<bool> {
        let n = self
            .run(
                "UPDATE records SET data = ?4 WHERE kind = ?1 AND scope = ?2 AND name = ?3 AND (?5 = 0 OR name = ?3 COLLATE BINARY)",
                params![kind.as_str(), scope, name, data, kind.exact_names()],
            )
            .map_err(db_err)?;
        self.changed |= n == 1;
        Ok(n == 1)
    }

    fn delete(&mut self, kind: Kind, scope: &str, name: &str) -> Result<bool> {
        let n = self
            .run(
                "DELETE FROM records WHERE kind = ?1 AND scope = ?2 AND name = ?3 AND (?4 = 0 OR name = ?3 COLLATE BINARY)",
                params![kind.as_str(), scope, name, kind.exact_names()],
            )
            .map_err(db_err)?;
        self.changed |= n == 1;
        Ok(n == 1)
    }

    fn list(&mut self, kind: Kind, scope: &str, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        let Some((cache, version)) = self.listings else {
            return self.list_records(kind, scope, prefix, after, limit);
        };
        let query = ListQuery {
            kind: kind.as_str(),
            scope: scope.to_string(),
            prefix: prefix.to_string(),
            after: after.map(str::to_string),
            limit,
        };
        if let Some(records) = cache.get(version, &query) {
            return Ok(records.as_ref().clone());
        }
        let records = self.list_records(kind, scope, prefix, after, limit)?;
        cache.put(version, query, Arc::new(records.clone()));
        Ok(records)
    }

    fn count(&mut self, kind: Kind, scope: &str, prefix: &str) -> Result<usize> {
        let sql = if prefix.is_empty() {
            "SELECT COUNT(*) FROM records WHERE kind = ?1 AND scope = ?2 AND ?3 = '%'"
        } else {
            "SELECT COUNT(*) FROM records WHERE kind = ?1 AND scope = ?2 AND name LIKE ?3 ESCAPE '\\'"
        };
        self.one_row(sql, params![kind.as_str(), scope, like_prefix(prefix)], |r| r.get::<_, i64>(0)).map(|n| n as usize).map_err(db_err)
    }

    fn link(&mut self, rel: Relation, scope: &str, left: &str, right: &str, created: &str) -> Result<bool> {
        let n = self
            .run(
                "INSERT INTO links (rel, scope, lhs, rhs, created) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                params![rel.as_str(), scope, left, right, created],
            )
            .map_err(db_err)?;
        self.changed |= n == 1;
        Ok(n == 1)
    }

    fn unlink(&mut self, rel: Relation, scope: &str, left: &str, right: &str) -> Result<bool> {
        let n = self
            .run("DELETE FROM links WHERE rel = ?1 AND scope = ?2 AND lhs = ?3 AND rhs = ?4", params![rel.as_str(), scope, left, right])
            .map_err(db_err)?;
        self.changed |= n == 1;
        Ok(n == 1)
    }

    fn links_from(&mut self, rel: Relation, scope: &str, left: &str) -> Result<Vec<Link>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT lhs, rhs, created FROM links WHERE rel = ?1 AND scope = ?2 AND lhs = ?3 ORDER BY created, rhs")
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![rel.as_str(), scope, left], |r| Ok(Link { left: r.get(0)?, right: r.get(1)?, created: r.get(2)? }))
            .map_err(db_err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(db_err)
    }

    fn links_to(&mut self, rel: Relation, scope: &str, right: &str) -> Result<Vec<Link>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT lhs, rhs, created FROM links WHERE rel = ?1 AND scope = ?2 AND rhs = ?3 ORDER BY created, lhs")
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![rel.as_str(), scope, right], |r| Ok(Link { left: r.get(0)?, right: r.get(1)?, created: r.get(2)? }))
            .map_err(db_err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(db_err)
    }

    fn use_nonce(&mut self, access_key_id: &str, nonce: &str, now: i64, expires: i64) -> Result<bool> {
        if !std::mem::replace(&mut self.nonces_purged, true) {
            self.run("DELETE FROM nonces WHERE expires < ?1", params![now]).map_err(db_err)?;
        }
        // Purged once per transaction: a nonce that expired since is taken over here.
        let n = self
            .run(
                "INSERT INTO nonces (access_key_id, nonce, expires) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires = excluded.expires WHERE nonces.expires < ?4",
                params![access_key_id, nonce, expires, now],
            )
            .map_err(db_err)?;
        Ok(n == 1)
    }

    fn nonces_live(&mut self, now: i64) -> Result<Vec<(String, String, i64)>> {
        let mut stmt = self.conn.prepare_cached("SELECT access_key_id, nonce, expires FROM nonces WHERE expires >= ?1").map_err(db_err)?;
        let rows = stmt.query_map(params![now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(db_err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(db_err)
    }

    // OSS ---------------------------------------------------------------------------------

    fn oss_bucket_get(&mut self, name: &str) -> Result<Option<String>> {
        self.one_row("SELECT data FROM oss_buckets WHERE name = ?1", params![name.as_bytes()], |r| r.get(0)).optional().map_err(db_err)
    }

    fn oss_bucket_insert(&mut self, name: &str, owner: &str, data: &str) -> Result<bool> {
        let n = self
            .run(
                "INSERT INTO oss_buckets (name, owner, data) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![name.as_bytes(), owner, data],
            )
            .map_err(db_err)?;
        self.changed |= n == 1; // buckets are cached by version (`rolestack_core::cache`)
        Ok(n == 1)
    }

    fn oss_bucket_update(&mut self, name: &str, data: &str) -> Result<bool> {
        let n = self.run("UPDATE oss_buckets SET data = ?2 WHERE name = ?1", params![name.as_bytes(), data]).map_err(db_err)?;
        self.changed |= n == 1; // buckets are cached by version (`rolestack_core::cache`)
        Ok(n == 1)
    }

    fn oss_bucket_delete(&mut self, name: &str) -> Result<bool> {
        let n = self.run("DELETE FROM oss_buckets WHERE name = ?1", params![name.as_bytes()]).map_err(db_err)?;
        self.changed |= n == 1; // buckets are cached by version (`rolestack_core::cache`)
        Ok(n == 1)
    }

    fn oss_bucket_list(&mut self, owner: &str, prefix: &str, after: &str, limit: usize) -> Result<Vec<String>> {
        let (lo, hi) = prefix_range(prefix.as_bytes(), after.as_bytes());
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM oss_buckets WHERE owner = ?1 AND name > ?2 AND name < ?3 ORDER BY name LIMIT ?4")
            .map_err(db_err)?;
        let rows = stmt.query_map(params![owner, lo, hi, limit_sql(limit)], |r| r.get(0)).map_err(db_err)?;
        rows.collect::<std::result::Result<Vec<String>, _>>().map_err(db_err)
    }

    fn oss_buckets_scan(&mut self, after: &str, limit: usize) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT data FROM oss_buckets WHERE name > ?1 ORDER BY name LIMIT ?2").map_err(db_err)?;
        let rows = stmt.query_map(params![after.as_bytes(), limit_sql(limit)], |r| r.get(0)).map_err(db_err)?;
        rows.collect::<std::result::Result<Vec<String>, _>>().map_err(db_err)
    }

    fn oss_object_get(&mut self, bucket: &str, key: &str) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT data FROM oss_objects WHERE bucket = ?1 AND key = ?2")
            .map_err(db_err)?
            .query_row(params![bucket.as_bytes(), key.as_bytes()], |r| r.get(0))
            .optional()
            .map_err(db_err)
    }

    fn oss_object_put(&mut self, bucket: &str, key: &str, data: &str) -> Result<Option<String>> {
        let old = self.oss_object_get(bucket, key)?;
        self.conn
            .prepare_cached("INSERT INTO oss_objects (bucket, key, data) VALUES (?1, ?2, ?3) ON CONFLICT (bucket, key) DO UPDATE SET data = excluded.data")
            .map_err(db_err)?
            .execute(params![bucket.as_bytes(), key.as_bytes(), data])
            .map_err(db_err)?;
        Ok(old)
    }

    fn oss_object_delete(&mut self, bucket: &str, key: &str) -> Result<Option<String>> {
        let old = self.oss_object_get(bucket, key)?;
        if old.is_some() {
            self.conn
                .prepare_cached("DELETE FROM oss_objects WHERE bucket = ?1 AND key = ?2")
                .map_err(db_err)?
                .execute(params![bucket.as_bytes(), key.as_bytes()])
                .map_err(db_err)?;
        }
        Ok(old)
    }

    fn oss_object_list(&mut self, bucket: &str, prefix: &str, after: &[u8], limit: usize) -> Result<Vec<(String, String)>> {
        let (lo, hi) = prefix_range(prefix.as_bytes(), after);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, data FROM oss_objects WHERE bucket = ?1 AND key > ?2 AND key < ?3 ORDER BY key LIMIT ?4")
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![bucket.as_bytes(), lo, hi, limit_sql(limit)], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?)))
            .map_err(db_err)?;
        rows.map(|row| {
            let (key, data) = row.map_err(db_err)?;
            let key = String::from_utf8(key).map_err(|e| Error::Store(format!("object key is not UTF-8: {e}")))?;
            Ok((key, data))
        })
        .collect()
    }

    fn oss_upload_get(&mut self, bucket: &str, upload_id: &str) -> Result<Option<String>> {
        self.one_row(
            "SELECT data FROM oss_uploads WHERE bucket = ?1 AND upload_id = ?2",
            params![bucket.as_bytes(), upload_id.as_bytes()],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)
    }

    fn oss_upload_insert(&mut self, bucket: &str, key: &str, upload_id: &str, data: &str) -> Result<()> {
        self.run(
            "INSERT INTO oss_uploads (bucket, key, upload_id, data) VALUES (?1, ?2, ?3, ?4)",
            params![bucket.as_bytes(), key.as_bytes(), upload_id.as_bytes(), data],
        )
        .map_err(db_err)?;
        Ok(())
    }

    fn oss_upload_delete(&mut self, bucket: &str, upload_id: &str) -> Result<bool> {
        let n = self
            .run("DELETE FROM oss_uploads WHERE bucket = ?1 AND upload_id = ?2", params![bucket.as_bytes(), upload_id.as_bytes()])
            .map_err(db_err)?;
        Ok(n == 1)
    }

    fn oss_upload_list(
        &mut self,
        bucket: &str,
        prefix: &str,
        key_marker: &str,
        upload_id_marker: &str,
        limit: usize,
    ) -> Result<Vec<String>> {
        let (_, hi) = prefix_range(prefix.as_bytes(), b"");
        let lo = if key_marker.as_bytes() > prefix.as_bytes() { key_marker.as_bytes() } else { prefix.as_bytes() };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT data FROM oss_uploads WHERE bucket = ?1 AND key >= ?2 AND key < ?3 \
                 AND (key > ?4 OR (key = ?4 AND upload_id > ?5)) ORDER BY key, upload_id LIMIT ?6",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![bucket.as_bytes(), lo, hi, key_marker.as_bytes(), upload_id_marker.as_bytes(), limit_sql(limit)], |r| {
                r.get(0)
            })
            .map_err(db_err)?;
        rows.collect::<std::result::Result<Vec<String>, _>>().map_err(db_err)
    }

    fn oss_part_put(&mut self, upload_id: &str, number: u32, data: &str) -> Result<Option<String>> {
        let old: Option<String> = self
            .one_row("SELECT data FROM oss_parts WHERE upload_id = ?1 AND number = ?2", params![upload_id.as_bytes(), number], |r| r.get(0))
            .optional()
            .map_err(db_err)?;
        self.run(
            "INSERT INTO oss_parts (upload_id, number, data) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (upload_id, number) DO UPDATE SET data = excluded.data",
            params![upload_id.as_bytes(), number, data],
        )
        .map_err(db_err)?;
        Ok(old)
    }

    fn oss_part_list(&mut self, upload_id: &str, after: u32, limit: usize) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM oss_parts WHERE upload_id = ?1 AND number > ?2 ORDER BY number LIMIT ?3")
            .map_err(db_err)?;
        let rows = stmt.query_map(params![upload_id.as_bytes(), after, limit_sql(limit)], |r| r.get(0)).map_err(db_err)?;
        rows.collect::<std::result::Result<Vec<String>, _>>().map_err(db_err)
    }

    fn oss_parts_delete(&mut self, upload_id: &str) -> Result<Vec<String>> {
        let parts = self.oss_part_list(upload_id, 0, usize::MAX)?;
        self.run("DELETE FROM oss_parts WHERE upload_id = ?1", params![upload_id.as_bytes()]).map_err(db_err)?;
        Ok(parts)
    }

    fn events_append(&mut self, rows: &[EventRow]) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO events (account, time_ms, id, event_name, event_rw, service_name, user_name, access_key_id, resources, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .map_err(db_err)?;
        for r in rows {
            stmt.execute(params![
                r.account,
                r.time_ms,
                r.id,
                r.event_name,
                r.event_rw,
                r.service_name,
                r.user_name,
                r.access_key_id,
                r.resources,
                r.data
            ])
            .map_err(db_err)?;
        }
        Ok(())
    }

    fn events_query(&mut self, q: &EventQuery) -> Result<Vec<EventRow>> {
        use rolestack_core::audit::sql::{query, Arg};
        use rusqlite::types::Value as Sql;
        let (sql, args) = query(q, "?");
        let args = args.into_iter().map(|a| match a {
            Arg::Text(t) => Sql::Text(t),
            Arg::Int(i) => Sql::Integer(i),
        });
        let mut stmt = self.conn.prepare_cached(&sql).map_err(db_err)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), |r| {
                Ok(EventRow {
                    account: r.get(0)?,
                    time_ms: r.get(1)?,
                    id: r.get(2)?,
                    event_name: r.get(3)?,
                    event_rw: r.get(4)?,
                    service_name: r.get(5)?,
                    user_name: r.get(6)?,
                    access_key_id: r.get(7)?,
                    resources: r.get(8)?,
                    data: r.get(9)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(db_err)
    }

    fn events_prune(&mut self, before_ms: i64, keep: u64) -> Result<u64> {
        let aged = self.run("DELETE FROM events WHERE time_ms < ?1", params![before_ms]).map_err(db_err)?;
        let over = self
            .run(
                // The newest `keep` are kept (ties with the oldest of them too).
                "DELETE FROM events WHERE time_ms < (SELECT time_ms FROM events ORDER BY time_ms DESC LIMIT 1 OFFSET ?1)",
                params![i64::try_from(keep.max(1) - 1).unwrap_or(i64::MAX)],
            )
            .map_err(db_err)?;
        Ok((aged + over) as u64)
    }

    fn faults_insert(&mut self, f: &FaultRow) -> Result<()> {
        self.run(
            "INSERT INTO instance_faults (account, instance_id, id, created_ms, until_ms, remaining, spec) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![f.account, f.instance_id, f.id, f.created_ms, f.until_ms, f.remaining, f.spec],
        )
        .map_err(db_err)?;
        self.changed = true;
        Ok(())
    }

    fn faults_list(&mut self, account: &str, instance_id: &str) -> Result<Vec<FaultRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, created_ms, until_ms, remaining, spec FROM instance_faults WHERE account = ?1 AND instance_id = ?2 \
                 ORDER BY created_ms, id",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![account, instance_id], |r| {
                Ok(FaultRow {
                    account: account.to_string(),
                    instance_id: instance_id.to_string(),
                    id: r.get(0)?,
                    created_ms: r.get(1)?,
                    until_ms: r.get(2)?,
                    remaining: r.get(3)?,
                    spec: r.get(4)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    fn faults_delete(&mut self, account: &str, instance_id: &str, ended_at: Option<i64>) -> Result<u64> {
        let n = self
            .run(
                "DELETE FROM instance_faults WHERE account = ?1 AND instance_id = ?2 \
                 AND (?3 IS NULL OR until_ms <= ?3 OR remaining <= 0)",
                params![account, instance_id, ended_at],
            )
            .map_err(db_err)?;
        self.changed |= n > 0;
        Ok(n as u64)
    }

    fn fault_take(&mut self, account: &str, instance_id: &str, id: &str) -> Result<bool> {
        let n = self
            .run(
                "UPDATE instance_faults SET remaining = remaining - 1 WHERE account = ?1 AND instance_id = ?2 AND id = ?3 AND remaining > 0",
                params![account, instance_id, id],
            )
            .map_err(db_err)?;
        self.changed |= n == 1;
        Ok(n == 1)
    }

    fn instance_events_append(&mut self, e: &InstanceEventRow) -> Result<()> {
        self.run(
            "INSERT INTO instance_events (account, instance_id, time_ms, id, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![e.account, e.instance_id, e.time_ms, e.id, e.data],
        )
        .map_err(db_err)?;
        Ok(())
    }

    fn instance_events_list(&mut self, account: &str, instance_id: &str, limit: usize) -> Result<Vec<InstanceEventRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT time_ms, id, data FROM instance_events WHERE account = ?1 AND instance_id = ?2 \
                 ORDER BY time_ms DESC, id DESC LIMIT ?3",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![account, instance_id, limit_sql(limit)], |r| {
                Ok(InstanceEventRow {
                    account: account.to_string(),
                    instance_id: instance_id.to_string(),
                    time_ms: r.get(0)?,
                    id: r.get(1)?,
                    data: r.get(2)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    fn instance_events_delete(&mut self, account: &str, instance_id: &str) -> Result<u64> {
        let n = self
            .run("DELETE FROM instance_events WHERE account = ?1 AND instance_id = ?2", params![account, instance_id])
            .map_err(db_err)?;
        Ok(n as u64)
    }

    fn oss_objects_scan(&mut self, after: Option<(&str, &str)>, limit: usize) -> Result<Vec<(String, String, String)>> {
        let (b, k) = after.map_or((None, None), |(b, k)| (Some(b.as_bytes()), Some(k.as_bytes())));
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT bucket, key, data FROM oss_objects WHERE ?1 IS NULL OR (bucket, key) > (?1, ?2) ORDER BY bucket, key LIMIT ?3",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![b, k, limit_sql(limit)], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, String>(2)?)))
            .map_err(db_err)?;
        rows.map(|row| {
            let (bucket, key, data) = row.map_err(db_err)?;
            Ok((utf8(bucket)?, utf8(key)?, data))
        })
        .collect()
    }

    fn oss_bucket_usage(&mut self, bucket: &str) -> Result<OssBucketUsage> {
        let mut usage = OssBucketUsage::default();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT data ->> '$.storage_class' AS class, count(*), sum(data ->> '$.size') FROM ( \
                   SELECT data FROM oss_objects WHERE bucket = ?1 \
                   UNION ALL SELECT data FROM oss_object_versions WHERE bucket = ?1 AND NOT coalesce(data ->> '$.delete_marker', 0) \
                 ) GROUP BY class ORDER BY class",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![bucket.as_bytes()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))
            .map_err(db_err)?;
        for row in rows {
            let (class, count, bytes) = row.map_err(db_err)?;
            usage.classes.push((class, count.unsigned_abs(), bytes.unsigned_abs()));
        }
        let (uploads, parts, markers) = self
            .one_row(
                "SELECT (SELECT count(*) FROM oss_uploads WHERE bucket = ?1), \
                        (SELECT count(*) FROM oss_parts WHERE upload_id IN (SELECT upload_id FROM oss_uploads WHERE bucket = ?1)), \
                        (SELECT count(*) FROM oss_object_versions WHERE bucket = ?1 AND coalesce(data ->> '$.delete_marker', 0))",
                params![bucket.as_bytes()],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)),
            )
            .map_err(db_err)?;
        (usage.uploads, usage.parts, usage.delete_markers) = (uploads.unsigned_abs(), parts.unsigned_abs(), markers.unsigned_abs());
        Ok(usage)
    }

    fn oss_parts_scan(&mut self, after: Option<(&str, u32)>, limit: usize) -> Result<Vec<(String, u32, String)>> {
        let (u, n) = after.map_or((None, 0), |(u, n)| (Some(u.as_bytes()), n));
        let mut stmt = self
            .conn
            .prepare_cached("SELECT upload_id, number, data FROM oss_parts WHERE ?1 IS NULL OR (upload_id, number) > (?1, ?2) ORDER BY upload_id, number LIMIT ?3")
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![u, n, limit_sql(limit)], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, u32>(1)?, r.get::<_, String>(2)?)))
            .map_err(db_err)?;
        rows.map(|row| {
            let (upload, number, data) = row.map_err(db_err)?;
            Ok((utf8(upload)?, number, data))
        })
        .collect()
    }

    fn oss_version_put(&mut self, bucket: &str, key: &str, ord: &str, version_id: &str, data: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO oss_object_versions (bucket, key, ord, version_id, data) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (bucket, key, ord) DO UPDATE SET version_id = excluded.version_id, data = excluded.data",
            )
            .map_err(db_err)?
            .execute(params![bucket.as_bytes(), key.as_bytes(), ord, version_id, data])
            .map_err(db_err)?;
        Ok(())
    }

    fn oss_version_get(&mut self, bucket: &str, key: &str, version_id: &str) -> Result<Option<(String, String)>> {
        self.conn
            .prepare_cached("SELECT ord, data FROM oss_object_versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3")
            .map_err(db_err)?
            .query_row(params![bucket.as_bytes(), key.as_bytes(), version_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db_err)
    }

    fn oss_version_delete(&mut self, bucket: &str, key: &str, ord: &str) -> Result<Option<String>> {
        self.conn
            .prepare_cached("DELETE FROM oss_object_versions WHERE bucket = ?1 AND key = ?2 AND ord = ?3 RETURNING data")
            .map_err(db_err)?
            .query_row(params![bucket.as_bytes(), key.as_bytes(), ord], |r| r.get(0))
            .optional()
            .map_err(db_err)
    }

    fn oss_version_latest(&mut self, bucket: &str, key: &str) -> Result<Option<(String, String)>> {
        self.conn
            .prepare_cached("SELECT ord, data FROM oss_object_versions WHERE bucket = ?1 AND key = ?2 ORDER BY ord LIMIT 1")
            .map_err(db_err)?
            .query_row(params![bucket.as_bytes(), key.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db_err)
    }

    fn oss_version_list(
        &mut self,
        bucket: &str,
        prefix: &str,
        after_key: &[u8],
        after_ord: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, String, String)>> {
        let (lo, hi) = prefix_range(prefix.as_bytes(), b"");
        // `~` sorts after every `ord` (hex digits): skips the whole of `after_key`.
        let after_ord = after_ord.unwrap_or("~");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT key, ord, data FROM ( \
                   SELECT key, '' AS ord, data FROM oss_objects WHERE bucket = ?1 AND key > ?2 AND key < ?3 AND key >= ?4 \
                   UNION ALL \
                   SELECT key, ord, data FROM oss_object_versions WHERE bucket = ?1 AND key > ?2 AND key < ?3 AND key >= ?4 \
                 ) WHERE (key, ord) > (?4, ?5) ORDER BY key, ord LIMIT ?6",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![bucket.as_bytes(), lo, hi, after_key, after_ord, limit_sql(limit)], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })
            .map_err(db_err)?;
        rows.map(|row| {
            let (key, ord, data) = row.map_err(db_err)?;
            Ok((utf8(key)?, ord, data))
        })
        .collect()
    }

    fn oss_versions_scan(&mut self, after: Option<(&str, &str, &str)>, limit: usize) -> Result<Vec<(String, String, String, String)>> {
        let (b, k, o) = after.map_or((None, None, None), |(b, k, o)| (Some(b.as_bytes()), Some(k.as_bytes()), Some(o)));
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT bucket, key, ord, data FROM oss_object_versions WHERE ?1 IS NULL OR (bucket, key, ord) > (?1, ?2, ?3) \
                 ORDER BY bucket, key, ord LIMIT ?4",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![b, k, o, limit_sql(limit)], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
            })
            .map_err(db_err)?;
        rows.map(|row| {
            let (bucket, key, ord, data) = row.map_err(db_err)?;
            Ok((utf8(bucket)?, utf8(key)?, ord, data))
        })
        .collect()
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        self.run("COMMIT", []).map_err(db_err)?;
        self.done = true;
        if let (true, Some(version)) = (self.changed, self.version) {
            version.fetch_add(1, Ordering::Release);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(store: &SqliteStore, read: bool) -> Vec<String> {
        let mut tx = if read { store.begin_read() } else { store.begin() }.unwrap();
        let out = tx.list(Kind::Role, "acct", "", None, 100).unwrap();
        tx.commit().unwrap();
        out
    }

    fn write(store: &SqliteStore, f: impl FnOnce(&mut dyn Tx)) {
        let mut tx = store.begin().unwrap();
        f(&mut *tx);
        tx.commit().unwrap();
    }

    #[test]
    fn read_transactions_take_the_first_free_reader() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db")).unwrap();
        let held = |store: &SqliteStore| store.readers.iter().map(|r| r.try_lock().is_err()).collect::<Vec<_>>();
        let first_held = |k: usize| (0..READERS).map(|i| i < k).collect::<Vec<_>>();
        // One after the other: always the first reader (only its page cache warms up).
        for _ in 0..READERS * 2 {
            let _tx = store.begin_read().unwrap();
            assert_eq!(held(&store), first_held(1));
        }
        // At once: each takes the first one free.
        let first = store.begin_read().unwrap();
        let second = store.begin_read().unwrap();
        assert_eq!(held(&store), first_held(2));
        drop(first);
        let third = store.begin_read().unwrap();
        assert_eq!(held(&store), first_held(2));
        drop((second, third));
    }

    #[test]
    fn read_transactions_list_from_memory_until_a_commit_changes_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db")).unwrap();
        write(&store, |tx| assert!(tx.insert(Kind::Role, "acct", "a", "{\"n\":1}").unwrap()));
        assert_eq!(roles(&store, true), ["{\"n\":1}"]);
        // Served from memory now: the same answer, held under the current version.
        assert_eq!(store.listings.lock().by_query.len(), 1);
        assert_eq!(roles(&store, true), ["{\"n\":1}"]);
        // Every change a commit makes is seen by the next read: insert, update, delete.
        write(&store, |tx| assert!(tx.insert(Kind::Role, "acct", "b", "{\"n\":2}").unwrap()));
        assert_eq!(roles(&store, true), ["{\"n\":1}", "{\"n\":2}"]);
        write(&store, |tx| assert!(tx.update(Kind::Role, "acct", "a", "{\"n\":3}").unwrap()));
        assert_eq!(roles(&store, true), ["{\"n\":3}", "{\"n\":2}"]);
        write(&store, |tx| assert!(tx.delete(Kind::Role, "acct", "b").unwrap()));
        assert_eq!(roles(&store, true), ["{\"n\":3}"]);
        // A rolled-back write changes nothing and the listing stays.
        {
            let mut tx = store.begin().unwrap();
            tx.insert(Kind::Role, "acct", "c", "{}").unwrap();
            // A write transaction sees its own writes, never a kept listing.
            assert_eq!(tx.list(Kind::Role, "acct", "", None, 100).unwrap().len(), 2);
        }
        assert_eq!(roles(&store, true), ["{\"n\":3}"]);
        // Other arguments are other listings.
        let mut tx = store.begin_read().unwrap();
        assert_eq!(tx.list(Kind::Role, "acct", "", Some("a"), 100).unwrap(), Vec::<String>::new());
        assert_eq!(tx.list(Kind::Role, "other", "", None, 100).unwrap(), Vec::<String>::new());
        assert_eq!(tx.list(Kind::User, "acct", "", None, 100).unwrap(), Vec::<String>::new());
        assert_eq!(tx.list(Kind::Role, "acct", "A", None, 1).unwrap(), ["{\"n\":3}"]);
        drop(tx);
        assert_eq!(store.listings.lock().by_query.len(), 5);
        assert_eq!(roles(&store, false), ["{\"n\":3}"]);
        // An idle server gives them back, and reads them again when asked.
        store.release_memory();
        assert!(store.listings.lock().by_query.is_empty());
        assert_eq!(roles(&store, true), ["{\"n\":3}"]);
    }

    #[test]
    fn kept_listings_follow_the_newest_version_and_stay_bounded() {
        let cache = ListCache::default();
        let query = |limit| ListQuery { kind: "role", scope: "a".into(), prefix: String::new(), after: None, limit };
        cache.put(2, query(1), Arc::new(vec!["x".into()]));
        assert!(cache.get(2, &query(1)).is_some());
        // A transaction that began at an older version neither reads nor replaces what a newer one keeps.
        assert!(cache.get(1, &query(1)).is_none());
        cache.put(1, query(2), Arc::new(vec!["old".into()]));
        assert!(cache.get(1, &query(2)).is_none() && cache.get(2, &query(2)).is_none());
        // A newer version starts over.
        cache.put(3, query(2), Arc::new(vec!["y".into()]));
        assert!(cache.get(2, &query(1)).is_none() && cache.get(3, &query(1)).is_none());
        assert_eq!(cache.get(3, &query(2)).unwrap().as_slice(), ["y"]);
        // Bounded: a listing larger than the bound is not kept, and filling it up starts over.
        cache.put(3, query(3), Arc::new(vec!["z".repeat(ListCache::MAX_BYTES)]));
        assert!(cache.get(3, &query(3)).is_none());
        let half = || Arc::new(vec!["h".repeat(ListCache::MAX_BYTES / 2)]);
        cache.put(3, query(4), half());
        cache.put(3, query(5), half());
        assert!(cache.get(3, &query(4)).is_none() && cache.get(3, &query(5)).is_some());
        assert!(cache.lock().bytes <= ListCache::MAX_BYTES);
    }
}
