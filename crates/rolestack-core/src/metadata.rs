//! The credentials the instance metadata service hands out: for an instance with a RAM role, a role
//! session named `vm-ram-<instance-id>`, valid for six hours, replaced by a new one thirty minutes
//! before it expires (the old one stays valid until its own expiry, as on real ECS). The current
//! session is stored per instance so every read in a rotation window returns the same set, across
//! restarts. Detaching the role deletes the stored session: no new credentials are issued, while
//! already issued ones keep working until they expire (revoke the role's sessions to end them).
//!
//! [`InstanceMetadata`] is the service one instance sees at `http://100.100.100.200/latest/...`
//! (the HTTP front-end in the server crate only translates): the `meta-data` tree, the role list,
//! the credential document, the instance's user data (`/latest/user-data`), and the
//! security-hardening tokens (`PUT /latest/api/token`). It keeps
//! the instance's tree and its current credential document in memory while the store's version
//! does not move and until the document's rotation is due by the service's clock (the fake one
//! included), so a read in between touches neither the store nor a lock shared with writers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::clock::format_date;
use crate::ecs::vpc::Cidr;
use crate::fault::{select, Buckets, Fault, FaultKind, FaultSpec, Target};
use crate::model::{Instance, InstanceSession, Role, VSwitch, Vpc};
use crate::seal::ServerKey;
use crate::service::Rolestack;
use crate::store::{FaultRow, Kind, Tx};
use crate::sts::{self, Credentials, SealedToken};
use crate::Result;

/// How long one set of instance credentials is valid.
pub const SESSION_LIFETIME: Duration = Duration::hours(6);
/// How long before expiry a new set is issued.
pub const ROTATE_BEFORE_EXPIRY: Duration = Duration::minutes(30);

/// Credentials as the metadata document reports them.
#[derive(Debug, Clone)]
pub struct InstanceCredentials {
    pub role_name: String,
    pub credentials: Credentials,
    pub last_updated: OffsetDateTime,
    /// This call issued the set (first read, or a rotation): worth an ActionTrail event.
    pub issued_now: bool,
}

/// The instance's role session, issuing or rotating it as needed. `None` when the instance has no
/// role (or its role was deleted).
pub fn instance_credentials(
    tx: &mut dyn Tx,
    key: &ServerKey,
    account: &str,
    instance: &Instance,
    now: OffsetDateTime,
) -> Result<Option<InstanceCredentials>> {
    let Some(role) = instance_role(tx, account, instance, now)? else { return Ok(None) };
    let existing = tx.get_rec::<InstanceSession>(account, &instance.id)?;
    let kind = if existing.is_some() { "rotated" } else { "issued" };
    if let Some(current) = existing {
        let fresh = current.role_name.eq_ignore_ascii_case(&role.name)
            && now.unix_timestamp() < current.expires - ROTATE_BEFORE_EXPIRY.whole_seconds();
        if fresh {
            if let Ok(token) = SealedToken::open(key, &current.token) {
                if token.role_id == role.id && !sts::revoked(&role, &token) {
                    return Ok(Some(render(&role, &token, current.token, false)));
                }
            }
        }
    }
    issue(tx, key, account, instance, &role, now, kind).map(Some)
}

/// The instance's RAM role, if it has one, it still exists, and ECS may still assume it: a role
/// whose trust policy stopped trusting ECS after the attach gets no new credentials (ECS could
/// not assume it).
fn instance_role(tx: &mut dyn Tx, account: &str, instance: &Instance, now: OffsetDateTime) -> Result<Option<Role>> {
    let Some(name) = &instance.ram_role_name else { return Ok(None) };
    match tx.get_rec::<Role>(account, name)? {
        Some(role) if ecs_may_assume(&role, now)? => Ok(Some(role)),
        _ => Ok(None),
    }
}

/// Whether the role's trust policy lets the service ECS assume it now (an `Allow` naming
/// `ecs.aliyuncs.com` and no `Deny` for it).
fn ecs_may_assume(role: &Role, now: OffsetDateTime) -> Result<bool> {
    let trust = role.trust()?;
    let mut context = rolestack_policy::Context::new();
    context.set_current_time(now);
    Ok(trust.allows(&rolestack_policy::Principal::service(crate::ecs::ram_roles::ECS_SERVICE), &context))
}

/// Issues a new set for the instance now, whatever the current one ("rotate now"): the old set
/// stays valid until its own expiry. `None` when the instance has no role.
pub fn rotate_now(
    tx: &mut dyn Tx,
    key: &ServerKey,
    account: &str,
    instance: &Instance,
    now: OffsetDateTime,
) -> Result<Option<InstanceCredentials>> {
    let Some(role) = instance_role(tx, account, instance, now)? else { return Ok(None) };
    issue(tx, key, account, instance, &role, now, "rotated").map(Some)
}

