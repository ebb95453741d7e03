//! Console sessions: a server-side table (in memory: a restart signs everyone out) keyed by a
//! random id that travels in an `HttpOnly; SameSite=Strict; Path=/console` cookie. Each session has
//! its own CSRF token, required on every POST and compared in constant time.
//!
//! A session starts anonymous (it only carries the sign-in form's CSRF token) and is replaced by a
//! new one, with a new id and token, when the person signs in (no session fixation).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::OsRng;
use rand::RngCore;
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub csrf: String,
    pub identity: Option<Identity>,
    /// Set when the user's login profile says PasswordResetRequired: only the password form works.
    pub must_reset_password: bool,
    /// When the person gave an MFA code at sign-in (`acs:MFAPresent` for the session's calls).
    pub mfa_at: Option<time::OffsetDateTime>,
    /// A sign-in whose password checked out and that waits for its MFA step (anonymous session).
    pub pending: Option<PendingSignIn>,
    /// A shorter lifetime than [`ABSOLUTE`] (the security preference's `LoginSessionDuration`).
    pub max_age: Option<Duration>,
    created: Instant,
    last_seen: Instant,
}

/// A RAM user's sign-in between the password and the MFA code.
#[derive(Debug, Clone)]
pub struct PendingSignIn {
    pub identity: Identity,
    pub must_reset_password: bool,
    /// `Some(seed)` when the user must bind a new device (MFABindRequired): the seed shown.
    pub bind_seed: Option<String>,
    pub session_hours: u32,
    pub failures: u32,
}

impl Session {
    fn expired(&self, now: Instant) -> bool {
        let absolute = self.max_age.map_or(ABSOLUTE, |m| m.min(ABSOLUTE));
        match self.identity {
            Some(_) => now.duration_since(self.last_seen) > IDLE || now.duration_since(self.created) > absolute,
            None => now.duration_since(self.last_seen) > ANONYMOUS_IDLE,
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

#[derive(Default)]
pub struct Sessions {
    table: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a session (anonymous when `identity` is `None`).
    pub fn create(&self, identity: Option<Identity>, must_reset_password: bool) -> Session {
        let now = Instant::now();
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
        let mut t = self.lock();
        if t.len() >= MAX_SESSIONS {
            t.retain(|_, v| !v.expired(now));
            if t.len() >= MAX_SESSIONS {
                let mut anonymous: Vec<(Instant, String)> =
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
        let now = Instant::now();
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
        self.lock().remove(id);
    }

    pub fn update(&self, id: &str, f: impl FnOnce(&mut Session)) {
        if let Some(s) = self.lock().get_mut(id) {
            f(s);
        }
    }

    /// Whether sign-ins for `name` are refused for now (too many recent failures): the wait left.
    pub fn locked_out(&self, name: &str) -> Option<Duration> {
        self.locked_out_after(name, MAX_FAILURES)
    }

    /// [`Sessions::locked_out`] with the account's own limit (the password policy's `MaxLoginAttemps`).
    pub fn locked_out_after(&self, name: &str, limit: u32) -> Option<Duration> {
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let key = name.to_ascii_lowercase();
        let (count, since) = *f.get(&key)?;
        let age = since.elapsed();
        if age > FAILURE_WINDOW {
            f.remove(&key);
            return None;
        }
        (count >= limit).then(|| FAILURE_WINDOW - age)
    }

    pub fn record_failure(&self, name: &str) {
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if f.len() > MAX_SESSIONS {
            f.retain(|_, (_, since)| since.elapsed() <= FAILURE_WINDOW);
        }
        let e = f.entry(name.to_ascii_lowercase()).or_insert((0, Instant::now()));
        if e.1.elapsed() > FAILURE_WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }

    pub fn clear_failures(&self, name: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&name.to_ascii_lowercase());
    }
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

/// `Set-Cookie` for a session id (`None`: delete the cookie).
pub fn set_cookie(id: Option<&str>) -> String {
    match id {
        Some(id) => format!("{COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict"),
        None => format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0"),
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
}
