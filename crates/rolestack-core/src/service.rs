//! The entry point front-ends call: authenticate an AccessKey, spend a request nonce, and run one
//! API action (resources → authorization → handler) inside one store transaction.

use std::sync::Arc;

use serde_json::Value;

use crate::authz::{authorize, Denial};
use crate::caller::{Caller, Principal};
use crate::catalog::{ApiAction, Product};
use crate::clock::Clock;
use crate::model::{AccessKey, KeyOwner, KeyStatus, User};
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
}

/// A credential that exists and is valid, with its secret (for signature checks) and identity.
pub struct Authenticated {
    pub account_id: String,
    pub secret: String,
    pub principal: Principal,
}

impl Rolestack {
    pub fn new(store: Arc<dyn Store>, key: ServerKey, clock: Clock) -> Self {
        Rolestack { store, key, clock }
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
        let secret = self
            .key
            .open(SECRET_PURPOSE, &key.sealed_secret)
            .map_err(|e| Error::Store(format!("AccessKey {access_key_id}: {e}")))?;
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
        let resources = resources(action, caller, params)?;
        let mut tx = self.store.begin()?;
        if let Err(denial) = authorize(&mut *tx, caller, action.ram_action, &resources)? {
            return Err(denied(action.product, denial));
        }
        let mut ctx = Ctx { tx: &mut *tx, caller, clock: &self.clock, key: &self.key };
        let body = (action.handler)(&mut ctx, params)?;
        tx.commit()?;
        Ok(body)
    }
}

/// The product's own error for a denial: `NoPermission` for RAM/STS, `Forbidden.RAM` for ECS.
pub fn denied(product: Product, d: Denial) -> Error {
    match product {
        Product::Ram | Product::Sts => Error::NoPermission { action: d.action, resource: d.resource, reason: d.reason },
        Product::Ecs => Error::ForbiddenRam { action: d.action, resource: d.resource, reason: d.reason },
    }
}

/// Expands an action's resource templates into ARNs for this call.
pub fn resources(action: &ApiAction, caller: &Caller, params: &Params) -> Result<Vec<String>> {
    let service = action.product.service();
    action
        .resources
        .iter()
        .map(|template| {
            // `@Param`: the parameter is itself the resource's ARN (STS AssumeRole's RoleArn).
            if let Some(param) = template.strip_prefix('@') {
                return Ok(params.required(param)?.to_string());
            }
            let mut out = format!("acs:{service}:*:{}:", caller.account_id);
            let mut rest = *template;
            while let Some(start) = rest.find('{') {
                out.push_str(&rest[..start]);
                let end = rest[start..].find('}').map(|e| start + e).unwrap_or(rest.len() - 1);
                let name = &rest[start + 1..end];
                let value = match name.strip_suffix('?') {
                    Some(param) => match params.optional(param) {
                        Some(v) => v.to_string(),
                        None => match &caller.principal {
                            Principal::User { name, .. } => name.clone(),
                            Principal::Root | Principal::RoleSession { .. } => "*".to_string(),
                        },
                    },
                    None => params.required(name)?.to_string(),
                };
                out.push_str(&value);
                rest = &rest[end + 1..];
            }
            out.push_str(rest);
            Ok(out)
        })
        .collect()
}
