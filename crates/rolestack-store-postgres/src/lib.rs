//! The PostgreSQL store: the same `Store`/`Tx` contract as the embedded SQLite store (and the same
//! conformance tests, `rolestack_core::conformance`), for deployments that keep state in a server
//! that several rolestack nodes share (docs/scale-out.md).
//!
//! - **A pool of connections** (r2d2): every request takes one for its transaction, so any number
//!   of transactions run at once, across nodes.
//! - **Writers run SERIALIZABLE**: PostgreSQL's serializable snapshot isolation gives every
//!   read-check-write of the handlers (at most five policy versions, no deleting a role that still
//!   has policies, one current credential set per instance, ...) the outcome of some serial order,
//!   without a lock that makes transactions wait for each other. A transaction that would break
//!   that order fails with SQLSTATE 40001 (or 40P01, a deadlock); it surfaces as
//!   [`Error::Conflict`] and the caller runs the whole call again (`rolestack_core::store::retry`).
//! - **Readers** (`begin_read`) run `REPEATABLE READ READ ONLY`: one snapshot, never waiting and
//!   never failing for a writer.
//! - **Migrations** are the one thing under a lock: a transaction-level advisory lock around the
//!   schema check, so nodes that start together migrate once.
//! - **Names ignore ASCII case** like SQLite's `COLLATE NOCASE`: each name is stored with a
//!   `*_key` column holding it with ASCII letters lowered (folded here, not by `lower()`, which
//!   would also fold `É` under most locales), compared and ordered under `COLLATE "C"` (bytes).
//! - **OSS bucket names and object keys are `bytea`**: case-sensitive, byte-ordered, any bytes.
//! - Records are stored verbatim as `text` (not `jsonb`, which would normalise them).
//! - **The store version** (`Store::version`, what node caches are keyed on) is a sequence that a
//!   transaction which changed records, links or instance faults advances after it committed (and once before, so
//!   a node that reads the old data and the new number in between still re-reads): every node
//!   sees every other node's change on its next request. A failed second advance is tried again
//!   on other connections before the commit returns (a node whose caches missed it would serve a
//!   revoked key until the next write anywhere).
//! - **Nonces of reads** are committed on their own without waiting for the log flush
//!   (`synchronous_commit = off`, visible to every node at once); what a database crash could
//!   lose of them is covered by the database's own restart time ([`Store::restart_epoch`]),
//!   rounded up to a whole second and learned in the round trip that spends each nonce.
//! - **TLS** (`sslmode`, `sslrootcert` in the connection string) over rustls; see [`tls`].

mod tls;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, Row, Statement};
use rolestack_core::audit::{EventQuery, EventRow};
use rolestack_core::store::{like_prefix, FaultRow, InstanceEventRow, Kind, Link, OssBucketUsage, Relation, Store, Tx};
use rolestack_core::{Error, Result};

pub use postgres::Config;
pub use tls::DatabaseTls;

/// Schema migrations, applied in order; `schema_migrations` records the versions (1-based) that ran.
/// The schema version this build writes: the number of migrations.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Connections a node keeps at most (`pool_max_size` in the connection string overrides it).
pub const DEFAULT_POOL_SIZE: u32 = 16;

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
    r#"
-- The store version: advanced by every transaction that changed records or links.
CREATE SEQUENCE store_version;
"#,
    r#"
-- OSS versioning (core::oss::versioning): noncurrent versions and delete markers. The current
-- version of a key stays in oss_objects (objects stored before stay there: the `null` version).
-- `ord` sorts the versions of a key newest first.
CREATE TABLE oss_object_versions (
    bucket     BYTEA NOT NULL,
    key        BYTEA NOT NULL,
    ord        TEXT COLLATE "C" NOT NULL,
    version_id TEXT COLLATE "C" NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (bucket, key, ord)
);
CREATE UNIQUE INDEX oss_object_versions_by_id ON oss_object_versions (bucket, key, version_id);
"#,
];

