//! The PostgreSQL store: the same `Store`/`Tx` contract as the embedded SQLite store (and the same
//! conformance tests, `rolestack_core::conformance`), for deployments that keep state in a server.
//!
//! Semantics follow SQLite's exactly:
//! - **One writer at a time.** `begin` opens a READ COMMITTED transaction and takes a
//!   transaction-level advisory lock (`pg_advisory_xact_lock`) before anything else, so
//!   transactions run one after another like SQLite's `BEGIN IMMEDIATE`, across every process
//!   that shares the database and schema. Handlers read, check and write (at most five policy
//!   versions, no deleting a role that still has policies, ...) without retry loops; SERIALIZABLE
//!   would give the same guarantee only by failing transactions (40001) that the callers would
//!   then have to replay. READ COMMITTED matters: each statement sees everything committed before
//!   it, including what committed while this transaction waited for the lock (REPEATABLE READ
//!   would take its snapshot before the wait).
//! - **Names ignore ASCII case** like SQLite's `COLLATE NOCASE`: each name is stored with a
//!   `*_key` column holding it with ASCII letters lowered (folded here, not by `lower()`, which
//!   would also fold `É` under most locales), compared and ordered under `COLLATE "C"` (bytes).
//! - **OSS bucket names and object keys are `bytea`**: case-sensitive, byte-ordered, any bytes.
//! - Records are stored verbatim as `text` (not `jsonb`, which would normalise them).
//!
//! One connection behind a mutex (the lock serializes transactions anyway); a broken connection
//! is replaced on the next `begin`. Schema migrations are an ordered list, applied under the same
//! lock and recorded in `schema_migrations`. TLS is not supported (plain connections only).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};
use rolestack_core::audit::{EventQuery, EventRow};
use rolestack_core::store::{like_prefix, FaultRow, InstanceEventRow, Kind, Link, Relation, Store, Tx};
use rolestack_core::{Error, Result};

pub use postgres::Config;

/// Schema migrations, applied in order; `schema_migrations` records the versions (1-based) that ran.
/// The schema version this build writes: the number of migrations.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE records (
    kind     TEXT COLLATE "C" NOT NULL,
    scope    TEXT COLLATE "C" NOT NULL,
    name_key TEXT COLLATE "C" NOT NULL, -- the name with ASCII letters lowered (SQLite's NOCASE)
    name     TEXT NOT NULL,
    data     TEXT NOT NULL,
    PRIMARY KEY (kind, scope, name_key)
);
CREATE TABLE links (
    rel     TEXT COLLATE "C" NOT NULL,
    scope   TEXT COLLATE "C" NOT NULL,
    lhs_key TEXT COLLATE "C" NOT NULL,
    rhs_key TEXT COLLATE "C" NOT NULL,
    lhs     TEXT NOT NULL,
    rhs     TEXT NOT NULL,
    created TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (rel, scope, lhs_key, rhs_key)
);
CREATE INDEX links_by_rhs ON links (rel, scope, rhs_key);
CREATE TABLE nonces (
    access_key_id TEXT COLLATE "C" NOT NULL,
    nonce         TEXT COLLATE "C" NOT NULL,
    expires       BIGINT NOT NULL,
    PRIMARY KEY (access_key_id, nonce)
);
CREATE INDEX nonces_by_expiry ON nonces (expires);
"#,
    r#"
-- OSS: bucket names and object keys are case-sensitive and ordered byte-wise: bytea.
CREATE TABLE oss_buckets (
    name  BYTEA NOT NULL PRIMARY KEY,
    owner TEXT COLLATE "C" NOT NULL,
    data  TEXT NOT NULL
);
CREATE INDEX oss_buckets_by_owner ON oss_buckets (owner, name);
CREATE TABLE oss_objects (
    bucket BYTEA NOT NULL,
    key    BYTEA NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
);
CREATE TABLE oss_uploads (
    bucket    BYTEA NOT NULL,
    key       BYTEA NOT NULL,
    upload_id BYTEA NOT NULL,
    data      TEXT NOT NULL,
    PRIMARY KEY (bucket, key, upload_id)
);
CREATE UNIQUE INDEX oss_uploads_by_id ON oss_uploads (bucket, upload_id);
CREATE TABLE oss_parts (
    upload_id BYTEA NOT NULL,
    number    BIGINT NOT NULL,
    data      TEXT NOT NULL,
    PRIMARY KEY (upload_id, number)
);
"#,
    r#"
