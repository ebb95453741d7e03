//! Instance user data: the `UserData` parameter of CreateInstance, RunInstances and
//! ModifyInstanceAttribute, and DescribeUserData. The value is Base64 text whose decoded bytes
//! are at most 32 KiB, allowed for VPC instances only; it is stored as given (the instance's
//! `user_data`) and served decoded by the metadata service at `/latest/user-data`
//! (`crate::metadata`). Codes and statuses: `docs/ecs-errors.md` §11.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Value};

use super::{load_instance, region};
use crate::handler::Ctx;
use crate::params::Params;
use crate::{Error, Result};

/// The most bytes user data may hold before Base64 encoding.
pub const MAX_DECODED_BYTES: usize = 32 * 1024;

/// The action whose `UserData` is checked: ECS answers a value that is not Base64 with 403 on
/// CreateInstance and ModifyInstanceAttribute, 400 on RunInstances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CreateInstance,
    RunInstances,
    ModifyInstanceAttribute,
}

/// The bytes Base64 `text` stands for; `None` if it is not Base64 (stored user data always is).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    BASE64.decode(text).ok()
}

/// Checks `text` as the `UserData` of `action` for an instance that is (`vpc`) or is not in a VPC.
pub fn check(text: &str, vpc: bool, action: Action) -> Result<()> {
    let Some(raw) = decode(text) else {
        let status = if action == Action::RunInstances { 400 } else { 403 };
        return Err(Error::service(
            status,
            "InvalidUserData.Base64FormatInvalid",
            "The specified UserData is not valid: it is not Base64 text (standard alphabet, padded).",
        ));
    };
    if raw.len() > MAX_DECODED_BYTES {
        return Err(Error::service(
            400,
            "InvalidUserData.SizeExceeded",
            format!("The specified parameter \"UserData\" exceeds the size: {} bytes decoded, at most {MAX_DECODED_BYTES}.", raw.len()),
        ));
    }
    if !vpc {
        return Err(Error::service(
            400,
            "InvalidUserData.NotSupported",
            "The specified parameter \"UserData\" only support the vpc and IoOptimized Instance: this is a classic-network instance.",
        ));
    }
    Ok(())
}

/// The request's `UserData`, checked (`None` when absent or empty).
pub fn param(p: &Params, vpc: bool, action: Action) -> Result<Option<String>> {
    let Some(text) = p.optional("UserData") else { return Ok(None) };
    check(text, vpc, action)?;
    Ok(Some(text.to_string()))
}

/// DescribeUserData: the instance's user data as stored (Base64), an empty string when it has none.
pub fn describe_user_data(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let id = p.required("InstanceId")?;
    let account = ctx.account().to_string();
    let inst = load_instance(ctx.tx, &account, id)?;
    if inst.region_id != region.id {
        return Err(super::instance_not_found(id));
    }
    Ok(json!({
        "InstanceId": inst.id,
        "RegionId": inst.region_id,
        "UserData": inst.user_data.unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<()>) -> (u16, String) {
        match r {
            Err(Error::Service { status, code, .. }) => (status, code.to_string()),
            other => panic!("expected a service error, got {other:?}"),
        }
    }

    #[test]
    fn accepts_base64_up_to_the_limit() {
        let full = BASE64.encode(vec![b'x'; MAX_DECODED_BYTES]);
        assert!(check(&full, true, Action::CreateInstance).is_ok());
        assert_eq!(decode(&BASE64.encode(b"#!/bin/sh\n")).as_deref(), Some(&b"#!/bin/sh\n"[..]));
    }

    #[test]
    fn refuses_what_ecs_refuses() {
        let over = BASE64.encode(vec![0u8; MAX_DECODED_BYTES + 1]);
        assert_eq!(code(check(&over, true, Action::RunInstances)), (400, "InvalidUserData.SizeExceeded".into()));
        assert_eq!(code(check("not base64!", true, Action::CreateInstance)), (403, "InvalidUserData.Base64FormatInvalid".into()));
        assert_eq!(code(check("not base64!", true, Action::ModifyInstanceAttribute)), (403, "InvalidUserData.Base64FormatInvalid".into()));
        assert_eq!(code(check("not base64!", true, Action::RunInstances)), (400, "InvalidUserData.Base64FormatInvalid".into()));
        assert_eq!(code(check("aGk=", false, Action::CreateInstance)), (400, "InvalidUserData.NotSupported".into()));
    }
}
