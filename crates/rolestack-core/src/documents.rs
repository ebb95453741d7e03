//! Checks policy documents as they are written (CreatePolicy, CreatePolicyVersion, CreateRole,
//! UpdateRole), with RAM's size limits and `MalformedPolicyDocument` carrying the engine's precise
//! diagnostic, so nothing the engine cannot evaluate ever reaches the store.

use rolestack_policy::{Policy, TrustPolicy};

use crate::{Error, Result};

/// CreatePolicy / CreatePolicyVersion: "1 to 6,144 characters".
pub const PERMISSION_POLICY_MAX: usize = 6144;
/// AssumeRolePolicyDocument limit.
pub const TRUST_POLICY_MAX: usize = 2048;

fn check_size(param: &str, doc: &str, max: usize) -> Result<()> {
    if doc.chars().count() > max {
        return Err(Error::invalid(
            format!("InvalidParameter.{param}.Length"),
            format!("The parameter - \"{param}\" beyond the length limit ({} characters; at most {max} allowed).", doc.chars().count()),
        ));
    }
    Ok(())
}

fn malformed(param: &str, detail: impl std::fmt::Display) -> Error {
    Error::service(400, "MalformedPolicyDocument", format!("The parameter {param} is not a valid policy: {detail}"))
}

pub fn validate_permission_policy(param: &str, doc: &str) -> Result<Policy> {
    check_size(param, doc, PERMISSION_POLICY_MAX)?;
    Policy::parse(doc).map_err(|e| malformed(param, e))
}

pub fn validate_trust_policy(param: &str, doc: &str) -> Result<TrustPolicy> {
    check_size(param, doc, TRUST_POLICY_MAX)?;
    TrustPolicy::parse(doc).map_err(|e| malformed(param, e))
}
