//! Console sessions: a server-side table keyed by a random id that travels in an `HttpOnly;
//! SameSite=Strict; Path=/console` cookie. Each session has its own CSRF token, required on every
//! POST and compared in constant time. On one server the table is in memory (a restart signs
//! everyone out); on a store several nodes share it is in the store (`Kind::ConsoleSession`, and
//! the sign-in failure counters as `Kind::SignInFailures`), so a session started on one node
//! works on every node and a lockout counts the failures of all of them (docs/scale-out.md).
//!
//! A session starts anonymous (it only carries the sign-in form's CSRF token) and is replaced by a
//! new one, with a new id and token, when the person signs in (no session fixation).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::rngs::OsRng;
use rand::RngCore;
use rolestack_core::store::{retry, Kind, Store, GLOBAL};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// The cookie that carries the session id.
pub const COOKIE: &str = "rolestack_console";
/// A signed-in session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(60 * 60);
/// ... and in any case this long after sign-in.
pub const ABSOLUTE: Duration = Duration::from_secs(12 * 60 * 60);
/// An anonymous (sign-in form) session ends after this long.
pub const ANONYMOUS_IDLE: Duration = Duration::from_secs(15 * 60);
/// At most this many sessions are kept; beyond it the oldest anonymous ones go first.
const MAX_SESSIONS: usize = 20_000;
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

/// Failed sign-ins of one name: how many, since when (Unix milliseconds).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Failures {
    count: u32,
    since: u64,
}

#[derive(Default)]
pub struct Sessions {
    table: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, Failures>>,
    /// A store other nodes share: sessions and failures live there instead.
    shared: Option<Arc<dyn Store>>,
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
        let data = value.map(|v| serde_json::to_string(v).unwrap_or_default());
        let written = off_runtime(|| {
            retry(|| {
                let mut tx = store.begin()?;
                match &data {
                    Some(d) => {
                        if !tx.update(kind, GLOBAL, name, d)? {
                            tx.insert(kind, GLOBAL, name, d)?;
                        }
                    }
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

    /// Starts a session (anonymous when `identity` is `None`).
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
            Self::save(store.as_ref(), Kind::ConsoleSession, &s.id, Some(&s));
            return s;
        }
        let mut t = self.lock();
        if t.len() >= MAX_SESSIONS {
            t.retain(|_, v| !v.expired(now));
            if t.len() >= MAX_SESSIONS {
                let mut anonymous: Vec<(u64, String)> =
                    t.values().filter(|v| v.identity.is_none()).map(|v| (v.last_seen, v.id.clone())).collect();
                anonymous.sort();
                for (_, id) in anonymous.into_iter().take(t.len() + 1 - MAX_SESSIONS) {
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

    pub fn remove(&self, id: &str) {
        if let Some(store) = &self.shared {
            return Self::save::<Session>(store.as_ref(), Kind::ConsoleSession, id, None);
        }
        self.lock().remove(id);
    }

    pub fn update(&self, id: &str, f: impl FnOnce(&mut Session)) {
        if let Some(store) = &self.shared {
            if let Some(mut s) = Self::load::<Session>(store.as_ref(), Kind::ConsoleSession, id) {
                f(&mut s);
                Self::save(store.as_ref(), Kind::ConsoleSession, id, Some(&s));
            }
            return;
        }
        if let Some(s) = self.lock().get_mut(id) {
            f(s);
        }
    }

    /// Whether sign-ins for `name` are refused for now (too many recent failures): the wait left.
    pub fn locked_out(&self, name: &str) -> Option<Duration> {
        self.locked_out_after(name, MAX_FAILURES)
    }

    fn failures_of(&self, key: &str) -> Option<Failures> {
        match &self.shared {
            Some(store) => Self::load(store.as_ref(), Kind::SignInFailures, key),
            None => self.failures.lock().unwrap_or_else(|e| e.into_inner()).get(key).copied(),
        }
    }

    fn set_failures(&self, key: &str, value: Option<Failures>) {
        match &self.shared {
            Some(store) => Self::save(store.as_ref(), Kind::SignInFailures, key, value.as_ref()),
            None => {
                let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
                match value {
                    Some(v) => {
                        if f.len() > MAX_SESSIONS {
                            let now = now_ms();
                            f.retain(|_, v| Duration::from_millis(now.saturating_sub(v.since)) <= FAILURE_WINDOW);
                        }
                        f.insert(key.to_string(), v);
                    }
                    None => {
                        f.remove(key);
                    }
                }
            }
        }
    }

    /// [`Sessions::locked_out`] with the account's own limit (the password policy's `MaxLoginAttemps`).
    pub fn locked_out_after(&self, name: &str, limit: u32) -> Option<Duration> {
        let key = failure_key(name);
        let f = self.failures_of(&key)?;
        let age = Duration::from_millis(now_ms().saturating_sub(f.since));
        if age > FAILURE_WINDOW {
            self.set_failures(&key, None);
            return None;
        }
        (f.count >= limit).then(|| FAILURE_WINDOW - age)
    }

    pub fn record_failure(&self, name: &str) {
        let key = failure_key(name);
        let now = now_ms();
        // A shared counter is read and written in two transactions: failures that land at the
        // same instant on two nodes may count once, which only delays a lockout by a try.
        let mut f = self.failures_of(&key).unwrap_or(Failures { count: 0, since: now });
        if Duration::from_millis(now.saturating_sub(f.since)) > FAILURE_WINDOW {
            f = Failures { count: 0, since: now };
        }
        f.count += 1;
        self.set_failures(&key, Some(f));
    }

    pub fn clear_failures(&self, name: &str) {
        self.set_failures(&failure_key(name), None);
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
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `Set-Cookie` for a session id (`None`: delete the cookie). `secure` (the request came over TLS)
/// adds `Secure`, so the browser never sends the id back over plain HTTP; over plain HTTP the
/// attribute is left out, or `http://127.0.0.1` could not keep a session.
pub fn set_cookie(id: Option<&str>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match id {
        Some(id) => format!("{COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict{secure}"),
        None => format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict{secure}; Max-Age=0"),
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
    fn lockout_after_failures() {
        let s = Sessions::default();
        for _ in 0..MAX_FAILURES {
            assert!(s.locked_out("Alice@corp").is_none());
            s.record_failure("alice@corp");
        }
        assert!(s.locked_out("ALICE@corp").is_some());
        s.clear_failures("alice@corp");
        assert!(s.locked_out("alice@corp").is_none());
        // A name of any length is kept as a fixed-size key.
        let long = "x".repeat(1 << 20);
        s.record_failure(&long);
        let keys: Vec<String> = s.failures.lock().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].len(), 64);
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
