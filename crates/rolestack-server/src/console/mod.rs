//! The web console at `/console/`: sign-in and sessions, the static single-page app (embedded in
//! the binary; it loads nothing from anywhere else), and the JSON bridge
//! `POST /console/api/{product}/{Action}` through which the app does everything. The bridge builds
//! a [`Caller`] from the session's principal and runs the catalogued action with
//! [`Rolestack::call`] — the same authorization, handlers and store as the SDKs, so the console is
//! not a second source of truth and a RAM user sees RAM's own `NoPermission`.
//!
//! Security properties (see docs/console.md): sessions are server-side with random ids in an
//! `HttpOnly; SameSite=Strict; Path=/console` cookie (`Secure` over TLS), 1 h idle / 12 h absolute
//! expiry, a new id at sign-in; every POST needs the session's CSRF token (header `X-CSRF-Token` or
//! form field `csrf_token`, compared in constant time) and a same-origin `Origin` when the browser
//! sends one; responses carry a strict Content-Security-Policy and `no-store`.

pub mod assets;
pub mod session;
pub mod trail;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rolestack_core::audit::{self, CallRecord, EventType};
use rolestack_core::caller::{Caller, Principal, RequestFacts};
use rolestack_core::catalog::{self, Product};
use rolestack_core::params::Params;
use rolestack_core::ram::login_profiles::{self, MfaStep};
use rolestack_core::service::Rolestack;
use rolestack_core::{ids, Error};
use serde_json::{json, Value};

use crate::rpc::render::{self, Format};
use session::{Identity, Session, Sessions};
use trail::{PageEvent, Visit};

/// The console's state: the core and the session table.
#[derive(Clone)]
pub struct Console {
    pub rs: Rolestack,
    pub sessions: Arc<Sessions>,
}

/// Largest bridge request body.
const MAX_BODY: usize = 1 << 20;

/// The console's routes, with full paths (merge them into the app).
pub fn router<S>(rs: Rolestack) -> Router<S> {
    let sessions = Arc::new(Sessions::for_store(&rs.store));
    routes(Console { rs, sessions })
}

fn routes<S>(state: Console) -> Router<S> {
    Router::new()
        .route("/console", get(|| async { redirect("/console/") }))
        .route("/console/", get(index))
        .route("/console/signin", get(signin_page).post(signin))
        .route("/console/signout", post(signout))
        .route("/console/password", get(password_page).post(change_password))
        .route("/console/mfa", get(mfa_page).post(mfa_submit))
        .route("/console/api/session", get(session_info))
        .route("/console/api/:product/:action", post(bridge))
        .route("/console/static/:file", get(asset))
        .route("/console/*rest", get(not_found))
        .layer(middleware::map_response(security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), api_passthrough))
        .layer(middleware::from_fn(host_from_authority))
        .with_state(state)
}

/// HTTP/2 (what browsers speak over TLS) carries the host in the `:authority` pseudo-header, not
/// in `Host`; the origin check of every POST compares `Origin` with `Host`, so a request without
/// `Host` gets it from its authority (without this, every console POST over HTTPS was refused).
async fn host_from_authority(mut req: Request, next: Next) -> Response {
    if !req.headers().contains_key(header::HOST) {
        if let Some(v) = req.uri().authority().and_then(|a| HeaderValue::from_str(a.as_str()).ok()) {
            req.headers_mut().insert(header::HOST, v);
        }
    }
    next.run(req).await
}

/// A request under `/console` that is really an API call (an OSS path-style request to a bucket
/// named `console`, or an RPC call) goes to the API front door, not to the console.
async fn api_passthrough(State(c): State<Console>, req: Request, next: Next) -> Response {
    let h = req.headers();
    let signed_header =
        h.contains_key(header::AUTHORIZATION) || h.keys().any(|k| k.as_str().starts_with("x-oss-") || k.as_str().starts_with("x-acs-"));
    let signed_query = req.uri().query().is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "Action" || k == "OSSAccessKeyId" || k.starts_with("x-oss-"))
    });
    if signed_header || signed_query {
        let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0).unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        return crate::dispatch(c.rs, peer, req).await;
    }
    next.run(req).await
}

async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    // (not no-referrer: with it browsers send `Origin: null` on form posts, which the origin check refuses)
    set(h, "referrer-policy", "same-origin");
    set(h, "cache-control", "no-store");
    res
}

fn redirect(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

/// How a request arrived: over a TLS listener or plain HTTP (no extension: plain).
type Arrival = Option<axum::Extension<crate::connections::Transport>>;

fn over_tls(arrival: &Arrival) -> bool {
    arrival.as_ref().is_some_and(|t| t.0.is_secure())
}

/// Sets (`Some`) or deletes (`None`) the session cookie; `Secure` when the request came over TLS.
fn with_cookie(mut res: Response, id: Option<&str>, arrival: &Arrival) -> Response {
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie(id, over_tls(arrival))) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn html(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], body.to_string()).into_response()
}