fn issue(
    tx: &mut dyn Tx,
    key: &ServerKey,
    account: &str,
    instance: &Instance,
    role: &Role,
    now: OffsetDateTime,
    kind: &'static str,
) -> Result<InstanceCredentials> {
    let token = sts::mint(account, role, &session_name(&instance.id), instance.ram_role_policy.clone(), now, SESSION_LIFETIME);
    let sealed = token.seal(key);
    let session = InstanceSession {
        instance_id: instance.id.clone(),
        role_name: role.name.clone(),
        token: sealed.clone(),
        issued: token.issued,
        expires: token.expires,
    };
    if !tx.update_rec(account, &instance.id, &session)? {
        tx.insert_rec(account, &instance.id, &session)?;
    }
    metrics::counter!("rolestack_metadata_credentials_total", "kind" => kind).increment(1);
    Ok(render(role, &token, sealed, true))
}

/// "Expire now": the set the instance is served stops working at once — its role records a
/// cut-off for the instance's session name, so STS and OSS refuse it as expired — and its stored
/// expiry moves to `now`, so the next read issues a new set (unless an `ExpireCredentials` fault
/// keeps serving the expired one). Returns the expired set's AccessKeyId, `None` when the
/// instance has no current set.
pub fn expire_now(tx: &mut dyn Tx, key: &ServerKey, account: &str, instance: &Instance, now: OffsetDateTime) -> Result<Option<String>> {
    let Some(mut session) = tx.get_rec::<InstanceSession>(account, &instance.id)? else { return Ok(None) };
    let Some(mut role) = tx.get_rec::<Role>(account, &session.role_name)? else { return Ok(None) };
    let now_ms = sts::unix_ms(now);
    // A cut-off older than the longest session can void nothing any more.
    let longest = crate::ram::roles::MAX_SESSION_MAX * 1000;
    role.session_cutoffs.retain(|_, cutoff| *cutoff > now_ms - longest);
    role.session_cutoffs.insert(session_name(&instance.id).to_ascii_lowercase(), now_ms + 1);
    let role_key = role.name.clone();
    tx.update_rec(account, &role_key, &role)?;
    session.expires = session.expires.min(now.unix_timestamp());
    tx.update_rec(account, &instance.id, &session)?;
    Ok(Some(SealedToken::open(key, &session.token).map(|t| t.access_key_id).unwrap_or_default()))
}

/// Forgets an instance's current session (on detach / delete), so no new credentials are served.
pub fn forget_session(tx: &mut dyn Tx, account: &str, instance_id: &str) -> Result<()> {
    tx.delete(Kind::InstanceSession, account, instance_id)?;
    Ok(())
}

/// The session name ECS uses for instance roles: `vm-ram-<instance-id>`.
pub fn session_name(instance_id: &str) -> String {
    format!("vm-ram-{instance_id}")
}

fn render(role: &Role, token: &SealedToken, sealed: String, issued_now: bool) -> InstanceCredentials {
    InstanceCredentials {
        issued_now,
        role_name: role.name.clone(),
        credentials: token.credentials_sealed(sealed),
        last_updated: OffsetDateTime::from_unix_timestamp(token.issued).unwrap_or(OffsetDateTime::UNIX_EPOCH),
    }
}

/// The header of `PUT /latest/api/token` giving the token's lifetime in seconds.
pub const TOKEN_TTL_HEADER: &str = "x-aliyun-ecs-metadata-token-ttl-seconds";
/// The header a hardened-mode read carries its token in.
pub const TOKEN_HEADER: &str = "x-aliyun-ecs-metadata-token";
/// The longest token lifetime (six hours).
pub const MAX_TOKEN_TTL: i64 = 21600;
const TOKEN_PURPOSE: &str = "ecs-metadata-token";

/// What the metadata service answers: a status, whether the body is JSON (else plain text), and
/// the body.
#[derive(Debug, Clone)]
pub struct MetadataAnswer {
    pub status: u16,
    pub json: bool,
    pub body: Bytes,
}

impl MetadataAnswer {
    fn plain(status: u16, body: impl Into<Bytes>) -> Self {
        MetadataAnswer { status, json: false, body: body.into() }
    }
    fn not_found() -> Self {
        Self::plain(404, "404 - Not Found")
    }
    /// No answer at all (status 0: the front closes the connection): the instance is not
    /// running. Its listeners go down when it stops; this covers a request that arrives before
    /// they do (another node stopped it, see docs/scale-out.md).
    fn powered_off() -> Self {
        Self::plain(0, "")
    }
    /// Whether this is the no-answer of an instance that is not running.
    pub fn is_powered_off(&self) -> bool {
        self.status == 0
    }
    fn endpoint_disabled() -> Self {
        Self::plain(403, "403 - Forbidden: the metadata endpoint of this instance is disabled")
    }
}

