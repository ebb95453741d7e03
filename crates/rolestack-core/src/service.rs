//! The entry point front-ends call: authenticate an AccessKey, spend a request nonce, and run one
//! API action (resources → authorization → handler) inside one store transaction.

use std::sync::Arc;

use serde_json::Value;

use crate::audit::AuditTrail;
use crate::authz::authorize_with;
use crate::cache::VersionedCache;
use crate::caller::{Caller, Principal};
use crate::catalog::ApiAction;
use crate::clock::Clock;
use crate::cluster::Cluster;
use crate::group_commit::GroupCommit;
use crate::handler::Ctx;
use crate::model::{AccessKey, KeyOwner, KeyStatus, User};
use crate::names;
use crate::network::{InstanceNetwork, NoNetwork};
use crate::oss::blob::{BlobStore, MemoryBlobStore};
use crate::oss::OssError;
use crate::params::Params;
use crate::ram::users::SECRET_PURPOSE;
use crate::replay::NonceGuard;
use crate::seal::ServerKey;
use crate::store::{Store, Tx, GLOBAL};
use crate::sts::{check_session, check_token, SealedToken};
use crate::{Error, Result};

/// rolestack's state and services, shared by every front-end.
#[derive(Clone)]
pub struct Rolestack {
    pub store: Arc<dyn Store>,
    pub key: ServerKey,
    pub clock: Clock,
    /// Gives instances their network presence (namespaces, proxies); [`NoNetwork`] by default.
    pub network: Arc<dyn InstanceNetwork>,
    /// OSS object bodies ([`MemoryBlobStore`] by default; `serve` uses files under the data dir).
    pub blobs: Arc<dyn BlobStore>,
    /// ActionTrail events (kept in memory by default; `serve` writes them to the store).
    pub audit: Arc<AuditTrail>,
    /// Spent request nonces (in memory by default; `serve` journals them to the data directory's nonce log).
    pub replay: Arc<NonceGuard>,
    /// What requests reuse from the store while it has not changed.
    pub caches: Arc<Caches>,
    /// OSS index writes of concurrent requests, committed together.
    pub object_commits: Arc<GroupCommit<OssError>>,
    /// This node among the nodes of a shared store ([`Cluster::single`] by default).
    pub cluster: Arc<Cluster>,
}

/// What requests reuse from the store while it has not changed (see [`crate::cache`]).
#[derive(Default)]
pub struct Caches {
    /// AccessKey id → its owner and secret.
    access_keys: VersionedCache<String, Authenticated>,
    /// SecurityToken → the session it opened to (its role checked at that version).
    sessions: VersionedCache<String, SealedToken>,
    /// OSS bucket name → its record, for reads (a GET's bucket, CORS and referer rules).
    pub(crate) oss_buckets: VersionedCache<String, Arc<crate::oss::model::Bucket>>,
}

/// Why [`Rolestack::readiness`] failed: which store did not answer (safe to tell anyone) and the
/// error (for the log: it may name hosts and buckets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady {
    pub unreachable: &'static str,
    pub detail: String,
}

/// A request nonce spent in memory ([`Rolestack::spend_nonce`]); the call it came with makes it
/// durable (see [`crate::replay`]).
pub struct SpentNonce {
    access_key_id: String,
    nonce: String,
    expires: i64,
    /// When the request was signed, on the real clock's scale (Unix seconds): a request signed
    /// before the shared store's server last started is refused once its nonce is in the store
    /// (see [`Rolestack::check_restart_epoch`]).
    signed_at: i64,
    /// Its record for the replay guard's journal.
    spent: crate::replay::Spent,
}

