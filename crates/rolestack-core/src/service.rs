//! The entry point front-ends call: authenticate an AccessKey, spend a request nonce, and run one
//! API action (resources → authorization → handler) inside one store transaction.

use std::sync::Arc;

use serde_json::Value;

use crate::authz::{authorize_with, Denial};
use crate::caller::{Caller, Principal};
use crate::catalog::{ApiAction, Product};
use crate::clock::Clock;
use crate::model::{AccessKey, KeyOwner, KeyStatus, User};
use crate::names;
use crate::network::{InstanceNetwork, NoNetwork};
use crate::oss::blob::{BlobStore, MemoryBlobStore};
use crate::params::Params;
use crate::ram::users::SECRET_PURPOSE;
use crate::ram::Ctx;
use crate::seal::ServerKey;
use crate::store::{Store, GLOBAL};
use crate::sts::{check_session, SealedToken};
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
}

/// A credential that exists and is valid, with its secret (for signature checks) and identity.
pub struct Authenticated {
    pub account_id: String,
    pub secret: String,
    pub principal: Principal,
}

impl Rolestack {
    pub fn new(store: Arc<dyn Store>, key: ServerKey, clock: Clock) -> Self {
        Rolestack { store, key, clock, network: Arc::new(NoNetwork), blobs: Arc::new(MemoryBlobStore::default()) }
    }

    /// Sets where OSS object bodies live (in memory by default).
    pub fn with_blobs(mut self, blobs: Arc<dyn BlobStore>) -> Self {
        self.blobs = blobs;
        self
    }

    /// Sets the host's instance-network implementation.
    pub fn with_network(mut self, network: Arc<dyn InstanceNetwork>) -> Self {
        self.network = network;
        self
    }

    /// Looks an AccessKey up: `InvalidAccessKeyId.NotFound` (404) or `.Inactive` (400) otherwise.
    pub fn authenticate(&self, access_key_id: &str) -> Result<Authenticated> {
        let mut tx = self.store.begin()?;
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
        let token = SealedToken::open(&self.key, security_token)?;
        let mut tx = self.store.begin()?;
        check_session(&mut *tx, &token, access_key_id, self.clock.now())?;
        Ok(Authenticated {
            account_id: token.account_id,
            secret: token.access_key_secret,
            principal: Principal::RoleSession {
                role_name: token.role_name,
                role_id: token.role_id,
                session_name: token.session_name,
                session_policy: token.session_policy,
            },
        })
    }

    /// Spends a request nonce (kept for `window_seconds`): `SignatureNonceUsed` if seen before.
    pub fn use_nonce(&self, access_key_id: &str, nonce: &str, window_seconds: i64) -> Result<()> {
        let now = self.clock.real_now().unix_timestamp();
        let mut tx = self.store.begin()?;
        if !tx.use_nonce(access_key_id, nonce, now, now + window_seconds)? {
            return Err(Error::service(400, "SignatureNonceUsed", "Specified signature nonce was used already."));
        }
        tx.commit()
    }

    /// Runs one action for an authenticated caller: resolves its resources, authorizes, handles.
    pub fn call(&self, caller: &Caller, action: &ApiAction, params: &Params) -> Result<Value> {
        let mut tx = self.store.begin()?;
        let account = caller.account_id.clone();
        let resources = expand(action, caller, params, &mut |param, value| match param {
            ROLE_ARN => names::role_arn_spellings(&mut *tx, &account, value),
            _ => names::spellings(&mut *tx, &account, param, value),
        })
        .map_err(|e| match (action.product, e) {
            // ECS names a missing parameter its own way (`MissingParameter`, parameter in the message).
            (Product::Ecs, Error::MissingParameter(name)) => crate::ecs::missing(&name),
            (_, e) => e,
        })?;
        let request = crate::ram::tags::request_context(&mut *tx, &account, action, params)?;
        if let Err(denial) = authorize_with(&mut *tx, caller, action.ram_action, &resources, &request)? {
            return Err(denied(action.product, denial));
        }
        let mut ctx = Ctx { tx: &mut *tx, caller, clock: &self.clock, key: &self.key, network: self.network.as_ref() };
        let body = (action.handler)(&mut ctx, params)?;
        tx.commit()?;
        Ok(body)
    }
}

/// The product's own error for a denial: `NoPermission` for RAM/STS, `Forbidden.RAM` for ECS.
pub fn denied(product: Product, d: Denial) -> Error {
    match product {
        Product::Ram | Product::Sts | Product::Rolestack | Product::Ims => {
            Error::NoPermission { action: d.action, resource: d.resource, reason: d.reason }
        }
        Product::Ecs => Error::ForbiddenRam { action: d.action, resource: d.resource, reason: d.reason },
    }
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
    let service = action.product.service();
    let region = match action.product {
        Product::Ecs => params.optional("RegionId").unwrap_or("*"),
        _ => "*",
    };
    let mut out: Vec<String> = Vec::new();
    let mut push = |arn: String| {
        if !out.contains(&arn) {
            out.push(arn);
        }
    };
    for template in action.resources {
        // `@Param`: the parameter is itself the resource's ARN (STS AssumeRole's RoleArn).
        if let Some(param) = template.strip_prefix('@') {
            for arn in spell(&format!("@{param}"), params.required(param)?)? {
                push(arn);
            }
            continue;
        }
        let mut arns = vec![format!("acs:{service}:{region}:{}:", caller.account_id)];
        let mut rest = *template;
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

/// The values of one `{...}` placeholder, each with the parameter it came from (`None` for a
/// value that is not a parameter: `*`, or the caller's own name): `{P}` one required value,
/// `{P?}` the value or the caller's own user name, `{P[]}` every element of a JSON-array
/// parameter (ECS `InstanceIds`).
fn placeholder<'s>(spec: &'s str, caller: &Caller, params: &Params) -> Result<Vec<(Option<&'s str>, String)>> {
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

    fn caller() -> Caller {
        Caller {
            account_id: "123".into(),
            principal: Principal::User { name: "alice".into(), id: "9".into() },
            access_key_id: "LTAIx".into(),
            facts: RequestFacts {
                source_ip: None,
                secure_transport: false,
                user_agent: None,
                time: time::OffsetDateTime::UNIX_EPOCH,
                endpoint_region: None,
            },
            mfa_at: None,
        }
    }

    fn noop(_: &mut crate::ram::Ctx, _: &Params) -> Result<Value> {
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