/// The metadata service of one instance (its listener is the instance's identity). Clones share
/// the memory of the instance's tree and credential document.
#[derive(Clone)]
pub struct InstanceMetadata {
    rs: Rolestack,
    account_id: String,
    instance_id: String,
    remembered: Arc<Mutex<Option<Arc<View>>>>,
    faults: Arc<Mutex<FaultMemory>>,
}

/// The instance's injected faults as read at one store version, and this server's throttle
/// buckets.
#[derive(Default)]
struct FaultMemory {
    /// `Some(version)` once read at that version.
    version: Option<u64>,
    faults: Arc<Vec<Fault>>,
    buckets: Buckets,
}

/// What an injected fault does to one request; the HTTP front carries it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disruption {
    /// Answer normally after this wait.
    Delay(std::time::Duration),
    /// Answer with this HTTP status instead (429 for a throttled request).
    Status(u16),
    /// Close the connection without an answer.
    Reset,
    /// Hold the request this long, then close the connection without an answer.
    Hang(std::time::Duration),
    /// Serve the credential document with its `Expiration` already past.
    Stale,
    /// Serve the instance's expired set ([`expire_now`]) instead of issuing a new one.
    Expired,
}

/// The fault stored in a row; `None` for a row this version cannot read.
fn fault_of(row: FaultRow) -> Option<Fault> {
    let spec: FaultSpec = serde_json::from_str(&row.spec).ok()?;
    Some(Fault {
        id: row.id,
        kind: spec.kind,
        path: spec.path,
        created_ms: row.created_ms,
        until_ms: row.until_ms,
        remaining: row.remaining,
    })
}

/// How long an instance's `Expiration` is put in the past by a `StaleCredentials` fault.
pub const STALE_BY: Duration = Duration::minutes(5);

/// What a read of the instance found, at one store version.
struct View {
    version: Option<u64>,
    instance: Instance,
    /// The `meta-data` tree (lower-case paths), except the credential document.
    leaves: BTreeMap<String, String>,
    /// `/latest/user-data`: the instance's user data, decoded.
    user_data: Option<Bytes>,
    document: Option<Document>,
}

/// A rendered credential document and when it must be issued anew.
struct Document {
    role_name: String,
    body: Bytes,
    /// Unix seconds by the service's clock: from then on the next read rotates.
    rotate_at: i64,
}

/// The metadata API version the tree is also served under besides `latest` (what
/// `GET http://100.100.100.200/` lists, and where cloud-init's Alibaba Cloud datasource reads).
pub const API_VERSION: &str = "2016-01-01";

/// A request path with its version named as `latest`: `/2016-01-01/meta-data/...` is the same
/// tree as `/latest/meta-data/...` (the version matches without case, as every path does).
pub fn canonical_path(path: &str) -> std::borrow::Cow<'_, str> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    match rest.get(..API_VERSION.len()) {
        Some(v) if v.eq_ignore_ascii_case(API_VERSION) && matches!(rest.as_bytes().get(API_VERSION.len()), None | Some(b'/')) => {
            std::borrow::Cow::Owned(format!("/latest{}", &rest[API_VERSION.len()..]))
        }
        _ => std::borrow::Cow::Borrowed(path),
    }
}

/// The part of a `meta-data` path after `/latest/meta-data/` when it names the credential
/// document (`ram/security-credentials/<role>`): the role, lower-case.
fn credential_role(lower: &str) -> Option<&str> {
    lower
        .strip_prefix("/latest/meta-data")?
        .trim_start_matches('/')
        .strip_prefix("ram/security-credentials/")
        .filter(|r| !r.is_empty() && !r.ends_with('/'))
}

impl InstanceMetadata {
    pub fn new(rs: Rolestack, account_id: impl Into<String>, instance_id: impl Into<String>) -> Self {
        InstanceMetadata {
            rs,
            account_id: account_id.into(),
            instance_id: instance_id.into(),
            remembered: Arc::default(),
            faults: Arc::default(),
        }
    }

    /// Whether `path` reads a credential document (what `StaleCredentials` / `ExpireCredentials`
    /// faults apply to).
    pub fn is_credential_document(path: &str) -> bool {
        credential_role(&path.to_ascii_lowercase()).is_some()
    }

    fn now_ms(&self) -> i64 {
        sts::unix_ms(self.rs.clock.now())
    }

