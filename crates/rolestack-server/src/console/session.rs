//! Console sessions: a server-side table keyed by a random id that travels in an `HttpOnly;
//! SameSite=Strict; Path=/console` cookie. Each session has its own CSRF token, required on every
//! POST and compared in constant time. On one server the table is in memory (a restart signs
//! everyone out); on a store several nodes share it is in the store (`Kind::ConsoleSession`, and
//! the sign-in failure counters as `Kind::SignInFailures`), so a session started on one node
//! works on every node and a lockout counts the failures of all of them (docs/scale-out.md).
//!
//! The sign-in form keeps no server state: its CSRF protection is a random value in a second
//! cookie ([`FORM_COOKIE`]) and, in the form, that value sealed with the server key
//! ([`form_token`]). A server-side session is made only once a password or AccessKey checked out:
//! either signed in, or (anonymous, [`Session::pending`]) waiting for the MFA code of a sign-in.
//! So anyone may load the sign-in page as often as they like without filling the table or the
//! store, and the number of sessions is bounded by real sign-ins. Signing in always starts a
//! new session, with a new id and token (no session fixation).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use rolestack_core::seal::ServerKey;
use rolestack_core::store::{retry, Kind, Store, Tx, GLOBAL};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// The cookie that carries the session id.
pub const COOKIE: &str = "rolestack_console";
/// The cookie that carries the sign-in form's random value (see [`form_token`]).
pub const FORM_COOKIE: &str = "rolestack_signin";
/// A signed-in session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(60 * 60);
/// ... and in any case this long after sign-in.
pub const ABSOLUTE: Duration = Duration::from_secs(12 * 60 * 60);
/// An anonymous session (a sign-in waiting for its MFA code) ends after this long.
pub const ANONYMOUS_IDLE: Duration = Duration::from_secs(15 * 60);
/// At most this many sessions are kept in memory; beyond it the least recently used one goes.
/// Every session follows a correct password or AccessKey, so only people with credentials can
/// get near this, and an MFA step in progress is not treated as cheaper than a signed-in session.
const MAX_SESSIONS: usize = 20_000;
/// How often one server deletes the expired sessions of a shared store (nothing else would:
/// a session whose browser never comes back is never read again).
const SWEEP_EVERY: Duration = Duration::from_secs(5 * 60);
/// Sessions read and deleted per transaction of a sweep.
const SWEEP_PAGE: usize = 500;
/// Failed sign-ins per logon name within [`FAILURE_WINDOW`] before further tries are refused.
pub const MAX_FAILURES: u32 = 5;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Who a signed-in session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Identity {
    /// The account root, signed in with its AccessKey pair (re-checked on every call).
    Root { account_id: String, access_key_id: String },
    /// A RAM user, signed in with its console password.
    User { account_id: String, user_id: String, user_name: String, logon_name: String, password_epoch: String },
}

impl Identity {
    pub fn account_id(&self) -> &str {
        match self {
            Identity::Root { account_id, .. } | Identity::User { account_id, .. } => account_id,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub csrf: String,
    pub identity: Option<Identity>,
    /// Set when the user's login profile says PasswordResetRequired: only the password form works.
    pub must_reset_password: bool,
    /// When the person gave an MFA code at sign-in (`acs:MFAPresent` for the session's calls).
    #[serde(with = "time::serde::timestamp::option")]
    pub mfa_at: Option<time::OffsetDateTime>,
    /// A sign-in whose password checked out and that waits for its MFA step (anonymous session).
    pub pending: Option<PendingSignIn>,
    /// A shorter lifetime than [`ABSOLUTE`] (the security preference's `LoginSessionDuration`).
    pub max_age: Option<Duration>,
    /// Unix milliseconds (wall clock: nodes share sessions).
    created: u64,
    last_seen: u64,
}

/// A RAM user's sign-in between the password and the MFA code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingSignIn {
    pub identity: Identity,
    pub must_reset_password: bool,
    /// `Some(seed)` when the user must bind a new device (MFABindRequired): the seed shown.
    pub bind_seed: Option<String>,
    pub session_hours: u32,
    /// MFA codes checked so far (each counted before its check: `Sessions::update`).
    pub failures: u32,
}

impl Session {
    fn expired(&self, now: u64) -> bool {
        let absolute = self.max_age.map_or(ABSOLUTE, |m| m.min(ABSOLUTE));
        let since = |t: u64| Duration::from_millis(now.saturating_sub(t));
        match self.identity {
            Some(_) => since(self.last_seen) > IDLE || since(self.created) > absolute,
            None => since(self.last_seen) > ANONYMOUS_IDLE,
        }
    }
}

/// 32 random bytes from the OS, hex-encoded.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Constant-time string equality (length differences return early, which reveals only the length).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Unix milliseconds now.
fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A shared session is written back when touched at most this often (its idle time is an hour).
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Failed sign-ins of one name (each try counted before its check: [`Sessions::reserve_attempt`]): how many, since when (Unix milliseconds), under which
/// [`failure_key`] (so a sweep of the shared store can delete the record; empty in records
/// written before it was kept, which a sweep then stops at).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Failures {
    count: u32,
    since: u64,
    #[serde(default)]
    key: String,
}