/// The bridge's own errors (not the API's): same body shape as an API error.
fn console_error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(status, json!({ "RequestId": ids::request_id(), "Code": code, "Message": message }))
}

fn current(c: &Console, headers: &HeaderMap) -> Option<Session> {
    session::cookie_id(headers).and_then(|id| c.sessions.get(&id))
}

/// The `Origin` a browser sends with a POST must be this server (defence in depth beside the
/// CSRF token and SameSite=Strict).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

fn csrf_ok(s: &Session, headers: &HeaderMap, form_token: Option<&str>) -> bool {
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).or(form_token);
    same_origin(headers) && token.is_some_and(|t| session::same(t, &s.csrf))
}

fn forbidden_page() -> Response {
    html(
        StatusCode::FORBIDDEN,
        assets::page(
            "Request refused",
            "<main class=\"signin\"><div class=\"card\"><h1>Request refused</h1><p role=\"alert\">The form was missing its security token or came from another site (CSRF protection). Reload the page and try again.</p><p><a href=\"/console/signin\">Back to sign-in</a></p></div></main>",
        ),
    )
}

fn form(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn field<'a>(f: &'a [(String, String)], name: &str) -> Option<&'a str> {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

// --- pages -----------------------------------------------------------------------------

async fn index(State(c): State<Console>, headers: HeaderMap) -> Response {
    match current(&c, &headers) {
        Some(s) if s.must_reset_password => redirect("/console/password"),
        Some(s) if s.identity.is_some() => html(StatusCode::OK, assets::INDEX_HTML.to_string()),
        _ => redirect("/console/signin"),
    }
}

async fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        assets::page("Not found", "<main class=\"signin\"><div class=\"card\"><h1>Page not found</h1><p><a href=\"/console/\">Go to the console</a></p></div></main>"),
    )
}

async fn asset(Path(file): Path<String>) -> Response {
    match assets::get(&file) {
        Some((mime, bytes)) => ([(header::CONTENT_TYPE, mime)], bytes).into_response(),
        None => not_found().await,
    }
}