    /// The disruption an injected fault makes of this request, decided from memory: `None` when
    /// the store must be read or written ([`InstanceMetadata::disruption`]): the faults changed,
    /// or a counted fault applies (its use is taken in the store). Never touches the store.
    pub fn disruption_remembered(&self, path: &str) -> Option<Option<Disruption>> {
        // A shared store's version is itself a round trip to the database: `disruption` decides.
        if self.rs.store.shared() {
            return None;
        }
        let version = self.rs.store.version()?;
        let target = Target { path, credential_document: Self::is_credential_document(path) };
        let now_ms = self.now_ms();
        let mut memory = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        if memory.version != Some(version) {
            return None;
        }
        if memory.faults.is_empty() {
            return Some(None);
        }
        if memory.faults.iter().any(|f| f.remaining.is_some() && f.active(now_ms) && f.applies_to(target)) {
            return None;
        }
        let faults = memory.faults.clone();
        Some(select(&faults, target, now_ms, &mut memory.buckets).map(|f| Self::disruption_of(f, now_ms)))
    }

    /// The disruption an injected fault makes of this request, reading the instance's faults
    /// from the store when they may have changed and taking a use of a counted one.
    pub fn disruption(&self, path: &str) -> Result<Option<Disruption>> {
        let version = self.rs.store.version();
        let target = Target { path, credential_document: Self::is_credential_document(path) };
        let now_ms = self.now_ms();
        let faults = {
            let memory = self.faults.lock().unwrap_or_else(|p| p.into_inner());
            (version.is_some() && memory.version == version).then(|| memory.faults.clone())
        };
        let faults = match faults {
            Some(f) => f,
            None => {
                let rows = self.rs.store.begin_read()?.faults_list(&self.account_id, &self.instance_id)?;
                let faults: Arc<Vec<Fault>> = Arc::new(rows.into_iter().filter_map(fault_of).collect());
                let mut memory = self.faults.lock().unwrap_or_else(|p| p.into_inner());
                memory.buckets.retain(&faults);
                memory.faults = faults.clone();
                memory.version = version;
                faults
            }
        };
        if faults.is_empty() {
            return Ok(None);
        }
        let chosen = {
            let mut memory = self.faults.lock().unwrap_or_else(|p| p.into_inner());
            select(&faults, target, now_ms, &mut memory.buckets).cloned()
        };
        let Some(fault) = chosen else { return Ok(None) };
        if fault.remaining.is_some() {
            let taken = crate::store::retry(|| {
                let mut tx = self.rs.store.begin()?;
                let taken = tx.fault_take(&self.account_id, &self.instance_id, &fault.id)?;
                tx.commit()?;
                Ok(taken)
            })?;
            if !taken {
                // Its last use went to another request (or another server) first.
                return Ok(None);
            }
        }
        Ok(Some(Self::disruption_of(&fault, now_ms)))
    }

    fn disruption_of(fault: &Fault, now_ms: i64) -> Disruption {
        metrics::counter!("rolestack_metadata_faults_applied_total", "kind" => fault.kind.name()).increment(1);
        let longest = crate::fault::MAX_DELAY_MS;
        match fault.kind {
            FaultKind::Delay { millis } => Disruption::Delay(std::time::Duration::from_millis(millis)),
            FaultKind::Status { code } => Disruption::Status(code),
            FaultKind::Throttle { .. } => Disruption::Status(429),
            FaultKind::Reset => Disruption::Reset,
            FaultKind::Timeout => {
                let left = fault.until_ms.map_or(longest, |u| u64::try_from(u - now_ms).unwrap_or(0).min(longest));
                Disruption::Hang(std::time::Duration::from_millis(left))
            }
            FaultKind::StaleCredentials => Disruption::Stale,
            FaultKind::ExpireCredentials => Disruption::Expired,
        }
    }

    /// Answers a credential-document GET as a `Stale` or `Expired` disruption makes it (any
    /// other disruption: as [`InstanceMetadata::answer`]). Refusals (disabled endpoint, missing
    /// or invalid token) come first, as always.
    pub fn answer_disrupted(&self, path: &str, token: Option<&str>, disruption: &Disruption) -> Result<MetadataAnswer> {
        let now = self.rs.clock.now();
        if *disruption == Disruption::Expired {
            if let Some(answer) = self.expired_document(path, token, now)? {
                return Ok(answer);
            }
        }
        let answer = self.answer(path, token)?;
        if *disruption != Disruption::Stale || answer.status != 200 || !answer.json {
            return Ok(answer);
        }
        let Ok(mut doc) = serde_json::from_slice::<serde_json::Value>(&answer.body) else { return Ok(answer) };
        doc["Expiration"] = json!(format_date(now - STALE_BY));
        Ok(MetadataAnswer { body: serde_json::to_string_pretty(&doc).unwrap_or_default().into(), ..answer })
    }