CREATE TABLE events (
    account       TEXT COLLATE "C" NOT NULL,
    time_ms       BIGINT NOT NULL,
    id            TEXT COLLATE "C" NOT NULL,
    event_name    TEXT COLLATE "C" NOT NULL,
    event_rw      TEXT NOT NULL,
    service_name  TEXT NOT NULL,
    user_name     TEXT COLLATE "C" NOT NULL,
    access_key_id TEXT COLLATE "C" NOT NULL,
    resources     TEXT COLLATE "C" NOT NULL,
    data          TEXT NOT NULL,
    PRIMARY KEY (account, time_ms, id)
);
CREATE INDEX events_by_time ON events (time_ms);
"#,
    r#"
-- Faults injected into instances' metadata services, and each instance's event list (core::fault).
CREATE TABLE instance_faults (
    account     TEXT COLLATE "C" NOT NULL,
    instance_id TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    created_ms  BIGINT NOT NULL,
    until_ms    BIGINT,
    remaining   BIGINT,
    spec        TEXT NOT NULL,
    PRIMARY KEY (account, instance_id, id)
);
CREATE TABLE instance_events (
    account     TEXT COLLATE "C" NOT NULL,
    instance_id TEXT COLLATE "C" NOT NULL,
    time_ms     BIGINT NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (account, instance_id, time_ms, id)
);
"#,
];

/// First key of the advisory lock (`pg_advisory_xact_lock(int4, int4)`): "rs" in ASCII. The
/// second key is a hash of the schema, so deployments in different schemas do not wait for each other.
const LOCK_CLASS: i32 = 0x7273;

pub struct PostgresStore {
    config: Config,
    conn: Mutex<Option<Conn>>,
}

struct Conn {
    client: Client,
    /// Prepared statements by their SQL text.
    statements: HashMap<&'static str, Statement>,
    /// `BEGIN ...; SELECT pg_advisory_xact_lock(...)` for this connection's schema.
    begin_sql: String,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

fn db_err(e: postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) => Error::Store(format!("postgres: {} ({})", db.message(), db.code().code())),
        None => Error::Store(format!("postgres: {e}")),
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Store(format!("postgres: unexpected {what}: {e}"))
}

/// FNV-1a: a stable 32-bit hash of the schema name (the advisory lock's second key).
fn schema_lock_key(schema: &str) -> i32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in schema.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h as i32
}

impl Conn {
    fn open(config: &Config) -> Result<Conn> {
        let mut client = config.connect(NoTls).map_err(db_err)?;
        let row = client.query_one("SELECT current_schema(), current_setting('server_encoding')", &[]).map_err(db_err)?;
        let schema: Option<String> = row.try_get(0).map_err(db_err)?;
        let encoding: String = row.try_get(1).map_err(db_err)?;
        let schema = schema
            .ok_or_else(|| Error::Store("postgres: the search_path names no existing schema to keep rolestack's tables in".into()))?;
        if encoding != "UTF8" {
            return Err(Error::Store(format!("postgres: the database's encoding is {encoding}; rolestack needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)")));
        }
        let begin_sql =
            format!("BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({LOCK_CLASS}, {})", schema_lock_key(&schema));
        Ok(Conn { client, statements: HashMap::new(), begin_sql })
    }