/// First key of the migration lock (`pg_advisory_xact_lock(int4, int4)`): "rs" in ASCII. The
/// second key is a hash of the schema, so deployments in different schemas do not wait for each other.
const LOCK_CLASS: i32 = 0x7273;

/// SQLSTATEs of a transaction PostgreSQL aborted so that serializable order holds: run it again.
const SERIALIZATION_FAILURE: &str = "40001";
const DEADLOCK_DETECTED: &str = "40P01";

/// Expired nonces are deleted at most this often (seconds); until then `use_nonce` reuses them.
const NONCE_PURGE_EVERY: i64 = 60;

pub struct PostgresStore {
    pool: r2d2::Pool<Manager>,
    /// The latest start of the database server any connection saw (Unix seconds).
    restart_epoch: Arc<AtomicI64>,
    /// When this node last deleted expired nonces (Unix seconds).
    nonces_purged: AtomicI64,
}

/// Opens the pool's connections.
struct Manager {
    config: Config,
    tls: DatabaseTls,
    restart_epoch: Arc<AtomicI64>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = Error;

    fn connect(&self) -> Result<Conn> {
        let conn = Conn::open(&self.config, &self.tls)?;
        self.restart_epoch.fetch_max(conn.server_started, Ordering::Relaxed);
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<()> {
        conn.client.batch_execute("").map_err(db_err)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

pub struct Conn {
    client: Client,
    /// Prepared statements by their SQL text.
    statements: HashMap<&'static str, Statement>,
    /// `BEGIN; SELECT pg_advisory_xact_lock(...)` for this connection's schema (migrations only).
    lock_sql: String,
    /// `BEGIN ISOLATION LEVEL SERIALIZABLE` with the database's own `synchronous_commit`.
    write_sql: String,
    /// When the database server started (Unix seconds, rounded up: [`start_second`]).
    server_started: i64,
    /// Its transaction state is unknown: never hand it out again.
    broken: bool,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

fn db_err(e: postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) if [SERIALIZATION_FAILURE, DEADLOCK_DETECTED].contains(&db.code().code()) => {
            Error::Conflict(format!("postgres: {} ({})", db.message(), db.code().code()))
        }
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
    fn open(config: &Config, tls: &DatabaseTls) -> Result<Conn> {
        let mut client = tls.connect(config)?;
        let row = client
            .query_one(
                "SELECT current_schema(), current_setting('server_encoding'), extract(epoch FROM pg_postmaster_start_time())::float8",
                &[],
            )
            .map_err(db_err)?;
        let schema: Option<String> = row.try_get(0).map_err(db_err)?;
        let encoding: String = row.try_get(1).map_err(db_err)?;
        let server_started = start_second(row.try_get(2).map_err(db_err)?);
        let schema = schema
            .ok_or_else(|| Error::Store("postgres: the search_path names no existing schema to keep rolestack's tables in".into()))?;
        if encoding != "UTF8" {
            return Err(Error::Store(format!("postgres: the database's encoding is {encoding}; rolestack needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)")));
        }
        let lock_sql = format!("BEGIN; SELECT pg_advisory_xact_lock({LOCK_CLASS}, {})", schema_lock_key(&schema));
        // Outside write transactions (which restore the database's own setting) commits do not
        // wait for the log flush: a read's nonce is then one round trip (see `Store::spend_nonce`).
        let durable: String = client.query_one("SHOW synchronous_commit", &[]).map_err(db_err)?.try_get(0).map_err(db_err)?;
        if !durable.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(Error::Store(format!("postgres: unexpected synchronous_commit {durable:?}")));
        }
        let write_sql = format!("BEGIN ISOLATION LEVEL SERIALIZABLE; SET LOCAL synchronous_commit TO {durable}");
        client.batch_execute("SET synchronous_commit TO off").map_err(db_err)?;
        Ok(Conn { client, statements: HashMap::new(), lock_sql, write_sql, server_started, broken: false })
    }

    /// Brings the schema up to date, in one transaction under the migration lock (so nodes
    /// starting together migrate once; the others find it done).
    fn migrate(&mut self) -> Result<()> {
        self.client.batch_execute(&self.lock_sql).map_err(db_err)?;
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

/// Takes `name=value` out of a connection string (URL query or libpq `key=value` form).
fn take_option(url: &mut String, name: &str) -> Option<String> {
    if url.contains("://") {
        let (base, query) = url.split_once('?')?;
        let mut found = None;
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| match pair.split_once('=') {
                Some((k, v)) if k == name => {
                    found = Some(percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned());
                    false
                }
                _ => true,
            })
            .collect();
        let rebuilt = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
        *url = rebuilt;
        found
    } else {
        let mut found = None;
        let kept: Vec<&str> = url
            .split_whitespace()
            .filter(|pair| match pair.split_once('=') {
                Some((k, v)) if k.trim() == name => {
                    found = Some(v.trim_matches('\'').to_string());
                    false
                }
                _ => true,
            })
            .collect();
        *url = kept.join(" ");
        found
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/db?options=...`, or libpq's
    /// `key=value` form) and brings the schema up to date. Tables go in the connection's
    /// `current_schema()` (set `options=-csearch_path%3D<schema>` to use another). Besides
    /// PostgreSQL's own options: `sslmode` (`disable`, `prefer`, `require`, `verify-ca`,
    /// `verify-full`), `sslrootcert` (a PEM file of CA certificates), `pool_max_size`.
    pub fn connect(url: &str) -> Result<Self> {
        let mut url = url.to_string();
        let sslmode = take_option(&mut url, "sslmode");
        let root_cert = take_option(&mut url, "sslrootcert");
        let pool_size = match take_option(&mut url, "pool_max_size") {
            Some(n) => n.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| Error::Store(format!("invalid pool_max_size {n}")))?,
            None => DEFAULT_POOL_SIZE,
        };
        let tls = DatabaseTls::new(sslmode.as_deref(), root_cert.as_deref())?;
        let mut config: Config = url.parse().map_err(|e| Error::Store(format!("invalid PostgreSQL connection string: {e}")))?;
        tls.configure(&mut config);
        Self::open(config, tls, pool_size)
    }

    /// A store on `config` without TLS.
    pub fn with_config(config: Config) -> Result<Self> {
        Self::open(config, DatabaseTls::Off, DEFAULT_POOL_SIZE)
    }

    fn open(mut config: Config, tls: DatabaseTls, pool_size: u32) -> Result<Self> {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("rolestack");
        }
        let restart_epoch = Arc::new(AtomicI64::new(0));
        let manager = Manager { config, tls, restart_epoch: restart_epoch.clone() };
        // The first connection migrates, and says at once when the database cannot be reached.
        let mut first = r2d2::ManageConnection::connect(&manager)?;
        first.migrate()?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            .test_on_check_out(false)
            .build(manager)
            .map_err(|e| Error::Store(format!("postgres: {e}")))?;
        Ok(PostgresStore { pool, restart_epoch, nonces_purged: AtomicI64::new(0) })
    }

    fn connection(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.pool.get().map_err(|e| Error::Store(format!("postgres: no connection: {e}")))
    }

    fn begin_with(&self, writes: bool) -> Result<Box<dyn Tx + '_>> {
        // Idle connections the server closed since (a restart, an idle timeout) are dropped one
        // by one; a fresh one is opened at the latest when the pool is through them.
        let attempts = self.pool.max_size() + 1;
        for attempt in 0..attempts {
            let mut conn = self.connection()?;
            let sql = if writes { conn.write_sql.clone() } else { READ_SQL.to_string() };
            match conn.client.batch_execute(&sql) {
                Ok(()) => {
                    let purge = writes && {
                        let now = unix_now();
                        let last = self.nonces_purged.load(Ordering::Relaxed);
                        now - last >= NONCE_PURGE_EVERY
                            && self.nonces_purged.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
                    };
                    return Ok(Box::new(PgTx { store: self, conn, done: false, failed: false, changed: false, purge_nonces: purge }));
                }
                Err(e) => {
                    // Never reuse a connection whose transaction state is unknown.
                    conn.broken = true;
                    if !connection_lost(&e) || attempt + 1 == attempts {
                        return Err(db_err(e));
                    }
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    /// Runs one statement outside a transaction on a pooled connection; idle connections the
    /// server closed since are dropped and the statement runs on the next one.
    fn autocommit<T>(&self, mut run: impl FnMut(&mut Conn) -> std::result::Result<T, postgres::Error>) -> Result<T> {
        let attempts = self.pool.max_size() + 1;
        for attempt in 0..attempts {
            let mut conn = self.connection()?;
            match run(&mut conn) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    // Outside a transaction a failed statement leaves the connection usable,
                    // unless the connection itself is what failed.
                    let lost = connection_lost(&e);
                    conn.broken = lost;
                    if !lost || attempt + 1 == attempts {
                        return Err(db_err(e));
                    }
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    /// Advances the store version (outside any transaction).
    fn advance_version(conn: &mut Conn) -> std::result::Result<(), postgres::Error> {
        conn.query_opt("SELECT nextval('store_version')", &[]).map(drop)
    }

    /// The advance after a commit failed on the transaction's own connection (`first`): other
    /// nodes may have read the new version before the commit was visible and cached the old
    /// data under it, so until the version moves again they would keep serving it (a deleted
    /// key, a detached policy). Tries again on pooled connections, a few times; if the database
    /// cannot be reached at all, says so loudly (the next write anywhere repairs it).
    fn advance_after_commit(&self, first: Error) {
        const ATTEMPTS: u32 = 3;
        let mut last = first.to_string();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(50 << attempt));
            }
            match self.pool.get_timeout(Duration::from_secs(5)) {
                Ok(mut conn) => match Self::advance_version(&mut conn) {
                    Ok(()) => return,
                    Err(e) => {
                        conn.broken = connection_lost(&e);
                        last = db_err(e).to_string();
                    }
                },
                Err(e) => last = format!("postgres: no connection: {e}"),
            }
        }
        eprintln!(
            "rolestack: ERROR: a committed change could not advance the store version ({ATTEMPTS} tries; last: {last}): \
             other nodes may serve their cached data (AccessKeys, policies, sessions) from before it until the next \
             write through any node"
        );
    }
}

/// The restart epoch of a server that started at `started` (Unix seconds with a fraction): the
/// next whole second. Timestamps are whole seconds, so one in the start's own second may have
/// been signed before the start (its nonce possibly lost): it must count as before the epoch
/// (rounding to the nearest second let such a replay through). A request signed after the start
/// in that second is refused too, and the client signs again.
fn start_second(started: f64) -> i64 {
    started.ceil() as i64
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl Store for PostgresStore {
    fn begin(&self) -> Result<Box<dyn Tx + '_>> {
        self.begin_with(true)
    }

    fn begin_read(&self) -> Result<Box<dyn Tx + '_>> {
        self.begin_with(false)
    }

    fn shared(&self) -> bool {
        true
    }

    fn version(&self) -> Option<u64> {
        let row = self.autocommit(|conn| conn.query_opt("SELECT last_value FROM store_version", &[])).ok()?;
        row.and_then(|r| r.try_get::<_, i64>(0).ok()).map(|v| v as u64)
    }

    fn spend_nonce(&self, access_key_id: &str, nonce: &str, now: i64, expires: i64) -> Result<bool> {
        // One statement in its own transaction: visible to every node once it returns, without
        // waiting for the log flush (the connection's default, see `Conn::open`). Its answer
        // carries the server's start, so the epoch a caller checks after spending is the one of
        // the server that now holds the nonce (it may have restarted and lost nonces since this
        // node last looked).
        let row = self.autocommit(|conn| conn.query_opt(SPEND_NONCE_AND_START, &[&access_key_id, &nonce, &expires, &now]))?;
        let row = row.ok_or_else(|| corrupt("nonce spend answer", "no row"))?;
        let (spent, started): (i64, f64) = (column(&row, 0)?, column(&row, 1)?);
        self.restart_epoch.fetch_max(start_second(started), Ordering::Relaxed);
        Ok(spent == 1)
    }

    fn restart_epoch(&self) -> i64 {
        self.restart_epoch.load(Ordering::Relaxed)
    }
}

/// Starts a transaction that only reads: one snapshot, never waiting for (or failing with) a writer.
const READ_SQL: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// Spends a nonce: inserted, or taken over when the stored one has expired (`$4`: now). Answers
/// `(1 when spent else 0, the server's start)` in the same round trip (for [`start_second`]).
const SPEND_NONCE_AND_START: &str = "WITH spent AS (INSERT INTO nonces (access_key_id, nonce, expires) VALUES ($1, $2, $3) \
     ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires = excluded.expires WHERE nonces.expires < $4 RETURNING 1) \
     SELECT (SELECT count(*) FROM spent), extract(epoch FROM pg_postmaster_start_time())::float8";

/// Whether an error means the connection is gone (closed, or the server is shutting it down).
fn connection_lost(e: &postgres::Error) -> bool {
    // SQLSTATE class 08: connection exception; 57P01-57P03: admin/crash shutdown, cannot connect
    // now. An error that is not the server's answer at all is the connection failing (a reset,
    // "error communicating with the server").
    e.is_closed() || e.as_db_error().is_none_or(|db| db.code().code().starts_with("08") || db.code().code().starts_with("57P"))
}

struct PgTx<'a> {
    /// For the store version's advance after the commit, retried on another connection.
    store: &'a PostgresStore,
    conn: r2d2::PooledConnection<Manager>,
    done: bool,
    /// A statement failed: PostgreSQL has aborted the transaction, so it can only roll back.
    failed: bool,
    /// Records or links changed: the commit advances the store version.
    changed: bool,
    /// This transaction deletes expired nonces (one per node per [`NONCE_PURGE_EVERY`]).
    purge_nonces: bool,
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        if !self.done && self.conn.client.batch_execute("ROLLBACK").is_err() {
            // Unknown state: never hand this connection to another transaction.
            self.conn.broken = true;
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
    /// The advance after the commit, on the transaction's own connection.
    fn second_advance(&mut self) -> Result<()> {
        #[cfg(test)]
        if tests::FAIL_SECOND_ADVANCE.with(|f| f.replace(false)) {
            return Err(Error::Store("postgres: a failure the test asked for".into()));
        }
        PostgresStore::advance_version(&mut self.conn).map_err(db_err)
    }

    /// Runs one statement on the transaction's connection; a failure marks the transaction failed.
    fn run<T>(&mut self, f: impl FnOnce(&mut Conn) -> std::result::Result<T, postgres::Error>) -> Result<T> {
        if self.failed {
            return Err(Error::Store("postgres: the transaction was aborted by an earlier error".into()));
        }
        f(&mut self.conn).map_err(|e| {
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
        self.changed |= n == 1;
        Ok(n == 1)
    }

    fn update(&mut self, kind: Kind, scope: &str, name: &str, data: &str) -> Result<bool> {
        let n = self.execute(
            "UPDATE records SET data = $4 WHERE kind = $1 AND scope = $2 AND name_key = $3 AND (NOT $5 OR name = $6)",
            &[&kind.as_str(), &scope, &fold(name), &data, &kind.exact_names(), &name],
        )?;
        self.changed |= n == 1;
        Ok(n == 1)
    }

    fn delete(&mut self, kind: Kind, scope: &str, name: &str) -> Result<bool> {
        let n = self.execute(
            "DELETE FROM records WHERE kind = $1 AND scope = $2 AND name_key = $3 AND (NOT $4 OR name = $5)",
            &[&kind.as_str(), &scope, &fold(name), &kind.exact_names(), &name],
        )?;
        self.changed |= n == 1;
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
        self.changed |= n == 1;
        Ok(n == 1)
    }

    fn unlink(&mut self, rel: Relation, scope: &str, left: &str, right: &str) -> Result<bool> {
        let n = self.execute(
            "DELETE FROM links WHERE rel = $1 AND scope = $2 AND lhs_key = $3 AND rhs_key = $4",
            &[&rel.as_str(), &scope, &fold(left), &fold(right)],
        )?;
        self.changed |= n == 1;
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
        if std::mem::take(&mut self.purge_nonces) {
            self.execute("DELETE FROM nonces WHERE expires < $1", &[&now])?;
        }
        // With the server's start, as `Store::spend_nonce` (the caller checks the epoch next).
        let row = self
            .query_opt(SPEND_NONCE_AND_START, &[&access_key_id, &nonce, &expires, &now])?
            .ok_or_else(|| corrupt("nonce spend answer", "no row"))?;
        let (spent, started): (i64, f64) = (column(&row, 0)?, column(&row, 1)?);
        self.store.restart_epoch.fetch_max(start_second(started), Ordering::Relaxed);
        Ok(spent == 1)
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
        self.changed |= n == 1; // buckets are cached by version (`rolestack_core::cache`)
        Ok(n == 1)
    }

    fn oss_bucket_update(&mut self, name: &str, data: &str) -> Result<bool> {
        let n = self.execute("UPDATE oss_buckets SET data = $2 WHERE name = $1", &[&name.as_bytes(), &data])?;
        self.changed |= n == 1; // buckets are cached by version (`rolestack_core::cache`)
        Ok(n == 1)
    }

    fn oss_bucket_delete(&mut self, name: &str) -> Result<bool> {
        let n = self.execute("DELETE FROM oss_buckets WHERE name = $1", &[&name.as_bytes()])?;
        self.changed |= n == 1; // buckets are cached by version (`rolestack_core::cache`)
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
        // Faults are kept in node memory keyed on the store version, like records.
        self.changed = true;
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
        let n = self.execute(
            "DELETE FROM instance_faults WHERE account = $1 AND instance_id = $2 \
             AND ($3::bigint IS NULL OR until_ms <= $3::bigint OR remaining <= 0)",
            &[&account, &instance_id, &ended_at],
        )?;
        self.changed |= n > 0;
        Ok(n)
    }

    fn fault_take(&mut self, account: &str, instance_id: &str, id: &str) -> Result<bool> {
        let n = self.execute(
            "UPDATE instance_faults SET remaining = remaining - 1 WHERE account = $1 AND instance_id = $2 AND id = $3 AND remaining > 0",
            &[&account, &instance_id, &id],
        )?;
        self.changed |= n == 1;
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

    fn oss_version_put(&mut self, bucket: &str, key: &str, ord: &str, version_id: &str, data: &str) -> Result<()> {
        self.execute(
            "INSERT INTO oss_object_versions (bucket, key, ord, version_id, data) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (bucket, key, ord) DO UPDATE SET version_id = excluded.version_id, data = excluded.data",
            &[&bucket.as_bytes(), &key.as_bytes(), &ord, &version_id, &data],
        )?;
        Ok(())
    }

    fn oss_version_get(&mut self, bucket: &str, key: &str, version_id: &str) -> Result<Option<(String, String)>> {
        self.query_opt(
            "SELECT ord, data FROM oss_object_versions WHERE bucket = $1 AND key = $2 AND version_id = $3",
            &[&bucket.as_bytes(), &key.as_bytes(), &version_id],
        )?
        .map(|r| Ok((column(&r, 0)?, column(&r, 1)?)))
        .transpose()
    }

    fn oss_version_delete(&mut self, bucket: &str, key: &str, ord: &str) -> Result<Option<String>> {
        self.opt_string(
            "DELETE FROM oss_object_versions WHERE bucket = $1 AND key = $2 AND ord = $3 RETURNING data",
            &[&bucket.as_bytes(), &key.as_bytes(), &ord],
        )
    }

    fn oss_version_latest(&mut self, bucket: &str, key: &str) -> Result<Option<(String, String)>> {
        self.query_opt(
            "SELECT ord, data FROM oss_object_versions WHERE bucket = $1 AND key = $2 ORDER BY ord LIMIT 1",
            &[&bucket.as_bytes(), &key.as_bytes()],
        )?
        .map(|r| Ok((column(&r, 0)?, column(&r, 1)?)))
        .transpose()
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
        let rows = self.query(
            "SELECT key, ord, data FROM ( \
               SELECT key, ''::text COLLATE \"C\" AS ord, data FROM oss_objects WHERE bucket = $1 AND key > $2 AND key < $3 AND key >= $4 \
               UNION ALL \
               SELECT key, ord, data FROM oss_object_versions WHERE bucket = $1 AND key > $2 AND key < $3 AND key >= $4 \
             ) v WHERE (key, ord) > ($4::bytea, $5::text COLLATE \"C\") ORDER BY key, ord LIMIT $6",
            &[&bucket.as_bytes(), &lo, &hi, &after_key, &after_ord, &limit_sql(limit)],
        )?;
        rows.iter().map(|r| Ok((key_string(column(r, 0)?)?, column(r, 1)?, column(r, 2)?))).collect()
    }

    fn oss_versions_scan(&mut self, after: Option<(&str, &str, &str)>, limit: usize) -> Result<Vec<(String, String, String, String)>> {
        let (b, k, o): (Option<&[u8]>, Option<&[u8]>, Option<&str>) =
            after.map_or((None, None, None), |(b, k, o)| (Some(b.as_bytes()), Some(k.as_bytes()), Some(o)));
        let rows = self.query(
            "SELECT bucket, key, ord, data FROM oss_object_versions \
             WHERE $1::bytea IS NULL OR (bucket, key, ord) > ($1::bytea, $2::bytea, $3::text COLLATE \"C\") \
             ORDER BY bucket, key, ord LIMIT $4",
            &[&b, &k, &o, &limit_sql(limit)],
        )?;
        rows.iter().map(|r| Ok((key_string(column(r, 0)?)?, key_string(column(r, 1)?)?, column(r, 2)?, column(r, 3)?))).collect()
    }

    fn oss_bucket_usage(&mut self, bucket: &str) -> Result<OssBucketUsage> {
        let mut usage = OssBucketUsage::default();
        let rows = self.query(
            "SELECT data::jsonb ->> 'storage_class' AS class, count(*), sum((data::jsonb ->> 'size')::bigint)::bigint FROM ( \
               SELECT data FROM oss_objects WHERE bucket = $1 \
               UNION ALL SELECT data FROM oss_object_versions WHERE bucket = $1 \
                 AND NOT coalesce((data::jsonb ->> 'delete_marker')::boolean, false) \
             ) v GROUP BY 1 ORDER BY 1",
            &[&bucket.as_bytes()],
        )?;
        for r in &rows {
            let (class, count, bytes): (String, i64, i64) = (column(r, 0)?, column(r, 1)?, column(r, 2)?);
            usage.classes.push((class, count.unsigned_abs(), bytes.unsigned_abs()));
        }
        let rows = self.query(
            "SELECT (SELECT count(*) FROM oss_uploads WHERE bucket = $1), \
                    (SELECT count(*) FROM oss_parts WHERE upload_id IN (SELECT upload_id FROM oss_uploads WHERE bucket = $1)), \
                    (SELECT count(*) FROM oss_object_versions WHERE bucket = $1 \
                       AND coalesce((data::jsonb ->> 'delete_marker')::boolean, false))",
            &[&bucket.as_bytes()],
        )?;
        let row = rows.first().ok_or_else(|| Error::Store("the usage query returned no row".into()))?;
        let (uploads, parts, markers): (i64, i64, i64) = (column(row, 0)?, column(row, 1)?, column(row, 2)?);
        (usage.uploads, usage.parts, usage.delete_markers) = (uploads.unsigned_abs(), parts.unsigned_abs(), markers.unsigned_abs());
        Ok(usage)
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
        let changed = self.changed;
        let conn = &mut self.conn;
        // Before and after: a node that reads the new number before the commit is visible reads
        // again after the second one (see the module docs).
        if changed {
            PostgresStore::advance_version(conn).map_err(db_err)?;
        }
        conn.client.batch_execute("COMMIT").map_err(db_err)?;
        self.done = true;
        if changed {
            if let Err(e) = self.second_advance() {
                self.conn.broken = true;
                let store = self.store;
                // Back to the pool (which discards it) first: a pool of one has no other.
                drop(self);
                store.advance_after_commit(e);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::str::FromStr;

    thread_local! {
        /// Makes this thread's next post-commit advance fail on the transaction's connection.
        pub(super) static FAIL_SECOND_ADVANCE: Cell<bool> = const { Cell::new(false) };
    }

    /// A store in a fresh schema of `ROLESTACK_TEST_POSTGRES_URL` (skipped without it, as the
    /// conformance tests are, unless CI=true), with a pool of `pool_size` connections, and an
    /// admin connection.
    fn pg_store(pool_size: u32) -> Option<(PostgresStore, postgres::Client)> {
        let url = match std::env::var("ROLESTACK_TEST_POSTGRES_URL") {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "ROLESTACK_TEST_POSTGRES_URL is not set and CI=true");
                return None;
            }
        };
        let schema = format!("rs_unit_{}", uuid::Uuid::new_v4().simple());
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        admin.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
        let mut config = Config::from_str(&url).unwrap();
        let options = format!("{} -c search_path={schema}", config.get_options().unwrap_or_default());
        config.options(options.trim());
        Some((PostgresStore::open(config, DatabaseTls::Off, pool_size).unwrap(), admin))
    }

    #[test]
    fn the_restart_epoch_is_the_second_after_the_start() {
        assert_eq!(start_second(1_700_000_000.2), 1_700_000_001, "not rounded to the nearest second");
        assert_eq!(start_second(1_700_000_000.7), 1_700_000_001);
        assert_eq!(start_second(1_700_000_000.0), 1_700_000_000, "a start on the second boundary");
    }

    /// The store's epoch (from its connections and from each nonce spent) is the database's start
    /// rounded up, so a timestamp in the start's second counts as before it.
    #[test]
    fn the_store_rounds_the_database_start_up() {
        let Some((store, mut admin)) = pg_store(2) else { return };
        let started: f64 = admin.query_one("SELECT extract(epoch FROM pg_postmaster_start_time())::float8", &[]).unwrap().get(0);
        assert_eq!(store.restart_epoch(), started.ceil() as i64, "from the connection (start {started})");
        store.restart_epoch.store(0, Ordering::Relaxed);
        assert!(store.spend_nonce("k", "n", 100, 200).unwrap());
        assert_eq!(store.restart_epoch(), started.ceil() as i64, "taught by the nonce's spend");
        assert!(!store.spend_nonce("k", "n", 150, 200).unwrap(), "spent once");
    }

    /// A commit whose second advance fails on its own connection still moves the version twice
    /// (retried on another pooled connection; a pool of one gives back the broken one first), so
    /// other nodes' caches see the change.
    #[test]
    fn a_failed_second_advance_is_retried_on_another_connection() {
        let Some((store, _admin)) = pg_store(1) else { return };
        // A fresh sequence's first nextval does not move last_value: start from a called one.
        let mut tx = store.begin().unwrap();
        assert!(tx.insert(Kind::AccessKey, "", "LTAIfirst", "{}").unwrap());
        tx.commit().unwrap();
        let before = store.version().unwrap();
        let mut tx = store.begin().unwrap();
        assert!(tx.insert(Kind::AccessKey, "", "LTAIrevoked", "{}").unwrap());
        FAIL_SECOND_ADVANCE.with(|f| f.set(true));
        tx.commit().unwrap();
        assert!(!FAIL_SECOND_ADVANCE.with(Cell::get), "the failure was injected");
        assert_eq!(store.version().unwrap(), before + 2, "advanced before the commit and, retried, after it");
    }

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