fn nonce_used() -> Error {
    Error::service(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
}

/// A credential that exists and is valid, with its secret (for signature checks) and identity.
#[derive(Clone)]
pub struct Authenticated {
    pub account_id: String,
    pub secret: String,
    pub principal: Principal,
}

impl Rolestack {
    pub fn new(store: Arc<dyn Store>, key: ServerKey, clock: Clock) -> Self {
        Rolestack {
            key,
            clock,
            network: Arc::new(NoNetwork),
            blobs: Arc::new(MemoryBlobStore::default()),
            audit: AuditTrail::in_memory(),
            replay: NonceGuard::new(0),
            caches: Arc::default(),
            object_commits: Arc::new(GroupCommit::new(store.clone())),
            cluster: Arc::new(Cluster::single()),
            store,
        }
    }

    /// Sets the replay guard (one whose journal a flusher writes, and the restart epoch).
    pub fn with_replay(mut self, replay: Arc<NonceGuard>) -> Self {
        self.replay = replay;
        self
    }

    /// Makes this server one node of several on a shared store.
    pub fn with_cluster(mut self, cluster: Arc<Cluster>) -> Self {
        self.cluster = cluster;
        self
    }

    /// Sets where OSS object bodies live (in memory by default).
    pub fn with_blobs(mut self, blobs: Arc<dyn BlobStore>) -> Self {
        self.blobs = blobs;
        self
    }

    /// Whether this server can serve (`/ready`): the store answers a read and the blob store
    /// answers too.
    pub fn readiness(&self) -> std::result::Result<(), NotReady> {
        self.store
            .begin_read()
            .and_then(|mut tx| tx.get(crate::store::Kind::Account, "", ""))
            .map_err(|e| NotReady { unreachable: "store", detail: e.to_string() })?;
        self.blobs.check().map_err(|e| NotReady { unreachable: "blob store", detail: e.to_string() })?;
        Ok(())
    }

    /// Sets where ActionTrail events go.
    pub fn with_audit(mut self, audit: Arc<AuditTrail>) -> Self {
        self.audit = audit;
        self
    }

    /// Records an ActionTrail event for a call (dropped when it names no account).
    pub fn record(&self, call: &crate::audit::CallRecord<'_>) {
        if let Some(row) = crate::audit::event(call, self.clock.now()) {
            self.audit.record(row);
        }
    }

    /// Publishes the audit trail's gauges (before a metrics scrape).
    pub fn audit_gauges(&self) {
        metrics::gauge!("rolestack_audit_events_dropped").set(self.audit.dropped() as f64);
    }

    /// Sets the host's instance-network implementation.
    pub fn with_network(mut self, network: Arc<dyn InstanceNetwork>) -> Self {
        self.network = network;
        self
    }

    /// Looks an AccessKey up: `InvalidAccessKeyId.NotFound` (404) or `.Inactive` (400) otherwise.
    pub fn authenticate(&self, access_key_id: &str) -> Result<Authenticated> {
        let version = self.store.version();
        self.caches.access_keys.get_or_read(access_key_id.to_string(), version, || self.read_access_key(access_key_id))
    }

    fn read_access_key(&self, access_key_id: &str) -> Result<Authenticated> {
        let mut tx = self.store.begin_read()?;
        let key = tx
            .get_rec::<AccessKey>(GLOBAL, access_key_id)?
            .ok_or_else(|| Error::service(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."))?;
        if key.status == KeyStatus::Inactive {
            return Err(Error::service(400, "InvalidAccessKeyId.Inactive", "Specified access key is disabled."));
        }
        let secret =
            self.key.open(SECRET_PURPOSE, &key.sealed_secret).map_err(|e| Error::Store(format!("AccessKey {access_key_id}: {e}")))?;
        let secret = String::from_utf8(secret).map_err(|e| Error::Store(e.to_string()))?;
        let principal = match &key.owner {
            KeyOwner::Root => Principal::Root,
            KeyOwner::User(name) => {
                let user = tx
                    .get_rec::<User>(&key.account_id, name)?
                    .ok_or_else(|| Error::service(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."))?;
                Principal::User { name: user.name, id: user.id }
            }
        };
        Ok(Authenticated { account_id: key.account_id, secret, principal })
    }

    /// Checks STS credentials: the sealed token must open, match the AccessKeyId, be unexpired and
    /// belong to a live, unrevoked role session.
    pub fn authenticate_session(&self, access_key_id: &str, security_token: &str) -> Result<Authenticated> {
        // Expiry follows the clock every node shares (a moved fake clock).
        self.cluster.refresh(self);
        let version = self.store.version();
        let now = self.clock.now();
        let token = match self.caches.sessions.get(security_token, version) {
            Some(token) => {
                check_token(&token, access_key_id, now)?;
                token
            }
            None => {
                let token = SealedToken::open(&self.key, security_token)?;
                check_session(&mut *self.store.begin_read()?, &token, access_key_id, now)?;
                self.caches.sessions.put(security_token.to_string(), version, token.clone());
                token
            }
        };
        Ok(Authenticated {
            account_id: token.account_id,
            secret: token.access_key_secret,
            principal: Principal::RoleSession {
                role_name: token.role_name,
                role_id: token.role_id,
                session_name: token.session_name,
                session_policy: token.session_policy,
                source_identity: token.source_identity,
            },
        })
    }

    /// Spends a request nonce that guards the request until `expires` (Unix seconds, real clock):
    /// `SignatureNonceUsed` if this process saw it before. `signed_at` is when the request was
    /// signed, on the real clock's scale (Unix seconds). Pass the result to [`Rolestack::call_signed`].
    pub fn spend_nonce(&self, access_key_id: &str, nonce: &str, expires: i64, signed_at: i64) -> Result<SpentNonce> {
        let now = self.clock.real_now().unix_timestamp();
        let spent = self.replay.spend(access_key_id, nonce, now, expires).ok_or_else(nonce_used)?;
        Ok(SpentNonce { access_key_id: access_key_id.to_string(), nonce: nonce.to_string(), expires, spent, signed_at })
    }

    /// Refuses a request signed (`signed_at`, Unix seconds on the real clock's scale) before this
    /// process started after an unclean stop, or before the shared store's server last started:
    /// either may have lost nonces spent just before (`InvalidTimeStamp.Expired`; the client
    /// signs again).
    pub fn check_restart_epoch(&self, signed_at: i64) -> Result<()> {
        let epoch = self.replay.epoch().max(self.store.restart_epoch());
        if signed_at < epoch {
            return Err(Error::service(
                400,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired: it was signed before the server restarted after an unclean stop; sign the request again.",
            ));
        }
        Ok(())
    }

    /// Runs one action for an authenticated caller: resolves its resources, authorizes, handles.
    /// The parameters report errors in the product's own style (see [`crate::product`]).
    pub fn call(&self, caller: &Caller, action: &ApiAction, params: &Params) -> Result<Value> {
        self.run(caller, action, params, None)
    }

    /// [`Rolestack::call`] for a signed request, making its nonce durable: a call that writes
    /// stores it in its own transaction (one commit for both), any other journals it.
    pub fn call_signed(&self, caller: &Caller, action: &ApiAction, params: &Params, nonce: SpentNonce) -> Result<Value> {
        self.run(caller, action, params, Some(nonce))
    }

    fn run(&self, caller: &Caller, action: &ApiAction, params: &Params, nonce: Option<SpentNonce>) -> Result<Value> {
        let shared = self.store.shared();
        let read_only = !action.writes();
        let now = self.clock.real_now().unix_timestamp();
        if let (Some(n), true, true) = (&nonce, shared, read_only) {
            // A store other nodes share must know every nonce before the call answers: a read
            // spends it in a small transaction of its own (see `Store::spend_nonce`).
            if !self.store.spend_nonce(&n.access_key_id, &n.nonce, now, n.expires)? {
                return Err(nonce_used());
            }
            // The gateway checked the timestamp against the restart epoch it knew then; the
            // database may have restarted (losing async-committed nonces) since. The spend above
            // went through a connection to the running server and updated the epoch, so asking
            // again now refuses a request whose nonce a crash may have lost.
            self.check_restart_epoch(n.signed_at)?;
        }
        self.cluster.refresh(self);
        let result = crate::store::retry(|| {
            let mut tx = if read_only { self.store.begin_read()? } else { self.store.begin()? };
            if let (Some(n), false) = (&nonce, read_only) {
                if !tx.use_nonce(&n.access_key_id, &n.nonce, now, n.expires)? {
                    return Err(nonce_used());
                }
                // As for reads: this transaction runs on a connection opened since the database
                // server last started, so the epoch it taught the store is current.
                if shared {
                    self.check_restart_epoch(n.signed_at)?;
                }
            }
            let body = self.execute(&mut *tx, caller, action, params)?;
            tx.commit()?;
            Ok(body)
        });
        if let Some(n) = nonce {
            match (shared, read_only, &result) {
                // Spent above, or committed with the write.
                (true, true, _) | (_, false, Ok(_)) => {}
                // A refused write on a shared store: its nonce rolled back with it; spend it now.
                (true, false, Err(_)) => {
                    if let Err(e) = self.store.spend_nonce(&n.access_key_id, &n.nonce, now, n.expires) {
                        eprintln!("rolestack: could not record the nonce of a refused call: {e}");
                    }
                }
                // Not durable with a committed write: journal it.
                (false, _, _) => self.replay.journal(n.spent),
            }
        }
        result
    }

    fn execute(&self, tx: &mut dyn Tx, caller: &Caller, action: &ApiAction, params: &Params) -> Result<Value> {
        let style = action.product.errors();
        // Callers usually give the product's style already (then no copy is made).
        let restyled;
        let params = if params.style() == style {
            params
        } else {
            restyled = params.clone().styled(style);
            &restyled
        };
        let account = caller.account_id.clone();
        // A regional call without `RegionId` is authorized in the region it is really about when
        // that can be known, not in `*`, which no region-scoped statement matches (the handler
        // sees the request's own parameters: a required `RegionId` is still missing there).
        let regioned;
        let authorized = match implied_region(&mut *tx, action, caller, params)? {
            Some(region) => {
                regioned = params.clone().with("RegionId", &region);
                &regioned
            }
            None => params,
        };
        let resources = expand(action, caller, authorized, &mut |param, value| match param {
            ROLE_ARN => names::role_arn_spellings(&mut *tx, &account, value),
            _ => names::spellings(&mut *tx, &account, param, value),
        })?;
        // The request's own condition keys (`acs:RequestTag/<key>`, `ram:ServiceName`,
        // `ram:OidcIssuerUrl`, ...); the resources' tags are added per resource by `authorize_with`.
        let mut request = crate::ram::tags::request_context(&mut *tx, &account, action, params)?;
        match action.product {
            crate::catalog::Product::Ecs => crate::ecs::add_condition_keys(action.name, params, &mut request),
            crate::catalog::Product::Ims => crate::ims::add_condition_keys(&mut *tx, &account, action.name, params, &mut request)?,
            _ => {}
        }
        if let Some(region) = authorized.optional("RegionId") {
            request.set("acs:RequestedRegion", region);
        }
        if let Err(denial) = authorize_with(&mut *tx, caller, action.ram_action, &resources, &request)? {
            return Err(style.denied(denial, &self.key));
        }
        // Checks made inside the handler (`ram:PassRole`, ...) see these same request keys.
        let mut ctx = Ctx {
            tx,
            caller,
            request: &request,
            clock: &self.clock,
            key: &self.key,
            network: self.network.as_ref(),
            audit: self.audit.as_ref(),
            cluster: self.cluster.as_ref(),
        };
        (action.handler)(&mut ctx, params)
    }
}

/// The region a regional call that names no `RegionId` is about: the region of the endpoint it
/// was sent to (`ecs.cn-shanghai.aliyuncs.com`), else the region of the instance, vSwitch, VPC or
/// security group it names. `None` when it names a region, is not regional, or names nothing
/// that has one. So a region-scoped `Deny` cannot be dodged by leaving `RegionId` out, and the
/// handlers find an instance only in the region a call names (docs/authorization.md).
fn implied_region(tx: &mut dyn Tx, action: &ApiAction, caller: &Caller, params: &Params) -> Result<Option<String>> {
    use crate::model::{Instance, SecurityGroup, VSwitch, Vpc};
    if !action.product.spec().regional || params.optional("RegionId").is_some() {
        return Ok(None);
    }
    if let Some(region) = &caller.facts.endpoint_region {
        return Ok(Some(region.clone()));
    }
    let account = &caller.account_id;
    let found = if let Some(id) = params.optional("InstanceId") {
        tx.get_rec::<Instance>(account, id)?.map(|r| r.region_id)
    } else if let Some(id) = params.optional("VSwitchId") {
        tx.get_rec::<VSwitch>(account, id)?.map(|r| r.region_id)
    } else if let Some(id) = params.optional("VpcId") {
        tx.get_rec::<Vpc>(account, id)?.map(|r| r.region_id)
    } else if let Some(id) = params.optional("SecurityGroupId") {
        tx.get_rec::<SecurityGroup>(account, id)?.map(|r| r.region_id)
    } else {
        None
    };
    Ok(found)
}

/// The pseudo-parameter under which [`expand`] asks for the spellings of an `@Param` ARN.
const ROLE_ARN: &str = "@RoleArn";

/// Gives the spellings to authorize for one parameter value (see [`crate::names`]).
pub type Spell<'a> = dyn FnMut(&str, &str) -> Result<Vec<String>> + 'a;

/// Expands an action's resource templates into ARNs for this call, exactly as sent. ECS ARNs
/// carry the request's `RegionId`; other products use `*` as RAM does.
pub fn resources(action: &ApiAction, caller: &Caller, params: &Params) -> Result<Vec<String>> {
    expand(action, caller, params, &mut |_, value| Ok(vec![value.to_string()]))
}

/// [`resources`], with every named value replaced by each of its spellings (`spell(param, value)`;
/// `@Param` ARNs are asked for as `"@<Param>"`), deduplicated, in order.
pub fn expand(action: &ApiAction, caller: &Caller, params: &Params, spell: &mut Spell<'_>) -> Result<Vec<String>> {
    let spec = action.product.spec();
    let service = spec.service;
    let region = if spec.regional { params.optional("RegionId").unwrap_or("*") } else { "*" };
    let mut out: Vec<String> = Vec::new();
    let mut push = |arn: String| {
        if !out.contains(&arn) {
            out.push(arn);
        }
    };
    for template in action.resources {
        // `?template`: a resource the call names only optionally (the security group of
        // CreateInstance): authorized when every parameter it uses is given, skipped otherwise.
        let template = match template.strip_prefix('?') {
            Some(t) if template_params(t).all(|p| params.optional(p).is_some() || !params.repeated(p).is_empty()) => t,
            Some(_) => continue,
            None => template,
        };
        // `@Param`: the parameter is itself the resource's ARN (STS AssumeRole's RoleArn).
        if let Some(param) = template.strip_prefix('@') {
            for arn in spell(&format!("@{param}"), params.required(param)?)? {
                push(arn);
            }
            continue;
        }
        // `<service>:template`: another product's resource, named by that product's ARN (the
        // vSwitch of ECS RunInstances is `acs:vpc:<region>:<account>:vswitch/<id>`).
        let (service, template) = other_service(template).unwrap_or((service, template));
        // System policies are not the account's: RAM names them `acs:ram:*:system:policy/<name>`,
        // so a statement on the account's policies neither grants nor denies attaching them.
        let system_policy = service == "ram" && template.starts_with("policy/") && params.optional("PolicyType") == Some("System");
        let account = if system_policy { "system" } else { caller.account_id.as_str() };
        let mut arns = vec![format!("acs:{service}:{region}:{account}:")];
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            let literal = &rest[..start];
            let end = rest[start..].find('}').map(|e| start + e).unwrap_or(rest.len() - 1);
            let mut values = Vec::new();
            for (param, value) in placeholder(&rest[start + 1..end], caller, params)? {
                match param {
                    Some(param) => values.extend(spell(param, &value)?),
                    None => values.push(value),
                }
            }
            arns = arns.iter().flat_map(|prefix| values.iter().map(move |v| format!("{prefix}{literal}{v}"))).collect();
            rest = &rest[end + 1..];
        }
        for arn in arns {
            push(arn + rest);
        }
    }
    Ok(out)
}

/// Splits `vpc:vswitch/{VSwitchId}` into the service whose ARN it is and the template proper;
/// `None` for a template of the action's own product (no lower-case `<service>:` prefix).
fn other_service(template: &str) -> Option<(&str, &str)> {
    let (service, rest) = template.split_once(':')?;
    (!service.is_empty() && service.bytes().all(|b| b.is_ascii_lowercase())).then_some((service, rest))
}

/// The parameters a template's placeholders name (`{P}`, `{P?}`, `{P[]}`, `{P.N}`).
fn template_params(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}'))
        .map(|(spec, _)| spec.strip_suffix("[]").or_else(|| spec.strip_suffix(".N")).or_else(|| spec.strip_suffix('?')).unwrap_or(spec))
}

/// The values of one `{...}` placeholder, each with the parameter it came from (`None` for a
/// value that is not a parameter: `*`, or the caller's own name): `{P}` one required value,
/// `{P?}` the value or the caller's own user name, `{P[]}` every element of a JSON-array
/// parameter (ECS `InstanceIds`), `{P.N}` every value of a repeated parameter `P.1`, `P.2`, ...
/// (`ResourceId.N` of TagResources).
fn placeholder<'s>(spec: &'s str, caller: &Caller, params: &Params) -> Result<Vec<(Option<&'s str>, String)>> {
    if let Some(param) = spec.strip_suffix(".N") {
        let values = params.repeated(param);
        if values.is_empty() {
            return Err(params.style().missing(&format!("{param}.1")));
        }
        return Ok(values.into_iter().map(|(_, v)| (Some(param), v.to_string())).collect());
    }
    if let Some(param) = spec.strip_suffix("[]") {
        let raw = params.required(param)?;
        let items: Vec<String> = serde_json::from_str(raw).map_err(|_| {
            Error::invalid(
                format!("Invalid{param}.Malformed"),
                format!("The specified {param} are not valid: expected a JSON array of strings such as [\"i-abc\"], got {raw}."),
            )
        })?;
        if items.is_empty() {
            return Err(Error::invalid(
                format!("Invalid{param}.Malformed"),
                format!("The specified {param} are not valid: the list is empty."),
            ));
        }
        return Ok(items.into_iter().map(|v| (Some(param), v)).collect());
    }
    if let Some(param) = spec.strip_suffix('?') {
        return Ok(vec![match params.optional(param) {
            Some(v) => (Some(param), v.to_string()),
            None => match &caller.principal {
                Principal::User { name, .. } => (None, name.clone()),
                Principal::Root | Principal::RoleSession { .. } => (None, "*".to_string()),
            },
        }]);
    }
    Ok(vec![(Some(spec), params.required(spec)?.to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::RequestFacts;
    use crate::catalog::Product;

    fn caller() -> Caller {
        Caller {
            account_id: "123".into(),
            principal: Principal::User { name: "alice".into(), id: "9".into() },
            access_key_id: "LTAIx".into(),
            facts: RequestFacts::at(time::OffsetDateTime::UNIX_EPOCH),
            mfa_at: None,
        }
    }

    fn noop(_: &mut crate::handler::Ctx, _: &Params) -> Result<Value> {
        Ok(Value::Null)
    }

    fn action(product: Product, resources: &'static [&'static str]) -> ApiAction {
        ApiAction { product, name: "X", ram_action: "x:X", resources, handler: noop }
    }

    #[test]
    fn templates_expand() {
        let p = Params::from_pairs([("RoleName", "r"), ("RegionId", "cn-hangzhou"), ("InstanceIds", r#"["i-1","i-2"]"#)]);
        let ram = action(Product::Ram, &["role/{RoleName}", "user/{UserName?}"]);
        assert_eq!(resources(&ram, &caller(), &p).unwrap(), vec!["acs:ram:*:123:role/r", "acs:ram:*:123:user/alice"]);
        let ecs = action(Product::Ecs, &["instance/{InstanceIds[]}"]);
        assert_eq!(
            resources(&ecs, &caller(), &p).unwrap(),
            vec!["acs:ecs:cn-hangzhou:123:instance/i-1", "acs:ecs:cn-hangzhou:123:instance/i-2"]
        );
        let bad = Params::from_pairs([("InstanceIds", "i-1")]);
        assert_eq!(resources(&ecs, &caller(), &bad).unwrap_err().code(), "InvalidInstanceIds.Malformed");
        let missing = action(Product::Ram, &["role/{RoleName}"]);
        assert_eq!(resources(&missing, &caller(), &Params::default()).unwrap_err().code(), "MissingRoleName");
        let tags = action(Product::Ecs, &["{ResourceType}/{ResourceId.N}", "?securitygroup/{SecurityGroupId}"]);
        let p = Params::from_pairs([
            ("RegionId", "cn-hangzhou"),
            ("ResourceType", "instance"),
            ("ResourceId.2", "i-2"),
            ("ResourceId.1", "i-1"),
        ]);
        assert_eq!(
            resources(&tags, &caller(), &p).unwrap(),
            vec!["acs:ecs:cn-hangzhou:123:instance/i-1", "acs:ecs:cn-hangzhou:123:instance/i-2"]
        );
        let with_sg = Params::from_pairs([("ResourceType", "instance"), ("ResourceId.1", "i-1"), ("SecurityGroupId", "sg-1")]);
        assert_eq!(resources(&tags, &caller(), &with_sg).unwrap(), vec!["acs:ecs:*:123:instance/i-1", "acs:ecs:*:123:securitygroup/sg-1"]);
        let none = Params::from_pairs([("ResourceType", "instance")]).styled(crate::product::ErrorStyle::Ecs);
        assert_eq!(resources(&tags, &caller(), &none).unwrap_err().code(), "MissingParameter");
        // `<service>:template` names another product's resource under that product's ARN.
        let run = action(Product::Ecs, &["instance/*", "?vpc:vswitch/{VSwitchId}"]);
        let p = Params::from_pairs([("RegionId", "cn-hangzhou"), ("VSwitchId", "vsw-1")]);
        assert_eq!(
            resources(&run, &caller(), &p).unwrap(),
            vec!["acs:ecs:cn-hangzhou:123:instance/*", "acs:vpc:cn-hangzhou:123:vswitch/vsw-1"]
        );
        let classic = Params::from_pairs([("RegionId", "cn-hangzhou")]);
        assert_eq!(resources(&run, &caller(), &classic).unwrap(), vec!["acs:ecs:cn-hangzhou:123:instance/*"]);
    }

    /// Every spelling of a named value is authorized: the value as sent and the stored name.
    #[test]
    fn every_spelling_becomes_a_resource() {
        let mut asked = Vec::new();
        let mut stored = |param: &str, value: &str| {
            asked.push(format!("{param}={value}"));
            Ok(match param {
                "UserName" => vec![value.to_string(), value.to_ascii_lowercase()],
                "@RoleArn" => vec![value.to_string(), "acs:ram::123:role/admin".to_string()],
                _ => vec![value.to_string()],
            })
        };
        let p = Params::from_pairs([("UserName", "VICTIM"), ("PolicyName", "AdministratorAccess"), ("RoleArn", "acs:ram::123:role/ADMIN")]);
        let attach = action(Product::Ram, &["policy/{PolicyName}", "user/{UserName}"]);
        assert_eq!(
            expand(&attach, &caller(), &p, &mut stored).unwrap(),
            vec!["acs:ram:*:123:policy/AdministratorAccess", "acs:ram:*:123:user/VICTIM", "acs:ram:*:123:user/victim"]
        );
        let assume = action(Product::Sts, &["@RoleArn"]);
        assert_eq!(expand(&assume, &caller(), &p, &mut stored).unwrap(), vec!["acs:ram::123:role/ADMIN", "acs:ram::123:role/admin"]);
        // The caller's own name (no parameter) is not looked up; a spelling equal to the value is not repeated.
        let own = action(Product::Ram, &["user/{UserName?}"]);
        assert_eq!(expand(&own, &caller(), &Params::default(), &mut stored).unwrap(), vec!["acs:ram:*:123:user/alice"]);
        let same = Params::from_pairs([("UserName", "bob")]);
        assert_eq!(expand(&own, &caller(), &same, &mut stored).unwrap(), vec!["acs:ram:*:123:user/bob"]);
        assert_eq!(asked, ["PolicyName=AdministratorAccess", "UserName=VICTIM", "@RoleArn=acs:ram::123:role/ADMIN", "UserName=bob"]);
    }
}