    /// The document of the instance's current, expired set (`None`: there is none, or it is not
    /// expired: answer as usual).
    fn expired_document(&self, path: &str, token: Option<&str>, now: OffsetDateTime) -> Result<Option<MetadataAnswer>> {
        let mut tx = self.rs.store.begin_read()?;
        let Some(instance) = tx.get_rec::<Instance>(&self.account_id, &self.instance_id)? else { return Ok(None) };
        if let Some(refused) = self.refusal(&instance, token) {
            return Ok(Some(refused));
        }
        let Some(session) = tx.get_rec::<InstanceSession>(&self.account_id, &self.instance_id)? else { return Ok(None) };
        let asked = credential_role(&path.to_ascii_lowercase()).unwrap_or_default().to_string();
        let Ok(sealed) = SealedToken::open(&self.rs.key, &session.token) else { return Ok(None) };
        if session.expires > now.unix_timestamp() || !session.role_name.eq_ignore_ascii_case(&asked) {
            return Ok(None);
        }
        let mut credentials = sealed.credentials_sealed(session.token.clone());
        credentials.expiration = OffsetDateTime::from_unix_timestamp(session.expires).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let c = InstanceCredentials {
            role_name: session.role_name,
            credentials,
            last_updated: OffsetDateTime::from_unix_timestamp(sealed.issued).unwrap_or(OffsetDateTime::UNIX_EPOCH),
            issued_now: false,
        };
        Ok(Some(MetadataAnswer { status: 200, json: true, body: document_body(&c) }))
    }

    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// `PUT /latest/api/token` answered from memory, if the instance read before is current:
    /// `None` when the store must be read ([`InstanceMetadata::issue_token`]). Never touches the
    /// store.
    pub fn issue_token_remembered(&self, ttl: Option<&str>, forwarded: bool) -> Option<MetadataAnswer> {
        if self.rs.store.shared() {
            return None;
        }
        let view = self.remembered_view(self.rs.store.version()?)?;
        Some(self.token_answer(&view.instance, ttl, forwarded))
    }

    /// `PUT /latest/api/token`: a token for hardened-mode reads, sealed with the server key and
    /// bound to this instance and its expiry. `forwarded`: the request came through a proxy
    /// (`X-Forwarded-For`), which the real service refuses. An instance whose metadata endpoint
    /// is disabled gets no token either.
    pub fn issue_token(&self, ttl: Option<&str>, forwarded: bool) -> Result<MetadataAnswer> {
        let version = self.rs.store.version();
        if let Some(view) = version.and_then(|v| self.remembered_view(v)) {
            return Ok(self.token_answer(&view.instance, ttl, forwarded));
        }
        self.rs.cluster.refresh(&self.rs);
        let Some(view) = self.read(version)? else { return Ok(MetadataAnswer::not_found()) };
        let answer = self.token_answer(&view.instance, ttl, forwarded);
        self.remember(view);
        Ok(answer)
    }

    fn token_answer(&self, inst: &Instance, ttl: Option<&str>, forwarded: bool) -> MetadataAnswer {
        if inst.status != "Running" {
            return MetadataAnswer::powered_off();
        }
        if inst.http_endpoint == "disabled" {
            return MetadataAnswer::endpoint_disabled();
        }
        if forwarded {
            return MetadataAnswer::plain(403, "403 - Forbidden: token requests must not be forwarded");
        }
        match ttl.and_then(|v| v.parse::<i64>().ok()) {
            Some(ttl) if (1..=MAX_TOKEN_TTL).contains(&ttl) => {
                let expires = self.rs.clock.now().unix_timestamp() + ttl;
                MetadataAnswer::plain(200, self.rs.key.seal(TOKEN_PURPOSE, format!("{}|{expires}", self.instance_id).as_bytes()))
            }
            _ => MetadataAnswer::plain(
                400,
                format!("400 - Bad Request: header {TOKEN_TTL_HEADER} must be an integer from 1 to {MAX_TOKEN_TTL}"),
            ),
        }
    }

    /// Answers a GET from memory, if what it needs is current: `None` when the store must be
    /// read ([`InstanceMetadata::answer`]). Never touches the store (on a shared store, whose
    /// version is itself a round trip to the database, it leaves everything to `answer`).
    pub fn answer_remembered(&self, path: &str, token: Option<&str>) -> Option<MetadataAnswer> {
        if self.rs.store.shared() {
            return None;
        }
        self.remembered_at(self.rs.store.version()?, path, token)
    }

    fn remembered_at(&self, version: u64, path: &str, token: Option<&str>) -> Option<MetadataAnswer> {
        let view = self.remembered_view(version)?;
        self.respond(&view, path, token)
    }