/// Sets (`Some`) or deletes (`None`) the sign-in form's cookie, like [`with_cookie`].
fn with_form_cookie(mut res: Response, nonce: Option<&str>, arrival: &Arrival) -> Response {
    if let Ok(v) = HeaderValue::from_str(&session::set_form_cookie(nonce, over_tls(arrival))) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The sign-in form. It starts no session: its token is the browser's form cookie sealed with the
/// server key (`session::form_token`), so loading it any number of times stores nothing.
async fn signin_page(State(c): State<Console>, arrival: Arrival, headers: HeaderMap) -> Response {
    if let Some(s) = current(&c, &headers) {
        if s.identity.is_some() {
            return redirect("/console/");
        }
    }
    let (nonce, fresh) = match session::form_cookie(&headers) {
        Some(n) => (n, false),
        None => (session::random_token(), true),
    };
    let res = html(StatusCode::OK, assets::signin_page(&session::form_token(&c.rs.key, &nonce), None, "", ""));
    if fresh {
        with_form_cookie(res, Some(&nonce), &arrival)
    } else {
        res
    }
}

async fn signin(
    State(c): State<Console>,
    peer: Option<ConnectInfo<SocketAddr>>,
    arrival: Arrival,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let Some(nonce) = session::form_cookie(&headers) else {
        // No sign-in form was served to this browser (or its cookie is gone): start over.
        return redirect("/console/signin");
    };
    let token = field(&f, "csrf_token").unwrap_or("").to_string();
    if !same_origin(&headers) || !session::form_token_ok(&c.rs.key, &nonce, &token) {
        return forbidden_page();
    }
    let kind = field(&f, "kind").unwrap_or("");
    let (name, secret) = match kind {
        "root" => (field(&f, "access_key_id").unwrap_or("").trim().to_string(), field(&f, "access_key_secret").unwrap_or("").to_string()),
        _ => (field(&f, "login").unwrap_or("").trim().to_string(), field(&f, "password").unwrap_or("").to_string()),
    };
    let again = |status: StatusCode, message: &str| {
        let (login, akid) = if kind == "root" { ("", name.as_str()) } else { (name.as_str(), "") };
        html(status, assets::signin_page(&token, Some(message), login, akid))
    };
    let rs = c.rs.clone();
    let sessions = c.sessions.clone();
    let (kind_owned, name_owned) = (kind.to_string(), name.clone());
    let visit = Visit::of(&headers, peer.map(|p| p.0));
    let outcome = tokio::task::spawn_blocking(move || {
        let limit = match kind_owned.as_str() {
            "user" => attempt_limit(&rs, &name_owned),
            _ => session::MAX_FAILURES,
        };
        let who = trail::subject(&rs, &kind_owned, &name_owned);
        let counter = who.as_ref().map_or_else(|| format!("name:{name_owned}"), failure_counter);
        // The try is counted before the (slow) check, so tries sent at once cannot all be checked.
        let result = match sessions.reserve_attempt(&counter, limit) {
            Err(refused) => Err(SignInRefusal::from(refused)),
            Ok(()) => verify(&rs, &kind_owned, &name_owned, &secret, visit.ip).map_err(SignInRefusal::Refused),
        };
        match &result {
            // (a sign-in with an MFA step is recorded after it)
            Ok(signed_in) if signed_in.mfa == MfaStep::None => {
                trail::record(&rs, &trail::caller_of(&rs, &signed_in.identity), &visit, PageEvent::SignIn { mfa: false, error: None })
            }
            Ok(_) => {}
            Err(SignInRefusal::Refused(e)) => {
                if let Some(who) = &who {
                    trail::record(&rs, who, &visit, PageEvent::SignIn { mfa: false, error: Some(e) });
                }
            }
            // Not recorded: it checked no credential, and as it is not limited, recording it would
            // let anyone push the account's real events out of the (bounded) trail.
            Err(SignInRefusal::LockedOut(_) | SignInRefusal::Uncounted(_)) => {}
        }
        (result, counter)
    })
    .await;
    match outcome {
        Ok((Ok(signed_in), counter)) => {
            // A sign-in with an MFA step keeps the try counted until its code checks out.
            if signed_in.mfa == MfaStep::None {
                c.sessions.clear_failures(&counter);
            }
            // A sign-in that was waiting for its MFA code in this browser is replaced.
            if let Some(old) = current(&c, &headers).filter(|s| s.identity.is_none()) {
                c.sessions.remove(&old.id);
            }
            // (the form's value is spent: the next sign-in form gets a new one)
            let done = |res: Response, id: &str| with_form_cookie(with_cookie(res, Some(id), &arrival), None, &arrival);
            if signed_in.mfa != MfaStep::None {
                // The password checked out; the session starts only after the MFA step.
                let bind_seed = (signed_in.mfa == MfaStep::Bind).then(rolestack_core::ram::mfa::new_seed_base32);
                let waiting = session::PendingSignIn {
                    identity: signed_in.identity,
                    must_reset_password: signed_in.must_reset,
                    bind_seed,
                    session_hours: signed_in.session_hours,
                    failures: 0,
                };
                let pending = c.sessions.create(None, false);
                c.sessions.update(&pending.id, |p| p.pending = Some(waiting.clone()));
                return done(redirect("/console/mfa"), &pending.id);
            }
            tracing::info!(principal = ?signed_in.identity, "console sign-in");
            let new = start_session(&c, signed_in.identity, signed_in.must_reset, None, signed_in.session_hours);
            done(redirect(if signed_in.must_reset { "/console/password" } else { "/console/" }), &new)
        }
        Ok((Err(SignInRefusal::LockedOut(e)), _)) => again(StatusCode::TOO_MANY_REQUESTS, &e.public_message()),
        // (the failure was counted before the check)
        Ok((Err(SignInRefusal::Refused(e)), _)) => again(StatusCode::UNAUTHORIZED, &e.public_message()),
        Ok((Err(SignInRefusal::Uncounted(e)), _)) => {
            tracing::error!("console sign-in: {e}");
            again(StatusCode::INTERNAL_SERVER_ERROR, "The sign-in failed because of an internal error.")
        }
        Err(e) => {
            tracing::error!("console sign-in panicked: {e}");
            again(StatusCode::INTERNAL_SERVER_ERROR, "The sign-in failed because of an internal error.")
        }
    }
}

/// What failed sign-ins are counted under when the name used is someone's: the person (account and
/// principal), so every spelling of a logon name — with or without `.onaliyun.com`, with the
/// account's alias or its id — counts toward one limit, as do all AccessKeys of an account root.
/// (A name that is no one's is counted as typed; the prefixes keep the two kinds of counter apart.)
fn failure_counter(who: &Caller) -> String {
    let principal = match &who.principal {
        Principal::Root => "root".to_string(),
        Principal::User { id, .. } => format!("user/{id}"),
        Principal::RoleSession { role_id, session_name, .. } => format!("role/{role_id}:{session_name}"),
    };
    format!("person:{}/{principal}", who.account_id)
}

#[derive(Debug, thiserror::Error)]
enum SignInRefusal {
    #[error("{0}")]
    LockedOut(Error),
    #[error("{0}")]
    Refused(Error),
    /// The try could not be counted (a store error), so it was not checked.
    #[error("{0}")]
    Uncounted(session::AttemptRefused),
}

/// How many failed tries a RAM user's logon name may have per window: the account's
/// `MaxLoginAttemps` when it sets one, else rolestack's own limit.
fn attempt_limit(rs: &Rolestack, logon_name: &str) -> u32 {
    login_profiles::login_attempt_limit(rs, logon_name).ok().flatten().unwrap_or(session::MAX_FAILURES)
}

impl From<session::AttemptRefused> for SignInRefusal {
    fn from(refused: session::AttemptRefused) -> Self {
        match refused {
            session::AttemptRefused::LockedOut(wait) => SignInRefusal::LockedOut(locked_out(wait.as_secs().div_ceil(60))),
            other => SignInRefusal::Uncounted(other),
        }
    }
}

/// A sign-in refused because its name failed too often lately (rolestack's code; the real
/// console's is not known).
fn locked_out(minutes: u64) -> Error {
    Error::service(429, "LoginLocked", format!("Too many failed sign-in attempts for this name. Try again in {minutes} minute(s)."))
}

/// A person whose credentials checked out, and what the sign-in still needs.
struct SignedIn {
    identity: Identity,
    must_reset: bool,
    mfa: MfaStep,
    /// Hours the session may last (RAM users: the security preference's LoginSessionDuration).
    session_hours: u32,
}

/// Starts a signed-in session; returns its id.
fn start_session(c: &Console, identity: Identity, must_reset: bool, mfa_at: Option<time::OffsetDateTime>, hours: u32) -> String {
    let is_user = matches!(identity, Identity::User { .. });
    let new = c.sessions.create(Some(identity), must_reset);
    c.sessions.update(&new.id, |s| {
        s.mfa_at = mfa_at;
        if is_user {
            s.max_age = Some(std::time::Duration::from_secs(u64::from(hours) * 3600));
        }
    });
    new.id
}

/// Checks sign-in credentials: the account root's AccessKey pair, or a RAM user's logon name and
/// console password. Failures are one message per kind that does not tell which part was wrong.
fn verify(rs: &Rolestack, kind: &str, name: &str, secret: &str, ip: Option<std::net::IpAddr>) -> Result<SignedIn, Error> {
    match kind {
        "root" => {
            let refused = || {
                Error::service(
                    401,
                    "InvalidLogonCredentials",
                    "The AccessKey ID or AccessKey secret is incorrect, or the key is not an active AccessKey of an account root (RAM users sign in with their logon name and password).",
                )
            };
            let who = rs.authenticate(name).map_err(|_| refused())?;
            if who.principal != Principal::Root || !session::same(&who.secret, secret) {
                return Err(refused());
            }
            Ok(SignedIn {
                identity: Identity::Root { account_id: who.account_id, access_key_id: name.to_string() },
                must_reset: false,
                mfa: MfaStep::None,
                session_hours: 12,
            })
        }
        "user" => match login_profiles::console_sign_in(rs, name, secret, ip) {
            Ok(u) => {
                let Principal::User { name: user_name, id } = u.principal else {
                    return Err(Error::Store("console sign-in: not a RAM user".into()));
                };
                Ok(SignedIn {
                    identity: Identity::User {
                        account_id: u.account_id,
                        user_id: id,
                        user_name,
                        logon_name: u.logon_name,
                        password_epoch: u.password_epoch,
                    },
                    must_reset: u.password_reset_required,
                    mfa: u.mfa,
                    session_hours: u.session_hours,
                })
            }
            Err(e) => {
                if let Error::Store(detail) | Error::Conflict(detail) = &e {
                    tracing::error!("console sign-in: {detail}");
                }
                Err(e)
            }
        },
        _ => Err(Error::invalid("InvalidParameter.Kind", "Choose how to sign in.")),
    }
}

/// The MFA step of a sign-in: a code of the user's device, or binding a new device.
async fn mfa_page(State(c): State<Console>, headers: HeaderMap) -> Response {
    match current(&c, &headers) {
        Some(s) => match &s.pending {
            Some(p) => mfa_form(&s.csrf, p, None, StatusCode::OK),
            None if s.identity.is_some() => redirect("/console/"),
            None => redirect("/console/signin"),
        },
        None => redirect("/console/signin"),
    }
}

fn mfa_form(csrf: &str, p: &session::PendingSignIn, error: Option<&str>, status: StatusCode) -> Response {
    let logon = match &p.identity {
        Identity::User { logon_name, .. } => logon_name.clone(),
        Identity::Root { account_id, .. } => account_id.clone(),
    };
    let bind = match &p.bind_seed {
        Some(seed) => match rolestack_core::ram::mfa::provisioning(&logon, seed) {
            Ok((uri, png)) => Some((seed.clone(), uri, png)),
            Err(e) => {
                return html(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    assets::page("Error", &format!("<p>{}</p>", assets::escape(&e.to_string()))),
                )
            }
        },
        None => None,
    };
    html(status, assets::mfa_page(csrf, &logon, bind.as_ref().map(|(s, u, p)| (s.as_str(), u.as_str(), p.as_str())), error))
}

/// Most MFA codes one pending sign-in may have checked; a wrong last one means starting over.
const MAX_MFA_FAILURES: u32 = 5;

async fn mfa_submit(
    State(c): State<Console>,
    peer: Option<ConnectInfo<SocketAddr>>,
    arrival: Arrival,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let Some(s) = current(&c, &headers) else { return redirect("/console/signin") };
    if !csrf_ok(&s, &headers, field(&f, "csrf_token")) {
        return forbidden_page();
    }
    let Some(pending) = s.pending.clone() else { return redirect("/console/signin") };
    let Identity::User { account_id, user_name, logon_name, .. } = pending.identity.clone() else {
        return redirect("/console/signin");
    };
    // This code's try of the pending sign-in, taken in one step (so codes sent at once cannot all
    // be checked); the last try's failure ends the sign-in.
    let tries = |x: &mut session::Session| match &mut x.pending {
        Some(p) if p.failures < MAX_MFA_FAILURES => {
            p.failures += 1;
            Some(p.failures)
        }
        _ => None,
    };
    let Some(Some(try_number)) = c.sessions.update(&s.id, tries) else {
        c.sessions.remove(&s.id);
        return with_cookie(redirect("/console/signin"), None, &arrival);
    };
    let (code1, code2) = (field(&f, "code").unwrap_or("").to_string(), field(&f, "code2").unwrap_or("").to_string());
    let (rs, sessions) = (c.rs.clone(), c.sessions.clone());
    let seed = pending.bind_seed.clone();
    let (visit, identity) = (Visit::of(&headers, peer.map(|p| p.0)), pending.identity.clone());
    let checked = tokio::task::spawn_blocking(move || {
        let who = trail::caller_of(&rs, &identity);
        // A code is a try of the person's sign-in like a password: it counts toward the same
        // limit, which the password step left counted (docs/console.md, "Signing in").
        let counter = failure_counter(&who);
        sessions.reserve_attempt(&counter, attempt_limit(&rs, &logon_name)).map_err(SignInRefusal::from)?;
        let checked = login_profiles::console_mfa(&rs, &account_id, &user_name, seed.as_deref(), &code1, &code2);
        match &checked {
            Ok(true) => {
                if seed.is_some() {
                    trail::record(&rs, &who, &visit, PageEvent::MfaDeviceBound);
                }
                trail::record(&rs, &who, &visit, PageEvent::SignIn { mfa: true, error: None });
            }
            Ok(false) => {
                let refused = rolestack_core::ram::mfa::code_refused();
                trail::record(&rs, &who, &visit, PageEvent::SignIn { mfa: true, error: Some(&refused) });
            }
            Err(_) => {}
        }
        if let Ok(true) = checked {
            sessions.clear_failures(&counter);
        }
        checked.map_err(SignInRefusal::Refused)
    })
    .await;
    match checked {
        Ok(Ok(true)) => {
            c.sessions.remove(&s.id);
            tracing::info!(principal = ?pending.identity, mfa = true, "console sign-in");
            let now = c.rs.clock.now();
            let must_reset = pending.must_reset_password;
            let new = start_session(&c, pending.identity, must_reset, Some(now), pending.session_hours);
            with_cookie(redirect(if must_reset { "/console/password" } else { "/console/" }), Some(&new), &arrival)
        }
        Ok(Ok(false)) => {
            if try_number >= MAX_MFA_FAILURES {
                c.sessions.remove(&s.id);
                return with_cookie(redirect("/console/signin"), None, &arrival);
            }
            mfa_form(
                &s.csrf,
                &pending,
                Some("The MFA code is incorrect or was already used. Enter the current code from your authenticator app."),
                StatusCode::UNAUTHORIZED,
            )
        }
        Ok(Err(SignInRefusal::LockedOut(e))) => mfa_form(&s.csrf, &pending, Some(&e.public_message()), StatusCode::TOO_MANY_REQUESTS),
        Ok(Err(e @ (SignInRefusal::Refused(_) | SignInRefusal::Uncounted(_)))) => {
            tracing::error!("console MFA check: {e}");
            mfa_form(&s.csrf, &pending, Some("The check failed because of an internal error."), StatusCode::INTERNAL_SERVER_ERROR)
        }
        Err(e) => {
            tracing::error!("console MFA check panicked: {e}");
            mfa_form(&s.csrf, &pending, Some("The check failed because of an internal error."), StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

async fn signout(
    State(c): State<Console>,
    peer: Option<ConnectInfo<SocketAddr>>,
    arrival: Arrival,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let Some(s) = current(&c, &headers) else { return with_cookie(redirect("/console/signin"), None, &arrival) };
    if !csrf_ok(&s, &headers, field(&f, "csrf_token")) {
        return forbidden_page();
    }
    c.sessions.remove(&s.id);
    if let Some(identity) = &s.identity {
        trail::record(&c.rs, &trail::caller_of(&c.rs, identity), &Visit::of(&headers, peer.map(|p| p.0)), PageEvent::SignOut);
    }
    with_cookie(redirect("/console/signin"), None, &arrival)
}

async fn password_page(State(c): State<Console>, headers: HeaderMap) -> Response {
    match current(&c, &headers) {
        Some(s) if matches!(s.identity, Some(Identity::User { .. })) => {
            html(StatusCode::OK, assets::password_page(&s.csrf, None, s.must_reset_password))
        }
        Some(s) if s.identity.is_some() => redirect("/console/"),
        _ => redirect("/console/signin"),
    }
}

/// The password form. A forced change (the login profile's `PasswordResetRequired`, or an expired
/// password) is a step of signing in and needs no permission; a change the user chooses to make is
/// RAM's ChangePassword, authorized like the API call (the security preference's
/// `AllowUserToChangePassword`, an explicit `Deny` of `ram:ChangePassword`), with its refusal shown.
async fn change_password(
    State(c): State<Console>,
    peer: Option<ConnectInfo<SocketAddr>>,
    arrival: Arrival,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let Some(s) = current(&c, &headers) else { return redirect("/console/signin") };
    if !csrf_ok(&s, &headers, field(&f, "csrf_token")) {
        return forbidden_page();
    }
    let Some(identity) = s.identity.clone() else { return redirect("/console/signin") };
    let Identity::User { account_id, user_id, user_name, password_epoch, .. } = identity.clone() else { return redirect("/console/") };
    let old = field(&f, "old_password").unwrap_or("").to_string();
    let new = field(&f, "new_password").unwrap_or("").to_string();
    if field(&f, "confirm_password") != Some(new.as_str()) {
        return html(StatusCode::BAD_REQUEST, assets::password_page(&s.csrf, Some("The two new passwords differ."), s.must_reset_password));
    }
    let rs = c.rs.clone();
    let forced = s.must_reset_password;
    let (mfa_at, peer, secure) = (s.mfa_at, peer.map(|p| p.0), over_tls(&arrival));
    let visit = Visit::of(&headers, peer);
    let outcome = tokio::task::spawn_blocking(move || {
        if forced {
            // The session's own user (by id, at the password it signed in with): the name alone
            // may by now be someone else's.
            let changed = login_profiles::change_own_password(&rs, &account_id, &user_id, &user_name, &password_epoch, &old, &new);
            if let Ok(None) = changed {
                return Err(Gone::Ended); // (nothing was changed: no event)
            }
            trail::record(&rs, &trail::caller_of(&rs, &identity), &visit, PageEvent::PasswordChange { error: changed.as_ref().err() });
            return changed.map_err(Gone::Failed);
        }
        let caller = caller_for(&rs, &identity, mfa_at, &headers, peer, secure)?;
        let action = catalog::find(Product::Ram, "ChangePassword")
            .ok_or_else(|| Gone::Failed(Error::Store("ChangePassword is not in the catalogue".into())))?;
        let changed = rs.call(&caller, action, &Params::from_pairs([("OldPassword", old), ("NewPassword", new.clone())]));
        trail::record(&rs, &caller, &visit, PageEvent::PasswordChange { error: changed.as_ref().err() });
        changed.map_err(Gone::Failed)?;
        login_profiles::epoch_of_password(&rs, &account_id, &user_id, &user_name, &new).map_err(Gone::Failed)
    })
    .await
    .unwrap_or_else(|e| Err(Gone::Failed(Error::Store(format!("console password change panicked: {e}")))));
    match outcome {
        Ok(Some(epoch)) => {
            c.sessions.update(&s.id, |s| {
                s.must_reset_password = false;
                if let Some(Identity::User { password_epoch, .. }) = &mut s.identity {
                    *password_epoch = epoch.clone();
                }
            });
            redirect("/console/")
        }
        // The password changed again under this change, or the user went: sign in again.
        Ok(None) | Err(Gone::Ended) => {
            c.sessions.remove(&s.id);
            with_cookie(redirect("/console/signin"), None, &arrival)
        }
        Err(Gone::Failed(e)) => {
            if let Error::Store(detail) | Error::Conflict(detail) = &e {
                tracing::error!(detail, "console password change: internal error");
            }
            let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            let message = format!("{}: {}", e.code(), e.public_message());
            html(status, assets::password_page(&s.csrf, Some(&message), s.must_reset_password))
        }
    }
}

// --- the JSON API used by the app --------------------------------------------------------

async fn session_info(State(c): State<Console>, headers: HeaderMap) -> Response {
    let Some(s) = current(&c, &headers).filter(|s| s.identity.is_some()) else {
        return console_error(StatusCode::UNAUTHORIZED, "ConsoleSessionExpired", "Your console session has ended. Sign in again.");
    };
    let identity = match s.identity.as_ref() {
        Some(Identity::Root { account_id, access_key_id }) => json!({
            "Type": "Root", "AccountId": account_id, "DisplayName": format!("Account root ({account_id})"),
            "Arn": format!("acs:ram::{account_id}:root"), "AccessKeyId": access_key_id,
        }),
        Some(Identity::User { account_id, user_name, logon_name, .. }) => json!({
            "Type": "RAMUser", "AccountId": account_id, "DisplayName": logon_name, "UserName": user_name,
            "Arn": format!("acs:ram::{account_id}:user/{user_name}"),
        }),
        None => Value::Null,
    };
    json_response(
        StatusCode::OK,
        json!({ "Identity": identity, "CsrfToken": s.csrf, "IdleTimeoutSeconds": session::IDLE.as_secs(), "MFAPresent": s.mfa_at.is_some() }),
    )
}

/// A product the console bridge serves some actions of (see `product::PRODUCTS`, `console`).
fn product(name: &str) -> Option<Product> {
    Product::from_name(name).filter(|p| p.spec().console.any())
}

fn console_products() -> String {
    rolestack_core::product::PRODUCTS.iter().filter(|s| s.console.any()).map(|s| s.name).collect::<Vec<_>>().join(", ")
}

/// Bridge parameters: a form body, or a JSON object whose values are strings, numbers, booleans
/// or (for JSON-typed API parameters such as ECS `InstanceIds`) arrays and objects.
fn bridge_params(headers: &HeaderMap, body: &Bytes) -> Result<Params, String> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if body.is_empty() {
        return Ok(Params::default());
    }
    if ct.starts_with("application/json") {
        let v: Value = serde_json::from_slice(body).map_err(|e| format!("The request body is not JSON: {e}."))?;
        let Value::Object(map) = v else { return Err("The request body must be a JSON object of parameters.".into()) };
        let pairs = map.into_iter().filter_map(|(k, v)| {
            let s = match v {
                Value::Null => return None,
                Value::String(s) => s,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                other => other.to_string(),
            };
            Some((k, s))
        });
        return Ok(Params::from_pairs(pairs));
    }
    Ok(Params::from_pairs(form(body)))
}

/// Why a session may no longer act (its principal changed under it).
enum Gone {
    Ended,
    Failed(Error),
}

/// Re-checks a session's principal against the store and builds the caller.
fn caller_for(
    rs: &Rolestack,
    identity: &Identity,
    mfa_at: Option<time::OffsetDateTime>,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    secure: bool,
) -> Result<Caller, Gone> {
    let (account_id, principal, access_key_id) = match identity {
        Identity::Root { account_id, access_key_id } => match rs.authenticate(access_key_id) {
            Ok(who) if who.principal == Principal::Root && &who.account_id == account_id => {
                (account_id.clone(), Principal::Root, access_key_id.clone())
            }
            Ok(_) | Err(Error::Service { .. }) => return Err(Gone::Ended),
            Err(e) => return Err(Gone::Failed(e)),
        },
        Identity::User { account_id, user_id, user_name, password_epoch, .. } => {
            match login_profiles::console_session_valid(rs, account_id, user_id, user_name, password_epoch) {
                Ok(Some(name)) => (account_id.clone(), Principal::User { name, id: user_id.clone() }, String::new()),
                Ok(None) => return Err(Gone::Ended),
                Err(e) => return Err(Gone::Failed(e)),
            }
        }
    };
    Ok(Caller {
        account_id,
        principal,
        access_key_id,
        facts: RequestFacts {
            source_ip: peer.map(|p| p.ip()),
            secure_transport: secure,
            user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string),
            time: rs.clock.now(),
            endpoint_region: None,
        },
        mfa_at,
    })
}

async fn bridge(
    State(c): State<Console>,
    Path((product_name, action_name)): Path<(String, String)>,
    peer: Option<ConnectInfo<SocketAddr>>,
    arrival: Arrival,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let secure = over_tls(&arrival);
    let Some(s) = current(&c, &headers).filter(|s| s.identity.is_some()) else {
        return console_error(StatusCode::UNAUTHORIZED, "ConsoleSessionExpired", "Your console session has ended. Sign in again.");
    };
    if method != Method::POST || !csrf_ok(&s, &headers, None) {
        return console_error(
            StatusCode::FORBIDDEN,
            "InvalidCsrfToken",
            "The request was refused: it did not carry this session's CSRF token (X-CSRF-Token) or came from another origin.",
        );
    }
    if s.must_reset_password {
        return console_error(StatusCode::FORBIDDEN, "PasswordResetRequired", "You must change your password before you continue.");
    }
    let Some(product) = product(&product_name) else {
        return console_error(
            StatusCode::NOT_FOUND,
            "InvalidProduct.NotFound",
            &format!("The console serves the products {}, not {product_name}.", console_products()),
        );
    };
    let Some(action) = catalog::find(product, &action_name) else {
        return console_error(
            StatusCode::NOT_FOUND,
            "InvalidApi.NotFound",
            &format!("Specified api is not found: {action_name} ({product_name})."),
        );
    };
    if !product.spec().console.serves(action.name) {
        return console_error(
            StatusCode::NOT_FOUND,
            "InvalidApi.NotFound",
            &format!("The console does not serve {action_name} ({product_name}); call it with the CLI or an SDK."),
        );
    }
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return console_error(StatusCode::PAYLOAD_TOO_LARGE, "InvalidParameter", "The request body is too large."),
    };
    let params = match bridge_params(&headers, &body) {
        Ok(p) => p,
        Err(m) => return console_error(StatusCode::BAD_REQUEST, "InvalidParameter", &m),
    };
    let rs = c.rs.clone();
    let identity = s.identity.clone().unwrap_or(Identity::Root { account_id: String::new(), access_key_id: String::new() });
    let peer = peer.map(|p| p.0);
    let s_mfa_at = s.mfa_at;
    let request_id = ids::request_id();
    let rid = request_id.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let caller = caller_for(&rs, &identity, s_mfa_at, &headers, peer, secure)?;
        let result = rs.call(&caller, action, &params);
        let spec = action.product.spec();
        let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
        let pairs: Vec<(&String, &String)> = params.iter().collect();
        rs.record(&CallRecord {
            caller: Some(&caller),
            access_key_id: None,
            service_name: &audit::service_name(spec.name),
            event_source: spec.host,
            event_name: action.name,
            event_type: EventType::ConsoleOperation,
            read: audit::is_read_action(action.name),
            api_version: Some(spec.version),
            request_id: &rid,
            source_ip: peer.map(|p| p.ip().to_string()),
            user_agent,
            region: params.get("RegionId").unwrap_or(rolestack_core::oss::model::DEFAULT_REGION),
            request_parameters: audit::request_parameters(pairs.iter().copied()),
            response_elements: None,
            additional_event_data: None,
            resources: audit::event_resources(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), result.as_ref().ok()),
            error: result.as_ref().err().map(|e| (e.code(), e.public_message())),
            account: None,
            acting_service: None,
        });
        result.map_err(Gone::Failed)
    })
    .await
    .unwrap_or_else(|e| Err(Gone::Failed(Error::Store(format!("console handler panicked: {e}")))));
    match outcome {
        Ok(body) => {
            tracing::debug!(request_id, action = action.name, console = true, "ok");
            render::success(Format::Json, action.name, &request_id, body)
        }
        Err(Gone::Ended) => {
            c.sessions.remove(&s.id);
            console_error(
                StatusCode::UNAUTHORIZED,
                "ConsoleSessionExpired",
                "Your console session has ended (your credentials changed). Sign in again.",
            )
        }
        Err(Gone::Failed(e)) => {
            if let Error::Store(detail) | Error::Conflict(detail) = &e {
                tracing::error!(request_id, detail, "console: internal error");
            } else {
                tracing::info!(request_id, action = action.name, code = e.code(), console = true, "error");
            }
            render::error_with_detail(
                Format::Json,
                e.http_status(),
                &e.code(),
                &e.public_message(),
                product.host(),
                &request_id,
                e.access_denied_detail().map(|d| d.to_json()),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    fn console() -> Console {
        let store: Arc<dyn rolestack_core::store::Store> = Arc::new(rolestack_store_sqlite::SqliteStore::in_memory().unwrap());
        let rs = Rolestack::new(
            store.clone(),
            rolestack_core::seal::ServerKey::from_bytes(&rolestack_core::seal::ServerKey::generate()),
            rolestack_core::clock::Clock::default(),
        );
        Console { rs, sessions: Arc::new(Sessions::for_store(&store)) }
    }

    async fn send(c: &Console, req: Request) -> Response {
        routes::<()>(c.clone()).oneshot(req).await.unwrap()
    }

    fn cookies(res: &Response) -> Vec<String> {
        res.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect()
    }

    /// Anyone may load the sign-in form any number of times: it keeps nothing on the server (a
    /// flood of them once evicted people's sign-ins in progress from a full session table).
    #[tokio::test]
    async fn the_sign_in_form_starts_no_session() {
        let c = console();
        for _ in 0..50 {
            let res = send(&c, Request::get("/console/signin").body(Body::empty()).unwrap()).await;
            assert_eq!(res.status(), StatusCode::OK);
            let set = cookies(&res);
            assert!(set.iter().all(|v| !v.starts_with(&format!("{}=", session::COOKIE))), "{set:?}");
            assert!(set.iter().any(|v| v.starts_with(&format!("{}=", session::FORM_COOKIE))), "{set:?}");
        }
        assert_eq!(c.sessions.count(), 0);
    }

    /// The sign-in POST needs the form's token for this browser's form cookie: another browser's
    /// token, none, or a token without its cookie is refused before any credential is checked.
    #[tokio::test]
    async fn the_sign_in_post_needs_the_token_of_its_own_form_cookie() {
        let c = console();
        let (mine, theirs) = (session::random_token(), session::random_token());
        let post = |nonce: Option<&str>, token: &str| {
            let mut req = Request::post("/console/signin").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            if let Some(n) = nonce {
                req = req.header(header::COOKIE, format!("{}={n}", session::FORM_COOKIE));
            }
            req.body(Body::from(format!("csrf_token={token}&kind=root&access_key_id=LTAInobody&access_key_secret=x"))).unwrap()
        };
        let theirs_token = session::form_token(&c.rs.key, &theirs);
        assert_eq!(send(&c, post(Some(&mine), &theirs_token)).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(send(&c, post(Some(&mine), "")).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(send(&c, post(Some(&mine), &"ab".repeat(60))).await.status(), StatusCode::FORBIDDEN);
        let res = send(&c, post(None, &theirs_token)).await;
        assert_eq!((res.status(), res.headers()[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/console/signin"));
        // With its own token the credentials are checked (and refused: there is no such key).
        let token = session::form_token(&c.rs.key, &mine);
        assert_eq!(send(&c, post(Some(&mine), &token)).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(c.sessions.count(), 0);
    }
}
