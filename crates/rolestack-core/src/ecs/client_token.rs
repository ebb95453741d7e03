//! `ClientToken` idempotence of the ECS and VPC calls that create something — CreateInstance,
//! RunInstances, CreateSecurityGroup, CreateVpc, CreateVSwitch (docs/ecs-errors.md §4; the VPC
//! product's CreateVpc answers differently, so its token is kept apart as `vpc:CreateVpc`): a call
//! repeated by the same caller with a token it already used for that action, with the same
//! parameters, answers what the first call answered (the same instance ids) and changes nothing;
//! the same token with other parameters is `IdempotentParameterMismatch`. Only successful calls
//! use a token up (a refused call, `DryRun` included, can be sent again). Tokens are kept per
//! caller (its ARN), so a stored answer is only ever given to the identity whose call, with all
//! its checks (`ram:PassRole` included), produced it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::handler::Ctx;
use crate::model::Record;
use crate::params::{Params, COMMON_PARAMS};
use crate::store::Kind;
use crate::{Error, Result};

/// The longest token ECS takes (64 ASCII characters).
pub const MAX_LEN: usize = 64;

/// A token already used: the parameters it was sent with and the answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientTokenUse {
    pub params: BTreeMap<String, String>,
    pub response: Value,
    pub created: String,
}

impl Record for ClientTokenUse {
    const KIND: Kind = Kind::ClientToken;
}

/// The parameters that make two calls the same request: the action's own, without the token.
fn significant(p: &Params) -> BTreeMap<String, String> {
    p.iter()
        .filter(|(k, _)| k.as_str() != "ClientToken" && !COMMON_PARAMS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Runs `call` once per `ClientToken` of `action` (each time when no token is sent).
pub(crate) fn once(ctx: &mut Ctx, p: &Params, action: &str, call: impl FnOnce(&mut Ctx) -> Result<Value>) -> Result<Value> {
    let Some(token) = p.optional("ClientToken") else { return call(ctx) };
    if token.len() > MAX_LEN || !token.is_ascii() {
        return Err(super::invalid("ClientToken", format_args!("it must be at most {MAX_LEN} ASCII characters.")));
    }
    let account = ctx.account().to_string();
    let key = format!("{action}/{}/{token}", ctx.caller.arn());
    let params = significant(p);
    if let Some(used) = ctx.tx.get_rec::<ClientTokenUse>(&account, &key)? {
        if used.params == params {
            return Ok(used.response);
        }
        return Err(Error::service(
            400,
            "IdempotentParameterMismatch",
            format!("Request uses a client token in a previous request but is not identical to that request: {token} was used with other parameters."),
        ));
    }
    let response = call(ctx)?;
    let created = ctx.now();
    ctx.tx.insert_rec(&account, &key, &ClientTokenUse { params, response: response.clone(), created })?;
    Ok(response)
}