impl Failures {
    fn over(&self, now: u64) -> bool {
        Duration::from_millis(now.saturating_sub(self.since)) > FAILURE_WINDOW
    }
}

pub struct Sessions {
    table: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, Failures>>,
    /// A store other nodes share: sessions and failures live there instead.
    shared: Option<Arc<dyn Store>>,
    /// [`MAX_SESSIONS`] (smaller in tests).
    max: usize,
    /// When this server last swept the shared store's expired sessions (Unix milliseconds).
    last_sweep: AtomicU64,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions { table: Mutex::default(), failures: Mutex::default(), shared: None, max: MAX_SESSIONS, last_sweep: AtomicU64::new(0) }
    }
}

/// Runs store IO from wherever the console is (an async handler or a blocking thread).
fn off_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

impl Sessions {
    /// Sessions kept in `store` when other nodes share it, else in memory.
    pub fn for_store(store: &Arc<dyn Store>) -> Self {
        Sessions { shared: store.shared().then(|| store.clone()), ..Sessions::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn load<T: serde::de::DeserializeOwned>(store: &dyn Store, kind: Kind, name: &str) -> Option<T> {
        let data = off_runtime(|| store.begin_read().and_then(|mut tx| tx.get(kind, GLOBAL, name)));
        match data {
            Ok(data) => data.and_then(|d| serde_json::from_str(&d).ok()),
            Err(e) => {
                tracing::error!(error = %e, "console: reading the shared session store failed");
                None
            }
        }
    }

    /// Writes (`Some`) or deletes (`None`) a record of the shared store.
    fn save<T: Serialize>(store: &dyn Store, kind: Kind, name: &str, value: Option<&T>) {
        let written = off_runtime(|| {
            retry(|| {
                let mut tx = store.begin()?;
                match value {
                    Some(v) => put_record(&mut *tx, kind, name, v)?,
                    None => {
                        tx.delete(kind, GLOBAL, name)?;
                    }
                }
                tx.commit()
            })
        });
        if let Err(e) = written {
            tracing::error!(error = %e, "console: writing the shared session store failed");
        }
    }

    /// Deletes the shared store's expired sessions and failure counts whose window has passed
    /// (a sign-in with a made-up name leaves one that nothing reads again), at most every
    /// [`SWEEP_EVERY`] on this server.
    fn sweep_shared(&self, store: &dyn Store, now: u64) {
        let last = self.last_sweep.load(Ordering::Relaxed);
        if Duration::from_millis(now.saturating_sub(last)) < SWEEP_EVERY
            || self.last_sweep.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err()
        {
            return; // (swept lately, or another request of this server is sweeping now)
        }
        let swept = off_runtime(|| -> rolestack_core::Result<usize> {
            let sessions = sweep_kind(store, Kind::ConsoleSession, |s: &Session| (s.id.as_str(), s.expired(now)))?;
            let failures = sweep_kind(store, Kind::SignInFailures, |f: &Failures| (f.key.as_str(), f.over(now)))?;
            Ok(sessions + failures)
        });
        match swept {
            Ok(n) if n > 0 => tracing::debug!(deleted = n, "console: expired shared sessions and failure counts deleted"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "console: sweeping the shared session store failed"),
        }
    }

    /// Starts a session (anonymous when `identity` is `None`: only a sign-in waiting for its MFA
    /// code, made after the password checked out).
    pub fn create(&self, identity: Option<Identity>, must_reset_password: bool) -> Session {
        let now = now_ms();
        let s = Session {
            id: random_token(),
            csrf: random_token(),
            identity,
            must_reset_password,
            mfa_at: None,
            pending: None,
            max_age: None,
            created: now,
            last_seen: now,
        };
        if let Some(store) = &self.shared {
            self.sweep_shared(store.as_ref(), now);
            Self::save(store.as_ref(), Kind::ConsoleSession, &s.id, Some(&s));
            return s;
        }
        let mut t = self.lock();
        if t.len() >= self.max {
            t.retain(|_, v| !v.expired(now));
            if t.len() >= self.max {
                let mut by_use: Vec<(u64, String)> = t.values().map(|v| (v.last_seen, v.id.clone())).collect();
                by_use.sort();
                for (_, id) in by_use.into_iter().take(t.len() + 1 - self.max) {
                    t.remove(&id);
                }
            }
        }
        t.insert(s.id.clone(), s.clone());
        s
    }

    /// The live session with this id (touching it), or `None` (an expired one is removed).
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = now_ms();
        if let Some(store) = &self.shared {
            let mut s: Session = Self::load(store.as_ref(), Kind::ConsoleSession, id)?;
            if s.expired(now) {
                Self::save::<Session>(store.as_ref(), Kind::ConsoleSession, id, None);
                return None;
            }
            if Duration::from_millis(now.saturating_sub(s.last_seen)) >= TOUCH_EVERY {
                s.last_seen = now;
                Self::save(store.as_ref(), Kind::ConsoleSession, id, Some(&s));
            }
            return Some(s);
        }
        let mut t = self.lock();
        let s = t.get_mut(id)?;
        if s.expired(now) {
            t.remove(id);
            return None;
        }
        s.last_seen = now;
        Some(s.clone())
    }

    /// Sessions in memory (tests).
    #[cfg(test)]
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    pub fn remove(&self, id: &str) {
        if let Some(store) = &self.shared {
            return Self::save::<Session>(store.as_ref(), Kind::ConsoleSession, id, None);
        }
        self.lock().remove(id);
    }

    /// Changes a live session in one step and returns what `f` returned (`None`: no such session).
    /// In memory `f` runs under the table's lock; on a shared store in one transaction, run again
    /// on a conflict, so two requests never both change the same old value (a pending sign-in's
    /// count of MFA codes is taken this way).
    pub fn update<T>(&self, id: &str, mut f: impl FnMut(&mut Session) -> T) -> Option<T> {
        if let Some(store) = &self.shared {
            let changed = off_runtime(|| {
                retry(|| {
                    let mut tx = store.begin()?;
                    let Some(mut s) = tx.get(Kind::ConsoleSession, GLOBAL, id)?.and_then(|d| serde_json::from_str::<Session>(&d).ok())
                    else {
                        return Ok(None);
                    };
                    let out = f(&mut s);
                    put_record(&mut *tx, Kind::ConsoleSession, id, &s)?;
                    tx.commit()?;
                    Ok(Some(out))
                })
            });
            return changed.unwrap_or_else(|e: rolestack_core::Error| {
                tracing::error!(error = %e, "console: writing the shared session store failed");
                None
            });
        }
        self.lock().get_mut(id).map(f)
    }

    /// Reserves one check of `name`'s credentials — a password, an AccessKey secret or an MFA
    /// code — before it is made: the check is counted as a failure, in the same step as the test
    /// against `limit` (in memory under the counters' lock; on a shared store in one transaction,
    /// run again on a conflict). So however many tries arrive at once, at most `limit` are checked
    /// per window. A try that fails stays counted; a sign-in that completes clears the count
    /// ([`Sessions::clear_failures`]). docs/console.md, "Signing in".
    pub fn reserve_attempt(&self, name: &str, limit: u32) -> Result<(), AttemptRefused> {
        let key = failure_key(name);
        let now = now_ms();
        let take = |current: Option<Failures>| -> Result<Failures, Duration> {
            let mut f = current.filter(|f| !f.over(now)).unwrap_or(Failures { count: 0, since: now, key: key.clone() });
            if f.count >= limit {
                return Err(FAILURE_WINDOW.saturating_sub(Duration::from_millis(now.saturating_sub(f.since))));
            }
            f.count += 1;
            f.key = key.clone();
            Ok(f)
        };
        let Some(store) = &self.shared else {
            let mut table = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            let next = take(table.get(&key).cloned()).map_err(AttemptRefused::LockedOut)?;
            keep_failures(&mut table, &key, next, now);
            return Ok(());
        };
        self.sweep_shared(store.as_ref(), now);
        let taken = off_runtime(|| {
            retry(|| {
                let mut tx = store.begin()?;
                let current = tx.get(Kind::SignInFailures, GLOBAL, &key)?.and_then(|d| serde_json::from_str(&d).ok());
                let next = match take(current) {
                    Ok(next) => next,
                    Err(wait) => return Ok(Err(wait)), // (nothing written: the transaction is dropped)
                };
                put_record(&mut *tx, Kind::SignInFailures, &key, &next)?;
                tx.commit()?;
                Ok(Ok(()))
            })
        });
        taken.map_err(AttemptRefused::Store)?.map_err(AttemptRefused::LockedOut)
    }

    #[cfg(test)]
    fn failures_of(&self, key: &str) -> Option<Failures> {
        match &self.shared {
            Some(store) => Self::load(store.as_ref(), Kind::SignInFailures, key),
            None => self.failures.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned(),
        }
    }

    pub fn clear_failures(&self, name: &str) {
        let key = failure_key(name);
        match &self.shared {
            Some(store) => Self::save::<Failures>(store.as_ref(), Kind::SignInFailures, &key, None),
            None => {
                self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
            }
        }
    }
}

/// Writes a record of the shared store in `tx`, over the one of that name or as a new one.
fn put_record<T: Serialize>(tx: &mut dyn Tx, kind: Kind, name: &str, value: &T) -> rolestack_core::Result<()> {
    let data = serde_json::to_string(value).map_err(|e| rolestack_core::Error::Store(e.to_string()))?;
    if !tx.update(kind, GLOBAL, name, &data)? {
        tx.insert(kind, GLOBAL, name, &data)?;
    }
    Ok(())
}

/// Keeps a failure count in memory, first dropping the counts whose window has passed when the
/// table is large (a sign-in with a made-up name leaves one that nothing reads again).
fn keep_failures(table: &mut HashMap<String, Failures>, key: &str, value: Failures, now: u64) {
    if table.len() > MAX_SESSIONS {
        table.retain(|_, v| !v.over(now));
    }
    table.insert(key.to_string(), value);
}

/// Why [`Sessions::reserve_attempt`] allowed no check.
#[derive(Debug, thiserror::Error)]
pub enum AttemptRefused {
    /// Too many failures lately: the wait left in the window.
    #[error("too many failed sign-in attempts; the window ends in {0:?}")]
    LockedOut(Duration),
    /// The shared store could not count the try (then nothing is checked).
    #[error("counting the sign-in attempt failed: {0}")]
    Store(rolestack_core::Error),
}

/// Deletes the records of `kind` that `judge` calls done (it names each record's key too), a
/// page at a time; the count deleted.
fn sweep_kind<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    kind: Kind,
    judge: impl Fn(&T) -> (&str, bool),
) -> rolestack_core::Result<usize> {
    let mut after: Option<String> = None;
    let mut deleted = 0;
    loop {
        let page = store.begin_read()?.list(kind, GLOBAL, "", after.as_deref(), SWEEP_PAGE)?;
        let records: Vec<T> = page.iter().filter_map(|d| serde_json::from_str(d).ok()).collect();
        let judged: Vec<(&str, bool)> = records.iter().map(&judge).collect();
        let done: Vec<&str> = judged.iter().filter(|(_, done)| *done).map(|(key, _)| *key).collect();
        if !done.is_empty() {
            retry(|| {
                let mut tx = store.begin()?;
                for key in &done {
                    tx.delete(kind, GLOBAL, key)?;
                }
                tx.commit()
            })?;
            deleted += done.len();
        }
        // (a record that does not parse or names no key has none to page on: stop there, sweep again later)
        match judged.last() {
            Some((last, _)) if page.len() == SWEEP_PAGE && records.len() == page.len() && !last.is_empty() => {
                after = Some(last.to_string())
            }
            _ => return Ok(deleted),
        }
    }
}