    /// Brings the schema up to date, in one transaction under the store's lock (so servers
    /// starting together migrate once).
    fn migrate(&mut self) -> Result<()> {
        self.client.batch_execute(&self.begin_sql).map_err(db_err)?;
        let outcome = (|| -> Result<()> {
            self.client
                .batch_execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
                .map_err(db_err)?;
            let applied: i32 =
                self.client.query_one("SELECT COALESCE(max(version), 0) FROM schema_migrations", &[]).map_err(db_err)?.get(0);
            let known = MIGRATIONS.len() as i32;
            if applied > known {
                return Err(Error::Store(format!(
                    "postgres: the database's schema is at version {applied}, newer than this rolestack knows ({known}); upgrade rolestack"
                )));
            }
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
                self.client.batch_execute(sql).map_err(db_err)?;
                self.client.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&(i as i32 + 1)]).map_err(db_err)?;
            }
            self.client.batch_execute("COMMIT").map_err(db_err)
        })();
        if outcome.is_err() {
            let _ = self.client.batch_execute("ROLLBACK");
        }
        outcome
    }

    fn statement(&mut self, sql: &'static str) -> std::result::Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    fn query(&mut self, sql: &'static str, params: Params) -> std::result::Result<Vec<Row>, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.query(&s, params)
    }

    fn query_opt(&mut self, sql: &'static str, params: Params) -> std::result::Result<Option<Row>, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.query_opt(&s, params)
    }

    fn execute(&mut self, sql: &'static str, params: Params) -> std::result::Result<u64, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.execute(&s, params)
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/db?options=...`, or libpq's
    /// `key=value` form) and brings the schema up to date. Tables go in the connection's
    /// `current_schema()` (set `options=-csearch_path%3D<schema>` to use another).
    pub fn connect(url: &str) -> Result<Self> {
        let config = Config::from_str(url).map_err(|e| Error::Store(format!("invalid PostgreSQL connection string: {e}")))?;
        Self::with_config(config)
    }

    pub fn with_config(mut config: Config) -> Result<Self> {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("rolestack");
        }
        let mut conn = Conn::open(&config)?;
        conn.migrate()?;
        Ok(PostgresStore { config, conn: Mutex::new(Some(conn)) })
    }
}

impl Store for PostgresStore {
    fn begin(&self) -> Result<Box<dyn Tx + '_>> {
        // A poisoned mutex only means another request panicked mid-call; its transaction was
        // rolled back by `Drop` (or its connection dropped and replaced below).
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        for attempt in 0..2 {
            if !matches!(guard.as_ref(), Some(c) if !c.client.is_closed()) {
                *guard = Some(Conn::open(&self.config)?);
            }
            let conn = guard.as_mut().expect("connected above");
            match conn.client.batch_execute(&conn.begin_sql) {
                Ok(()) => return Ok(Box::new(PgTx { guard, done: false, failed: false })),
                Err(e) => {
                    let lost = connection_lost(&e) || conn.client.is_closed();
                    // Never reuse a connection whose transaction state is unknown.
                    *guard = None;
                    // The server went away since the last call (restart, idle timeout): one new connection.
                    if !lost || attempt == 1 {
                        return Err(db_err(e));
                    }
                }
            }
        }
        unreachable!("the second attempt returns")
    }

    fn shared(&self) -> bool {
        true
    }
}

/// Whether an error means the connection is gone (closed, or the server is shutting it down).
fn connection_lost(e: &postgres::Error) -> bool {
    // SQLSTATE class 08: connection exception; 57P01-57P03: admin/crash shutdown, cannot connect now.
    e.is_closed() || e.as_db_error().is_some_and(|db| db.code().code().starts_with("08") || db.code().code().starts_with("57P"))
}

struct PgTx<'a> {
    guard: MutexGuard<'a, Option<Conn>>,
    done: bool,
    /// A statement failed: PostgreSQL has aborted the transaction, so it can only roll back.
    failed: bool,
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        if !self.done {
            if let Some(conn) = self.guard.as_mut() {
                if conn.client.batch_execute("ROLLBACK").is_err() {
                    // Unknown state: never hand this connection to another transaction.
                    *self.guard = None;
                }
            }
        }
    }
}

/// SQLite's NOCASE: ASCII letters folded to lower case, everything else as is.
fn fold(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The exclusive bounds `(lo, hi)` of keys that start with `prefix` and sort after `after`: no
/// UTF-8 text contains the byte `0xFF`, so `prefix ‖ 0xFF` is above every key with the prefix.
fn prefix_range(prefix: &[u8], after: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let lo = if after >= prefix {
        after.to_vec()
    } else {
        // Just below `prefix`: every key starting with it is greater.
        let mut lo = prefix.to_vec();
        if let Some(last) = lo.pop() {
            if last > 0 {
                lo.push(last - 1);
                lo.push(0xFF);
            }
        }
        lo
    };
    let mut hi = prefix.to_vec();
    hi.push(0xFF);
    (lo, hi)
}

fn limit_sql(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn column<'r, T: postgres::types::FromSql<'r>>(row: &'r Row, i: usize) -> Result<T> {
    row.try_get(i).map_err(db_err)
}

fn first_column(rows: Vec<Row>) -> Result<Vec<String>> {
    rows.iter().map(|r| column(r, 0)).collect()
}

fn key_string(key: Vec<u8>) -> Result<String> {
    String::from_utf8(key).map_err(|e| corrupt("object key that is not UTF-8", e))
}

fn link_of(row: &Row) -> Result<Link> {
    Ok(Link { left: column(row, 0)?, right: column(row, 1)?, created: column(row, 2)? })
}

impl PgTx<'_> {
    /// Runs one statement on the transaction's connection; a failure marks the transaction failed.
    fn run<T>(&mut self, f: impl FnOnce(&mut Conn) -> std::result::Result<T, postgres::Error>) -> Result<T> {
        if self.failed {
            return Err(Error::Store("postgres: the transaction was aborted by an earlier error".into()));
        }
        let conn = self.guard.as_mut().expect("a transaction holds a connection");
        f(conn).map_err(|e| {
            self.failed = true;
            db_err(e)
        })
    }

    fn query(&mut self, sql: &'static str, params: Params) -> Result<Vec<Row>> {
        self.run(|c| c.query(sql, params))
    }

    fn query_opt(&mut self, sql: &'static str, params: Params) -> Result<Option<Row>> {
        self.run(|c| c.query_opt(sql, params))
    }

    fn execute(&mut self, sql: &'static str, params: Params) -> Result<u64> {
        self.run(|c| c.execute(sql, params))
    }

    fn opt_string(&mut self, sql: &'static str, params: Params) -> Result<Option<String>> {
        self.query_opt(sql, params)?.map(|r| column(&r, 0)).transpose()
    }
}

impl Tx for PgTx<'_> {
    fn get(&mut self, kind: Kind, scope: &str, name: &str) -> Result<Option<String>> {
        self.opt_string(
            "SELECT data FROM records WHERE kind = $1 AND scope = $2 AND name_key = $3 AND (NOT $4 OR name = $5)",
            &[&kind.as_str(), &scope, &fold(name), &kind.exact_names(), &name],
        )
    }

    fn insert(&mut self, kind: Kind, scope: &str, name: &str, data: &str) -> Result<bool> {
        let n = self.execute(
            "INSERT INTO records (kind, scope, name_key, name, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[&kind.as_str(), &scope, &fold(name), &name, &data],
        )?;
        Ok(n == 1)
    }

    fn update(&mut self, kind: Kind, scope: &str, name: &str, data: &str) -> Result<bool> {
        let n = self.execute(
            "UPDATE records SET data = $4 WHERE kind = $1 AND scope = $2 AND name_key = $3 AND (NOT $5 OR name = $6)",
            &[&kind.as_str(), &scope, &fold(name), &data, &kind.exact_names(), &name],
        )?;
        Ok(n == 1)
    }

    fn delete(&mut self, kind: Kind, scope: &str, name: &str) -> Result<bool> {
        let n = self.execute(
            "DELETE FROM records WHERE kind = $1 AND scope = $2 AND name_key = $3 AND (NOT $4 OR name = $5)",
            &[&kind.as_str(), &scope, &fold(name), &kind.exact_names(), &name],
        )?;
        Ok(n == 1)
    }

    fn list(&mut self, kind: Kind, scope: &str, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        let rows = self.query(
            "SELECT data FROM records WHERE kind = $1 AND scope = $2 AND name_key LIKE $3 ESCAPE '\\' \
             AND ($4::text IS NULL OR name_key > $4::text) ORDER BY name_key LIMIT $5",
            &[&kind.as_str(), &scope, &like_prefix(&fold(prefix)), &after.map(fold), &limit_sql(limit)],
        )?;
        first_column(rows)
    }

    fn count(&mut self, kind: Kind, scope: &str, prefix: &str) -> Result<usize> {
        let row = self.query_opt(
            "SELECT COUNT(*) FROM records WHERE kind = $1 AND scope = $2 AND name_key LIKE $3 ESCAPE '\\'",
            &[&kind.as_str(), &scope, &like_prefix(&fold(prefix))],
        )?;
        let n: i64 = row.map(|r| column(&r, 0)).transpose()?.unwrap_or(0);
        Ok(n as usize)
    }

    fn link(&mut self, rel: Relation, scope: &str, left: &str, right: &str, created: &str) -> Result<bool> {
        let n = self.execute(
            "INSERT INTO links (rel, scope, lhs_key, rhs_key, lhs, rhs, created) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            &[&rel.as_str(), &scope, &fold(left), &fold(right), &left, &right, &created],
        )?;
        Ok(n == 1)
    }

    fn unlink(&mut self, rel: Relation, scope: &str, left: &str, right: &str) -> Result<bool> {
        let n = self.execute(
            "DELETE FROM links WHERE rel = $1 AND scope = $2 AND lhs_key = $3 AND rhs_key = $4",
            &[&rel.as_str(), &scope, &fold(left), &fold(right)],
        )?;
        Ok(n == 1)
    }

    fn links_from(&mut self, rel: Relation, scope: &str, left: &str) -> Result<Vec<Link>> {
        let rows = self.query(
            "SELECT lhs, rhs, created FROM links WHERE rel = $1 AND scope = $2 AND lhs_key = $3 ORDER BY created, rhs_key",
            &[&rel.as_str(), &scope, &fold(left)],
        )?;
        rows.iter().map(link_of).collect()
    }

    fn links_to(&mut self, rel: Relation, scope: &str, right: &str) -> Result<Vec<Link>> {
        let rows = self.query(
            "SELECT lhs, rhs, created FROM links WHERE rel = $1 AND scope = $2 AND rhs_key = $3 ORDER BY created, lhs_key",
            &[&rel.as_str(), &scope, &fold(right)],
        )?;
        rows.iter().map(link_of).collect()
    }

    fn use_nonce(&mut self, access_key_id: &str, nonce: &str, now: i64, expires: i64) -> Result<bool> {
        self.execute("DELETE FROM nonces WHERE expires < $1", &[&now])?;
        let n = self.execute(
            "INSERT INTO nonces (access_key_id, nonce, expires) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&access_key_id, &nonce, &expires],
        )?;
        Ok(n == 1)
    }

    fn nonces_live(&mut self, now: i64) -> Result<Vec<(String, String, i64)>> {
        let rows = self.query("SELECT access_key_id, nonce, expires FROM nonces WHERE expires >= $1", &[&now])?;
        rows.iter().map(|r| Ok((column(r, 0)?, column(r, 1)?, column(r, 2)?))).collect()
    }

    // OSS ---------------------------------------------------------------------------------

    fn oss_bucket_get(&mut self, name: &str) -> Result<Option<String>> {
        self.opt_string("SELECT data FROM oss_buckets WHERE name = $1", &[&name.as_bytes()])
    }

    fn oss_bucket_insert(&mut self, name: &str, owner: &str, data: &str) -> Result<bool> {
        let n = self.execute(
            "INSERT INTO oss_buckets (name, owner, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&name.as_bytes(), &owner, &data],
        )?;
        Ok(n == 1)
    }

    fn oss_bucket_update(&mut self, name: &str, data: &str) -> Result<bool> {
        let n = self.execute("UPDATE oss_buckets SET data = $2 WHERE name = $1", &[&name.as_bytes(), &data])?;
        Ok(n == 1)
    }

    fn oss_bucket_delete(&mut self, name: &str) -> Result<bool> {
        let n = self.execute("DELETE FROM oss_buckets WHERE name = $1", &[&name.as_bytes()])?;
        Ok(n == 1)
    }

    fn oss_bucket_list(&mut self, owner: &str, prefix: &str, after: &str, limit: usize) -> Result<Vec<String>> {
        let (lo, hi) = prefix_range(prefix.as_bytes(), after.as_bytes());
        let rows = self.query(
            "SELECT data FROM oss_buckets WHERE owner = $1 AND name > $2 AND name < $3 ORDER BY name LIMIT $4",
            &[&owner, &lo, &hi, &limit_sql(limit)],
        )?;
        first_column(rows)
    }

    fn oss_buckets_scan(&mut self, after: &str, limit: usize) -> Result<Vec<String>> {
        let rows =
            self.query("SELECT data FROM oss_buckets WHERE name > $1 ORDER BY name LIMIT $2", &[&after.as_bytes(), &limit_sql(limit)])?;
        first_column(rows)
    }

    fn oss_object_get(&mut self, bucket: &str, key: &str) -> Result<Option<String>> {
        self.opt_string("SELECT data FROM oss_objects WHERE bucket = $1 AND key = $2", &[&bucket.as_bytes(), &key.as_bytes()])
    }

    fn oss_object_put(&mut self, bucket: &str, key: &str, data: &str) -> Result<Option<String>> {
        // One round trip: `old` reads the table as it was before the upsert.
        self.opt_string(
            "WITH old AS (SELECT data FROM oss_objects WHERE bucket = $1 AND key = $2), \
             put AS (INSERT INTO oss_objects (bucket, key, data) VALUES ($1, $2, $3) \
                     ON CONFLICT (bucket, key) DO UPDATE SET data = excluded.data) \
             SELECT data FROM old",
            &[&bucket.as_bytes(), &key.as_bytes(), &data],
        )
    }

    fn oss_object_delete(&mut self, bucket: &str, key: &str) -> Result<Option<String>> {
        self.opt_string("DELETE FROM oss_objects WHERE bucket = $1 AND key = $2 RETURNING data", &[&bucket.as_bytes(), &key.as_bytes()])
    }

    fn oss_object_list(&mut self, bucket: &str, prefix: &str, after: &[u8], limit: usize) -> Result<Vec<(String, String)>> {
        let (lo, hi) = prefix_range(prefix.as_bytes(), after);
        let rows = self.query(
            "SELECT key, data FROM oss_objects WHERE bucket = $1 AND key > $2 AND key < $3 ORDER BY key LIMIT $4",
            &[&bucket.as_bytes(), &lo, &hi, &limit_sql(limit)],
        )?;
        rows.iter().map(|r| Ok((key_string(column(r, 0)?)?, column(r, 1)?))).collect()
    }

    fn oss_upload_get(&mut self, bucket: &str, upload_id: &str) -> Result<Option<String>> {
        self.opt_string("SELECT data FROM oss_uploads WHERE bucket = $1 AND upload_id = $2", &[&bucket.as_bytes(), &upload_id.as_bytes()])
    }

    fn oss_upload_insert(&mut self, bucket: &str, key: &str, upload_id: &str, data: &str) -> Result<()> {
        self.execute(
            "INSERT INTO oss_uploads (bucket, key, upload_id, data) VALUES ($1, $2, $3, $4)",
            &[&bucket.as_bytes(), &key.as_bytes(), &upload_id.as_bytes(), &data],
        )?;
        Ok(())
    }

    fn oss_upload_delete(&mut self, bucket: &str, upload_id: &str) -> Result<bool> {
        let n =
            self.execute("DELETE FROM oss_uploads WHERE bucket = $1 AND upload_id = $2", &[&bucket.as_bytes(), &upload_id.as_bytes()])?;
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
        let rows = self.query(
            "SELECT data FROM oss_uploads WHERE bucket = $1 AND key >= $2 AND key < $3 \
             AND (key > $4 OR (key = $4 AND upload_id > $5)) ORDER BY key, upload_id LIMIT $6",
            &[&bucket.as_bytes(), &lo, &hi, &key_marker.as_bytes(), &upload_id_marker.as_bytes(), &limit_sql(limit)],
        )?;
        first_column(rows)
    }

    fn oss_part_put(&mut self, upload_id: &str, number: u32, data: &str) -> Result<Option<String>> {
        self.opt_string(
            "WITH old AS (SELECT data FROM oss_parts WHERE upload_id = $1 AND number = $2), \
             put AS (INSERT INTO oss_parts (upload_id, number, data) VALUES ($1, $2, $3) \
                     ON CONFLICT (upload_id, number) DO UPDATE SET data = excluded.data) \
             SELECT data FROM old",
            &[&upload_id.as_bytes(), &i64::from(number), &data],
        )
    }

    fn oss_part_list(&mut self, upload_id: &str, after: u32, limit: usize) -> Result<Vec<String>> {
        let rows = self.query(
            "SELECT data FROM oss_parts WHERE upload_id = $1 AND number > $2 ORDER BY number LIMIT $3",
            &[&upload_id.as_bytes(), &i64::from(after), &limit_sql(limit)],
        )?;
        first_column(rows)
    }

    fn events_append(&mut self, rows: &[EventRow]) -> Result<()> {
        for r in rows {
            self.execute(
                "INSERT INTO events (account, time_ms, id, event_name, event_rw, service_name, user_name, access_key_id, resources, data) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                &[
                    &r.account,
                    &r.time_ms,
                    &r.id,
                    &r.event_name,
                    &r.event_rw,
                    &r.service_name,
                    &r.user_name,
                    &r.access_key_id,
                    &r.resources,
                    &r.data,
                ],
            )?;
        }
        Ok(())
    }

    fn events_query(&mut self, q: &EventQuery) -> Result<Vec<EventRow>> {
        use rolestack_core::audit::sql::{query, Arg};
        let (sql, args) = query(q, "$");
        let values: Vec<Box<dyn postgres::types::ToSql + Sync>> = args
            .into_iter()
            .map(|a| -> Box<dyn postgres::types::ToSql + Sync> {
                match a {
                    Arg::Text(t) => Box::new(t),
                    Arg::Int(i) => Box::new(i),
                }
            })
            .collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values.iter().map(|b| b.as_ref()).collect();
        let rows = self.run(|c| c.client.query(sql.as_str(), &refs))?;
        rows.iter()
            .map(|r| {
                Ok(EventRow {
                    account: column(r, 0)?,
                    time_ms: column(r, 1)?,
                    id: column(r, 2)?,
                    event_name: column(r, 3)?,
                    event_rw: column(r, 4)?,
                    service_name: column(r, 5)?,
                    user_name: column(r, 6)?,
                    access_key_id: column(r, 7)?,
                    resources: column(r, 8)?,
                    data: column(r, 9)?,
                })
            })
            .collect()
    }

    fn events_prune(&mut self, before_ms: i64, keep: u64) -> Result<u64> {
        let aged = self.execute("DELETE FROM events WHERE time_ms < $1", &[&before_ms])?;
        let over = self.execute(
            // The newest `keep` are kept (ties with the oldest of them too).
            "DELETE FROM events WHERE time_ms < (SELECT time_ms FROM events ORDER BY time_ms DESC LIMIT 1 OFFSET $1)",
            &[&i64::try_from(keep.max(1) - 1).unwrap_or(i64::MAX)],
        )?;
        Ok(aged + over)
    }

    fn faults_insert(&mut self, f: &FaultRow) -> Result<()> {
        self.execute(
            "INSERT INTO instance_faults (account, instance_id, id, created_ms, until_ms, remaining, spec) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&f.account, &f.instance_id, &f.id, &f.created_ms, &f.until_ms, &f.remaining, &f.spec],
        )?;
        Ok(())
    }

    fn faults_list(&mut self, account: &str, instance_id: &str) -> Result<Vec<FaultRow>> {
        let rows = self.query(
            "SELECT id, created_ms, until_ms, remaining, spec FROM instance_faults WHERE account = $1 AND instance_id = $2 \
             ORDER BY created_ms, id",
            &[&account, &instance_id],
        )?;
        rows.iter()
            .map(|r| {
                Ok(FaultRow {
                    account: account.to_string(),
                    instance_id: instance_id.to_string(),
                    id: column(r, 0)?,
                    created_ms: column(r, 1)?,
                    until_ms: column(r, 2)?,
                    remaining: column(r, 3)?,
                    spec: column(r, 4)?,
                })
            })
            .collect()
    }

    fn faults_delete(&mut self, account: &str, instance_id: &str, ended_at: Option<i64>) -> Result<u64> {
        self.execute(
            "DELETE FROM instance_faults WHERE account = $1 AND instance_id = $2 \
             AND ($3::bigint IS NULL OR until_ms <= $3::bigint OR remaining <= 0)",
            &[&account, &instance_id, &ended_at],
        )
    }

    fn fault_take(&mut self, account: &str, instance_id: &str, id: &str) -> Result<bool> {
        let n = self.execute(
            "UPDATE instance_faults SET remaining = remaining - 1 WHERE account = $1 AND instance_id = $2 AND id = $3 AND remaining > 0",
            &[&account, &instance_id, &id],
        )?;
        Ok(n == 1)
    }

    fn instance_events_append(&mut self, e: &InstanceEventRow) -> Result<()> {
        self.execute(
            "INSERT INTO instance_events (account, instance_id, time_ms, id, data) VALUES ($1, $2, $3, $4, $5)",
            &[&e.account, &e.instance_id, &e.time_ms, &e.id, &e.data],
        )?;
        Ok(())
    }

    fn instance_events_list(&mut self, account: &str, instance_id: &str, limit: usize) -> Result<Vec<InstanceEventRow>> {
        let rows = self.query(
            "SELECT time_ms, id, data FROM instance_events WHERE account = $1 AND instance_id = $2 \
             ORDER BY time_ms DESC, id DESC LIMIT $3",
            &[&account, &instance_id, &limit_sql(limit)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(InstanceEventRow {
                    account: account.to_string(),
                    instance_id: instance_id.to_string(),
                    time_ms: column(r, 0)?,
                    id: column(r, 1)?,
                    data: column(r, 2)?,
                })
            })
            .collect()
    }

    fn instance_events_delete(&mut self, account: &str, instance_id: &str) -> Result<u64> {
        self.execute("DELETE FROM instance_events WHERE account = $1 AND instance_id = $2", &[&account, &instance_id])
    }

    fn oss_objects_scan(&mut self, after: Option<(&str, &str)>, limit: usize) -> Result<Vec<(String, String, String)>> {
        let (b, k): (Option<&[u8]>, Option<&[u8]>) = after.map_or((None, None), |(b, k)| (Some(b.as_bytes()), Some(k.as_bytes())));
        let rows = self.query(
            "SELECT bucket, key, data FROM oss_objects WHERE $1::bytea IS NULL OR (bucket, key) > ($1::bytea, $2::bytea) \
             ORDER BY bucket, key LIMIT $3",
            &[&b, &k, &limit_sql(limit)],
        )?;
        rows.iter().map(|r| Ok((key_string(column(r, 0)?)?, key_string(column(r, 1)?)?, column(r, 2)?))).collect()
    }

    fn oss_parts_scan(&mut self, after: Option<(&str, u32)>, limit: usize) -> Result<Vec<(String, u32, String)>> {
        let (u, n): (Option<&[u8]>, i64) = after.map_or((None, 0), |(u, n)| (Some(u.as_bytes()), i64::from(n)));
        let rows = self.query(
            "SELECT upload_id, number, data FROM oss_parts WHERE $1::bytea IS NULL OR (upload_id, number) > ($1::bytea, $2::bigint) \
             ORDER BY upload_id, number LIMIT $3",
            &[&u, &n, &limit_sql(limit)],
        )?;
        rows.iter()
            .map(|r| {
                let number: i64 = column(r, 1)?;
                Ok((key_string(column(r, 0)?)?, u32::try_from(number).map_err(|e| corrupt("part number", e))?, column(r, 2)?))
            })
            .collect()
    }

    fn oss_parts_delete(&mut self, upload_id: &str) -> Result<Vec<String>> {
        let rows = self.query(
            "WITH gone AS (DELETE FROM oss_parts WHERE upload_id = $1 RETURNING number, data) SELECT data FROM gone ORDER BY number",
            &[&upload_id.as_bytes()],
        )?;
        first_column(rows)
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        if self.failed {
            // PostgreSQL would turn this COMMIT into a ROLLBACK; say so instead (Drop rolls back).
            return Err(Error::Store("postgres: the transaction was aborted by an earlier error and rolled back".into()));
        }
        let conn = self.guard.as_mut().expect("a transaction holds a connection");
        conn.client.batch_execute("COMMIT").map_err(db_err)?;
        self.done = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges_bound_exactly_the_prefixed_keys() {
        assert_eq!(prefix_range(b"ab", b""), (b"aa\xFF".to_vec(), b"ab\xFF".to_vec()));
        assert_eq!(prefix_range(b"a\0", b""), (b"a".to_vec(), b"a\0\xFF".to_vec()));
        assert_eq!(prefix_range(b"a", b"a/x"), (b"a/x".to_vec(), b"a\xFF".to_vec()));
        assert_eq!(prefix_range(b"", b""), (Vec::new(), b"\xFF".to_vec()));
    }

    #[test]
    fn folding_and_like_escaping() {
        assert_eq!(fold("ÉMILE_X"), "Émile_x");
        assert_eq!(like_prefix("a_b%c\\"), "a\\_b\\%c\\\\%");
        assert_ne!(schema_lock_key("public"), schema_lock_key("rs_test"));
    }
}