    /// The view read before, if the store is still at `version`.
    fn remembered_view(&self, version: u64) -> Option<Arc<View>> {
        self.remembered.lock().unwrap_or_else(|p| p.into_inner()).clone().filter(|v| v.version == Some(version))
    }

    /// Answers a GET, reading the store (and for the credential document issuing or rotating
    /// the instance's session when due).
    pub fn answer(&self, path: &str, token: Option<&str>) -> Result<MetadataAnswer> {
        let version = self.rs.store.version();
        if let Some(answer) = version.and_then(|v| self.remembered_at(v, path, token)) {
            return Ok(answer);
        }
        self.rs.cluster.refresh(&self.rs);
        let Some(mut view) = self.read(version)? else { return Ok(MetadataAnswer::not_found()) };
        // Refusals and everything but the credential document need nothing more.
        if let Some(answer) = self.respond(&view, path, token) {
            self.remember(view);
            return Ok(answer);
        }
        view.document = self.document(&view.instance)?;
        let answer = self.respond(&view, path, token).unwrap_or_else(MetadataAnswer::not_found);
        self.remember(view);
        Ok(answer)
    }

    fn remember(&self, view: View) {
        if view.version.is_some() {
            *self.remembered.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(view));
        }
    }

    /// The instance and its network, as the tree shows them.
    fn read(&self, version: Option<u64>) -> Result<Option<View>> {
        let mut tx = self.rs.store.begin_read()?;
        let Some(instance) = tx.get_rec::<Instance>(&self.account_id, &self.instance_id)? else { return Ok(None) };
        let (vpc, vswitch) = match (&instance.vpc_id, &instance.vswitch_id) {
            (Some(v), Some(s)) => (tx.get_rec::<Vpc>(&self.account_id, v)?, tx.get_rec::<VSwitch>(&self.account_id, s)?),
            _ => (None, None),
        };
        let leaves = leaves(&self.account_id, &instance, vpc.as_ref(), vswitch.as_ref());
        let user_data = instance.user_data.as_deref().and_then(crate::ecs::user_data::decode).map(Bytes::from);
        // The document read before stays good while the store did not change.
        let document = self.remembered.lock().unwrap_or_else(|p| p.into_inner()).as_ref().filter(|v| v.version == version).and_then(|v| {
            v.document.as_ref().map(|d| Document { role_name: d.role_name.clone(), body: d.body.clone(), rotate_at: d.rotate_at })
        });
        Ok(Some(View { version, instance, leaves, user_data, document }))
    }

    /// Issues, rotates or reads the instance's credentials and renders their document.
    fn document(&self, instance: &Instance) -> Result<Option<Document>> {
        let now = self.rs.clock.now();
        // The instance as the write transaction sees it: a role detached since `instance` was
        // read gets no new session (the read snapshot may predate the detach). Two nodes
        // rotating at once: one commits, the other conflicts and reads its set.
        let creds = crate::store::retry(|| {
            let mut tx = self.rs.store.begin()?;
            let Some(current) = tx.get_rec::<Instance>(&self.account_id, &instance.id)? else { return Ok(None) };
            let creds = instance_credentials(&mut *tx, &self.rs.key, &self.account_id, &current, now)?;
            tx.commit()?;
            Ok(creds)
        })?;
        let Some(c) = creds else { return Ok(None) };
        if c.issued_now {
            self.record_issued(instance, &c);
        }
        Ok(Some(Document {
            body: document_body(&c),
            role_name: c.role_name,
            rotate_at: c.credentials.expiration.unix_timestamp() - ROTATE_BEFORE_EXPIRY.whole_seconds(),
        }))
    }

    fn token_valid(&self, token: &str) -> bool {
        let Ok(raw) = self.rs.key.open(TOKEN_PURPOSE, token) else { return false };
        let Ok(text) = String::from_utf8(raw) else { return false };
        let Some((instance, expires)) = text.split_once('|') else { return false };
        instance == self.instance_id && expires.parse::<i64>().is_ok_and(|e| self.rs.clock.now().unix_timestamp() < e)
    }

    /// The refusal of a read before anything else: the endpoint is disabled, or the read's
    /// hardened-mode token is missing (when required) or invalid.
    fn refusal(&self, inst: &Instance, token: Option<&str>) -> Option<MetadataAnswer> {
        if inst.status != "Running" {
            return Some(MetadataAnswer::powered_off());
        }
        if inst.http_endpoint == "disabled" {
            return Some(MetadataAnswer::endpoint_disabled());
        }
        match token {
            Some(t) if !self.token_valid(t) => Some(MetadataAnswer::plain(401, "401 - Unauthorized: invalid or expired metadata token")),
            None if inst.http_tokens == "required" => {
                Some(MetadataAnswer::plain(401, "401 - Unauthorized: this instance requires a metadata token (PUT /latest/api/token)"))
            }
            _ => None,
        }
    }

    /// The answer from what `view` holds: `None` when it is the credential document and `view`
    /// has no current one.
    fn respond(&self, view: &View, path: &str, token: Option<&str>) -> Option<MetadataAnswer> {
        let inst = &view.instance;
        if let Some(refused) = self.refusal(inst, token) {
            return Some(refused);
        }
        let lower = path.to_ascii_lowercase();
        if let Some(role) = credential_role(&lower) {
            let doc = view.document.as_ref()?;
            if self.rs.clock.now().unix_timestamp() >= doc.rotate_at {
                return None;
            }
            return Some(match doc.role_name.eq_ignore_ascii_case(role) {
                true => MetadataAnswer { status: 200, json: true, body: doc.body.clone() },
                false => MetadataAnswer::not_found(),
            });
        }
        let Some(rest) = lower.strip_prefix("/latest/meta-data") else {
            return Some(match lower.as_str() {
                "/" => MetadataAnswer::plain(200, format!("{API_VERSION}\nlatest")),
                "/latest" | "/latest/" => match view.user_data {
                    Some(_) => MetadataAnswer::plain(200, "dynamic/\nmeta-data/\nuser-data"),
                    None => MetadataAnswer::plain(200, "dynamic/\nmeta-data/"),
                },
                "/latest/user-data" => match &view.user_data {
                    Some(raw) => MetadataAnswer::plain(200, raw.clone()),
                    None => MetadataAnswer::not_found(),
                },
                "/latest/dynamic/instance-identity/document" => {
                    let doc = json!({
                        "account-id": self.account_id, "instance-id": inst.id, "region-id": inst.region_id,
                        "zone-id": inst.zone_id, "image-id": inst.image_id, "instance-type": inst.instance_type,
                        "private-ipv4": inst.private_ip, "mac": inst.mac, "serial-number": inst.serial_number,
                        "owner-account-id": self.account_id,
                    });
                    MetadataAnswer::plain(200, doc.to_string())
                }
                "/latest/dynamic" | "/latest/dynamic/" => MetadataAnswer::plain(200, "instance-identity/"),
                "/latest/dynamic/instance-identity" | "/latest/dynamic/instance-identity/" => MetadataAnswer::plain(200, "document"),
                _ => MetadataAnswer::not_found(),
            });
        };
        let rest = match rest.trim_start_matches('/') {
            // The role list answers with or without its trailing slash.
            "ram/security-credentials" => "ram/security-credentials/",
            "public-keys" => "public-keys/",
            other => other,
        };
        if let Some(value) = view.leaves.get(rest) {
            return Some(MetadataAnswer::plain(200, value.clone()));
        }
        // A directory: list the next path segment of every leaf below it.
        let dir = if rest.is_empty() || rest.ends_with('/') { rest.to_string() } else { format!("{rest}/") };
        let mut children: Vec<String> = Vec::new();
        for key in view.leaves.keys().filter_map(|k| k.strip_prefix(dir.as_str())) {
            let child = match key.split_once('/') {
                Some((head, _)) => format!("{head}/"),
                None => key.to_string(),
            };
            if !child.is_empty() && !children.contains(&child) {
                children.push(child);
            }
        }
        Some(if children.is_empty() { MetadataAnswer::not_found() } else { MetadataAnswer::plain(200, children.join("\n")) })
    }

    /// The ActionTrail event of credentials the metadata service issued: ECS assumed the
    /// instance's role for it (an `AssumeRole` by the service `ecs.aliyuncs.com`).
    fn record_issued(&self, inst: &Instance, c: &InstanceCredentials) {
        let session = session_name(&inst.id);
        let account = &self.account_id;
        let role_arn = format!("acs:ram::{account}:role/{}", c.role_name);
        let params = [("RoleArn".to_string(), role_arn), ("RoleSessionName".to_string(), session.clone())];
        self.rs.record(&crate::audit::CallRecord {
            caller: None,
            access_key_id: None,
            service_name: "Sts",
            event_source: "sts.aliyuncs.com",
            event_name: "AssumeRole",
            event_type: crate::audit::EventType::AliyunServiceEvent,
            read: false,
            api_version: Some("2015-04-01"),
            request_id: &crate::ids::request_id(),
            source_ip: None,
            user_agent: None,
            region: &inst.region_id,
            request_parameters: crate::audit::request_parameters(params.iter().map(|(k, v)| (k, v))),
            response_elements: Some(json!({
                "AssumedRoleUser": { "Arn": format!("acs:ram::{account}:assumed-role/{}/{session}", c.role_name) },
                "Credentials": { "AccessKeyId": c.credentials.access_key_id, "Expiration": format_date(c.credentials.expiration) },
                "InstanceId": inst.id,
            })),
            additional_event_data: None,
            resources: vec![("ACS::RAM::Role".into(), c.role_name.clone()), ("ACS::ECS::Instance".into(), inst.id.clone())],
            error: None,
            account: Some(account),
            acting_service: Some("ecs.aliyuncs.com"),
        });
    }
}