/// What failed sign-ins are counted under: the SHA-256 of the counter's name in lower case (the
/// console names the person a logon name is, or the name as typed when it is no one's:
/// `failure_counter` in the console module). A typed name is whatever a sign-in form carried (up
/// to the body limit, before anyone is authenticated), so the
/// table — and on a shared store the record name — holds a fixed 64 characters per name instead of it.
fn failure_key(name: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(name.to_ascii_lowercase().as_bytes()))
}

/// The session id from a `Cookie` header.
pub fn cookie_id(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE)
}

/// The sign-in form's random value from a `Cookie` header.
pub fn form_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie_value(headers, FORM_COOKIE)
}

/// A cookie of ours: 64 hex digits ([`random_token`]), anything else is ignored.
fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// What [`ServerKey::seal`] binds a sign-in form token to.
const FORM_PURPOSE: &str = "rolestack console sign-in form";

/// The sign-in form's CSRF token for the random value `nonce` of the browser's [`FORM_COOKIE`]:
/// the value sealed (AES-GCM, so authenticated) with the server key, hex-encoded. A cross-site
/// page can neither read the cookie nor make a token for a value it planted without the key,
/// every server of a shared store checks it alike (they share the key), and nothing is stored.
pub fn form_token(key: &ServerKey, nonce: &str) -> String {
    let sealed = key.seal(FORM_PURPOSE, nonce.as_bytes());
    // (hex, like every other token of the console's forms)
    URL_SAFE_NO_PAD.decode(sealed).map(hex::encode).unwrap_or_default()
}

/// Whether `token` is [`form_token`] of `nonce` (any of them: each page load seals anew).
pub fn form_token_ok(key: &ServerKey, nonce: &str, token: &str) -> bool {
    let Ok(raw) = hex::decode(token) else { return false };
    key.open(FORM_PURPOSE, &URL_SAFE_NO_PAD.encode(raw)).is_ok_and(|v| v.ct_eq(nonce.as_bytes()).into())
}

/// `Set-Cookie` for a session id (`None`: delete the cookie). `secure` (the request came over TLS)
/// adds `Secure`, so the browser never sends the id back over plain HTTP; over plain HTTP the
/// attribute is left out, or `http://127.0.0.1` could not keep a session.
pub fn set_cookie(id: Option<&str>, secure: bool) -> String {
    set_named_cookie(COOKIE, id, secure)
}

/// `Set-Cookie` for the sign-in form's random value (`None`: delete it), like [`set_cookie`].
pub fn set_form_cookie(nonce: Option<&str>, secure: bool) -> String {
    set_named_cookie(FORM_COOKIE, nonce, secure)
}

fn set_named_cookie(name: &str, value: Option<&str>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match value {
        Some(v) => format!("{name}={v}; Path=/console; HttpOnly; SameSite=Strict{secure}"),
        None => format!("{name}=; Path=/console; HttpOnly; SameSite=Strict{secure}; Max-Age=0"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_and_tokens() {
        let s = Sessions::default();
        let a = s.create(None, false);
        assert_eq!(a.id.len(), 64);
        assert_ne!(a.id, a.csrf);
        assert!(s.get(&a.id).is_some());
        s.remove(&a.id);
        assert!(s.get(&a.id).is_none());
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }

    #[test]
    fn form_tokens() {
        let key = ServerKey::from_bytes(&ServerKey::generate());
        let (a, b) = (random_token(), random_token());
        let t = form_token(&key, &a);
        assert!(t.bytes().all(|c| c.is_ascii_hexdigit()), "{t}");
        assert!(form_token_ok(&key, &a, &t));
        assert!(form_token_ok(&key, &a, &form_token(&key, &a)), "every page load's token is good");
        assert!(!form_token_ok(&key, &b, &t), "another browser's value");
        assert!(!form_token_ok(&ServerKey::from_bytes(&ServerKey::generate()), &a, &t), "another key");
        assert!(!form_token_ok(&key, &a, ""));
        assert!(!form_token_ok(&key, &a, &a), "the cookie's value itself");
        assert!(!form_token_ok(&key, &a, "zz"));
    }

    fn user(n: usize) -> Identity {
        Identity::User {
            account_id: "1".into(),
            user_id: n.to_string(),
            user_name: format!("u{n}"),
            logon_name: format!("u{n}@1"),
            password_epoch: "e".into(),
        }
    }

    /// At the cap the least recently used session goes, whatever it is: a sign-in waiting for its
    /// MFA code that is in use is kept (it used to be the first to go, being identity-less).
    #[test]
    fn a_full_table_drops_the_least_recently_used() {
        let s = Sessions { max: 3, ..Sessions::default() };
        let pending = s.create(None, false);
        s.update(&pending.id, |p| {
            p.pending =
                Some(PendingSignIn { identity: user(0), must_reset_password: false, bind_seed: None, session_hours: 1, failures: 0 });
            p.last_seen += 10; // (used after the others were made)
        });
        let a = s.create(Some(user(1)), false);
        let b = s.create(Some(user(2)), false);
        s.update(&a.id, |x| x.last_seen -= 10);
        let c = s.create(Some(user(3)), false);
        assert_eq!(s.count(), 3);
        assert!(s.get(&pending.id).is_some_and(|p| p.pending.is_some()));
        assert!(s.get(&a.id).is_none(), "the least recently used");
        assert!(s.get(&b.id).is_some() && s.get(&c.id).is_some());
    }

    /// A store several servers share: the same store, saying so.
    struct Shared(rolestack_store_sqlite::SqliteStore);
    impl Store for Shared {
        fn begin(&self) -> rolestack_core::Result<Box<dyn rolestack_core::store::Tx + '_>> {
            self.0.begin()
        }
        fn shared(&self) -> bool {
            true
        }
    }

    /// Expired sessions are deleted from a shared store (nothing else reads a session whose
    /// browser never comes back), live ones are kept.
    #[test]
    fn expired_shared_sessions_are_swept() {
        let store: Arc<dyn Store> = Arc::new(Shared(rolestack_store_sqlite::SqliteStore::in_memory().unwrap()));
        let s = Sessions::for_store(&store);
        let count = || store.begin().unwrap().count(Kind::ConsoleSession, GLOBAL, "").unwrap();
        let old: Vec<Session> = (0..SWEEP_PAGE + 3).map(|_| s.create(None, false)).collect();
        let live = s.create(Some(user(1)), false);
        let hour_ago = now_ms() - 2 * ANONYMOUS_IDLE.as_millis() as u64;
        for o in &old {
            s.update(&o.id, |x| x.last_seen = hour_ago);
        }
        assert_eq!(count(), SWEEP_PAGE + 4);
        s.create(None, false); // (swept lately: nothing goes)
        assert_eq!(count(), SWEEP_PAGE + 5);
        s.last_sweep.store(0, Ordering::Relaxed);
        let new = s.create(None, false);
        assert_eq!(count(), 3, "the live, the unswept new one and this one");
        assert!(s.get(&live.id).is_some() && s.get(&new.id).is_some());
    }

    /// Failure counts whose window has passed are deleted from a shared store too (a sign-in with
    /// a made-up name leaves one nobody reads again); counts still in their window stay.
    #[test]
    fn stale_shared_failure_counts_are_swept() {
        let store: Arc<dyn Store> = Arc::new(Shared(rolestack_store_sqlite::SqliteStore::in_memory().unwrap()));
        let s = Sessions::for_store(&store);
        let count = || store.begin().unwrap().count(Kind::SignInFailures, GLOBAL, "").unwrap();
        let names: Vec<String> = (0..SWEEP_PAGE + 3).map(|i| format!("nobody{i}")).collect();
        for name in &names {
            s.reserve_attempt(name, MAX_FAILURES).unwrap();
        }
        assert_eq!(count(), SWEEP_PAGE + 3);
        let stale = now_ms() - FAILURE_WINDOW.as_millis() as u64 - 1_000;
        for name in &names {
            let key = failure_key(name);
            let f = Failures { since: stale, ..s.failures_of(&key).unwrap() };
            Sessions::save(store.as_ref(), Kind::SignInFailures, &key, Some(&f));
        }
        s.reserve_attempt("recent", MAX_FAILURES).unwrap(); // (swept lately: nothing goes)
        assert_eq!(count(), SWEEP_PAGE + 4);
        s.last_sweep.store(0, Ordering::Relaxed);
        s.reserve_attempt("another", MAX_FAILURES).unwrap();
        assert_eq!(count(), 2, "the two in their window");
        assert_eq!(s.failures_of(&failure_key("recent")).map(|f| f.count), Some(1));
    }

    #[test]
    fn lockout_after_failures() {
        let s = Sessions::default();
        for _ in 0..MAX_FAILURES {
            assert!(s.reserve_attempt("Alice@corp", MAX_FAILURES).is_ok());
        }
        assert!(matches!(s.reserve_attempt("ALICE@corp", MAX_FAILURES), Err(AttemptRefused::LockedOut(w)) if w <= FAILURE_WINDOW));
        s.clear_failures("alice@corp");
        assert!(s.reserve_attempt("alice@corp", MAX_FAILURES).is_ok());
        // A name of any length is kept as a fixed-size key.
        let long = "x".repeat(1 << 20);
        s.reserve_attempt(&long, MAX_FAILURES).unwrap();
        let keys: Vec<String> = s.failures.lock().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 2);
        assert!(keys.iter().all(|k| k.len() == 64));
    }

    /// Tries that arrive at once are counted before any is checked: of many threads reserving a
    /// check of one name, at most the limit get one — in memory and on a shared store (they used
    /// to be tested first and counted after the slow check, so all of them were checked).
    #[test]
    fn parallel_tries_reserve_at_most_the_limit() {
        let shared: Arc<dyn Store> = Arc::new(Shared(rolestack_store_sqlite::SqliteStore::in_memory().unwrap()));
        for sessions in [Arc::new(Sessions::default()), Arc::new(Sessions::for_store(&shared))] {
            let limit = 3;
            let barrier = Arc::new(std::sync::Barrier::new(24));
            let threads: Vec<_> = (0..24)
                .map(|_| {
                    let (sessions, barrier) = (sessions.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        sessions.reserve_attempt("bob@corp", limit).is_ok()
                    })
                })
                .collect();
            let granted = threads.into_iter().map(|t| t.join().unwrap()).filter(|ok| *ok).count();
            assert_eq!(granted, limit as usize);
        }
    }

    /// A pending sign-in's count of MFA codes is taken in one step, also on a shared store.
    #[test]
    fn parallel_updates_of_a_shared_session_all_count() {
        let store: Arc<dyn Store> = Arc::new(Shared(rolestack_store_sqlite::SqliteStore::in_memory().unwrap()));
        let sessions = Arc::new(Sessions::for_store(&store));
        let id = sessions.create(None, false).id;
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (sessions, id) = (sessions.clone(), id.clone());
                std::thread::spawn(move || sessions.update(&id, |s| s.last_seen += 1))
            })
            .collect();
        threads.into_iter().for_each(|t| assert!(t.join().unwrap().is_some()));
        let created = sessions.get(&id).unwrap().created;
        assert_eq!(sessions.get(&id).unwrap().last_seen, created + 16);
    }

    #[test]
    fn cookie_parsing() {
        let mut h = axum::http::HeaderMap::new();
        let id = "a".repeat(64);
        h.insert(axum::http::header::COOKIE, format!("x=1; {COOKIE}={id}; y=2").parse().unwrap());
        assert_eq!(cookie_id(&h).as_deref(), Some(id.as_str()));
        h.insert(axum::http::header::COOKIE, format!("{COOKIE}=../../etc").parse().unwrap());
        assert_eq!(cookie_id(&h), None);
    }

    #[test]
    fn secure_only_over_tls() {
        assert_eq!(set_cookie(Some("ab"), false), format!("{COOKIE}=ab; Path=/console; HttpOnly; SameSite=Strict"));
        assert_eq!(set_cookie(Some("ab"), true), format!("{COOKIE}=ab; Path=/console; HttpOnly; SameSite=Strict; Secure"));
        assert!(set_cookie(None, true).ends_with("; Secure; Max-Age=0"));
    }
}