/// The credential document's JSON body.
fn document_body(c: &InstanceCredentials) -> Bytes {
    let doc = json!({
        "AccessKeyId": c.credentials.access_key_id,
        "AccessKeySecret": c.credentials.access_key_secret,
        "Expiration": format_date(c.credentials.expiration),
        "SecurityToken": c.credentials.security_token,
        "LastUpdated": format_date(c.last_updated),
        "Code": "Success",
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default().into()
}

/// Every leaf of the `meta-data` tree for an instance (lower-case paths), except the credential
/// document itself.
fn leaves(account_id: &str, inst: &Instance, vpc: Option<&Vpc>, vswitch: Option<&VSwitch>) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        m.insert(k.to_string(), v.to_string());
    };
    put("instance-id", &inst.id);
    put("region-id", &inst.region_id);
    put("zone-id", &inst.zone_id);
    put("hostname", &inst.host_name);
    put("image-id", &inst.image_id);
    put("instance/instance-type", &inst.instance_type);
    put("instance/instance-name", &inst.name);
    put("private-ipv4", &inst.private_ip);
    put("mac", &inst.mac);
    put("serial-number", &inst.serial_number);
    put("owner-account-id", account_id);
    put("network-type", &inst.network_type);
    put("source-address", "http://mirrors.cloud.aliyuncs.com");
    put("dns-conf/nameservers", "100.100.2.136\n100.100.2.138");
    put("ntp-conf/ntp-servers", "ntp1.aliyun.com\nntp2.aliyun.com");
    let mac = inst.mac.to_ascii_lowercase();
    put(&format!("network/interfaces/macs/{mac}/primary-ip-address"), &inst.private_ip);
    put(&format!("network/interfaces/macs/{mac}/private-ipv4s"), &format!("[\"{}\"]", inst.private_ip));
    if let Some(v) = vpc {
        put("vpc-id", &v.id);
        put("vpc-cidr-block", &v.cidr_block);
        put(&format!("network/interfaces/macs/{mac}/vpc-id"), &v.id);
        put(&format!("network/interfaces/macs/{mac}/vpc-cidr-block"), &v.cidr_block);
    }
    if let Some(eni) = inst.network_interface_id() {
        put(&format!("network/interfaces/macs/{mac}/network-interface-id"), &eni);
    }
    if let Some(s) = vswitch {
        if let Some(cidr) = Cidr::parse(&s.cidr_block) {
            put(&format!("network/interfaces/macs/{mac}/netmask"), &cidr.netmask().to_string());
            put(&format!("network/interfaces/macs/{mac}/gateway"), &cidr.gateway().to_string());
        }
        put("vswitch-id", &s.id);
        put("vswitch-cidr-block", &s.cidr_block);
        put(&format!("network/interfaces/macs/{mac}/vswitch-id"), &s.id);
        put(&format!("network/interfaces/macs/{mac}/vswitch-cidr-block"), &s.cidr_block);
    }
    if let Some(role) = &inst.ram_role_name {
        // The directory body is exactly the role name: the SDKs use it verbatim.
        m.insert("ram/security-credentials/".into(), role.clone());
        m.insert(format!("ram/security-credentials/{}", role.to_ascii_lowercase()), String::new());
    }
    if let (Some(name), Some(key)) = (&inst.key_pair_name, &inst.public_key) {
        // The list names the key by index and name; the key itself is under its index.
        m.insert("public-keys/".into(), format!("0={name}"));
        m.insert("public-keys/0/openssh-key".into(), key.clone());
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_versioned_tree_is_latest() {
        assert_eq!(canonical_path("/2016-01-01/meta-data/instance-id"), "/latest/meta-data/instance-id");
        assert_eq!(canonical_path("/2016-01-01"), "/latest");
        assert_eq!(canonical_path("/2016-01-01/"), "/latest/");
        assert_eq!(canonical_path("/2016-01-011/x"), "/2016-01-011/x");
        assert_eq!(canonical_path("/latest/user-data"), "/latest/user-data");
        assert_eq!(canonical_path("/"), "/");
    }
}
