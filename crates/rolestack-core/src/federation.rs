//! STS AssumeRoleWithOIDC and AssumeRoleWithSAML: a role session for an identity an external
//! (or rolestack's local) identity provider vouches for. These calls are anonymous — the SDKs
//! send them unsigned — so the proof is in the request: an OIDC ID token verified against the
//! provider's keys ([`crate::oidc::verify`]), or a SAML assertion ([`crate::saml`], which accepts
//! none it cannot verify). The role's trust policy must then allow the provider as a `Federated`
//! principal, with conditions on the token's claims: `oidc:iss`, `oidc:aud`, `oidc:sub`.
//!
//! A trust statement may name the action `sts:AssumeRole` (as Alibaba Cloud's RRSA examples do)
//! or `sts:AssumeRoleWithOIDC` / `sts:AssumeRoleWithSAML`; an explicit `Deny` for either wins.

use rolestack_policy::{Context, Principal, ASSUME_ROLE};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::authz::facts_context;
use crate::caller::RequestFacts;
use crate::catalog::AnonymousAction;
use crate::clock::{format_date, Clock};
use crate::ims::{OidcProvider, SamlProvider};
use crate::model::Role;
use crate::params::Params;
use crate::seal::ServerKey;
use crate::service::Rolestack;
use crate::store::Tx;
use crate::sts::{assumed_role_user, mint, parse_role_arn, render_credentials, session_duration, session_name, session_policy};
use crate::{Error, Result};

/// What an anonymous STS handler works with: no caller, only the request's facts.
pub struct FederationCtx<'a> {
    pub tx: &'a mut dyn Tx,
    pub clock: &'a Clock,
    pub key: &'a ServerKey,
    pub facts: &'a RequestFacts,
}

pub type Handler = fn(&mut FederationCtx, &Params) -> Result<Value>;

/// Runs an anonymous action in one store transaction.
pub fn call(rs: &Rolestack, action: &AnonymousAction, facts: &RequestFacts, params: &Params) -> Result<Value> {
    crate::store::retry(|| {
        let mut tx = rs.store.begin()?;
        let mut ctx = FederationCtx { tx: &mut *tx, clock: &rs.clock, key: &rs.key, facts };
        let body = (action.handler)(&mut ctx, params)?;
        tx.commit()?;
        Ok(body)
    })
}

/// The account an anonymous call is addressed to, for its ActionTrail event: that of the role its
/// `RoleArn` names, when the role exists (so a request cannot put events into an account by naming
/// it alone).
pub fn addressed_account(rs: &Rolestack, params: &Params) -> Option<String> {
    let (account, role_name) = parse_role_arn(params.optional("RoleArn")?).ok()?;
    let mut tx = rs.store.begin_read().ok()?;
    tx.get_rec::<Role>(account, role_name).ok()??;
    Some(account.to_string())
}

fn no_permission(message: impl Into<String>) -> Error {
    Error::service(401, "AuthenticationFail.NoPermission", message)
}

/// Splits `acs:ram::<account>:<kind>/<name>` (an identity provider ARN).
fn provider_arn<'a>(arn: &'a str, kind: &str, param: &str) -> Result<(&'a str, &'a str)> {
    let bad = || {
        Error::invalid(
            format!("InvalidParameter.{param}"),
            format!("The parameter {param} is wrongly formed: \"{arn}\"; expected acs:ram::<account-id>:{kind}/<name>."),
        )
    };
    let rest = arn.strip_prefix("acs:ram:").ok_or_else(bad)?;
    let (_region, rest) = rest.split_once(':').ok_or_else(bad)?;
    let (account, resource) = rest.split_once(':').ok_or_else(bad)?;
    let name = resource.strip_prefix(&format!("{kind}/")).ok_or_else(bad)?;
    if account.is_empty() || name.is_empty() {
        return Err(bad());
    }
    Ok((account, name))
}

/// Whether the role's trust policy lets `provider` (a `Federated` principal) assume it with
/// `action`, or with `sts:AssumeRole`; a Deny for either wins.
fn trusts(role: &Role, provider_arn: &str, action: &str, context: &Context) -> Result<bool> {
    let trust = role.trust()?;
    let principal = Principal::Federated(provider_arn.to_string());
    let decisions = [trust.evaluate(action, &principal, context), trust.evaluate(ASSUME_ROLE, &principal, context)];
    Ok(!decisions.iter().any(|d| d.is_explicit_deny()) && decisions.iter().any(|d| d.is_allowed()))
}

/// The role a federated caller asks for, in the provider's account.
fn target_role(tx: &mut dyn Tx, p: &Params, provider_account: &str) -> Result<(String, Role)> {
    let (account, role_name) = parse_role_arn(p.required("RoleArn")?)?;
    let missing = || Error::not_exist("Role", format!("The specified Role not exists: {role_name}."));
    if account != provider_account {
        return Err(missing());
    }
    let role = tx.get_rec::<Role>(account, role_name)?.ok_or_else(missing)?;
    Ok((account.to_string(), role))
}

fn unix(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t).map(format_date).unwrap_or_default()
}

pub fn assume_role_with_oidc(ctx: &mut FederationCtx, p: &Params) -> Result<Value> {
    let provider_arn_text = p.required("OIDCProviderArn")?;
    let (account, provider_name) = provider_arn(provider_arn_text, "oidc-provider", "OIDCProviderArn")?;
    // Absent: the gateway's MissingOIDCToken; present but empty: STS's own "can not empty".
    let token = match p.get("OIDCToken") {
        Some(token) => token,
        None => p.required("OIDCToken")?,
    };
    crate::oidc::check_form(token)?;
    let session = session_name(p)?;
    let policy = session_policy(p)?;
    let provider =
        ctx.tx.get_rec::<OidcProvider>(account, provider_name)?.ok_or_else(|| no_permission("No such OIDC Provider registered."))?;
    let keys = crate::oidc::provider_keys(ctx.tx, &provider)?;
    let now = ctx.clock.now();
    let verified = crate::oidc::verify(token, &keys.set, &provider, now)?;
    if keys.local && verified.minted_for.as_deref() != Some(account) {
        return Err(no_permission("There is no permission: the token was minted by rolestack's local issuer for another account."));
    }
    let (account, role) = target_role(ctx.tx, p, account)?;
    let duration = session_duration(p, &role)?;
    let mut context = facts_context(ctx.facts);
    context.set("oidc:iss", verified.issuer.clone());
    context.set("oidc:sub", verified.subject.clone());
    context.remove("oidc:aud");
    for aud in &verified.audiences {
        context.insert("oidc:aud", aud.clone());
    }
    let arn = crate::ims::oidc_provider_arn(&account, &provider.name);
    if !trusts(&role, &arn, rolestack_policy::ASSUME_ROLE_WITH_OIDC, &context)? {
        return Err(no_permission(format!(
            "There is no permission: the trust policy of {} does not allow {arn} (sub {}) to assume it.",
            role.name, verified.subject
        )));
    }
    let sealed = mint(&account, &role, session, policy, now, Duration::seconds(duration));
    let creds = sealed.credentials(ctx.key);
    Ok(json!({
        "AssumedRoleUser": assumed_role_user(&account, &role, session),
        "Credentials": render_credentials(&creds),
        "OIDCTokenInfo": {
            "Issuer": verified.issuer,
            "Subject": verified.subject,
            "ClientIds": verified.client_id,
            "IssuanceTime": unix(verified.issued_at),
            "ExpirationTime": unix(verified.expires_at),
            "VerificationInfo": "Success",
        },
    }))
}

pub fn assume_role_with_saml(ctx: &mut FederationCtx, p: &Params) -> Result<Value> {
    let (account, provider_name) = provider_arn(p.required("SAMLProviderArn")?, "saml-provider", "SAMLProviderArn")?;
    let assertion = p.required("SAMLAssertion")?;
    session_policy(p)?;
    ctx.tx.get_rec::<SamlProvider>(account, provider_name)?.ok_or_else(|| no_permission("No such SAML Provider registered."))?;
    let (_, role) = target_role(ctx.tx, p, account)?;
    session_duration(p, &role)?;
    match crate::saml::check_assertion(assertion) {
        Ok(()) => Err(Error::Store("SAML assertions are never accepted unverified".into())),
        Err(e) => Err(Error::service(401, "AuthenticationFail.SAMLAssertion.Invalid", format!("The SAMLAssertion is refused: {e}."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_arns() {
        assert_eq!(provider_arn("acs:ram::123:oidc-provider/p", "oidc-provider", "X").unwrap(), ("123", "p"));
        assert!(provider_arn("acs:ram::123:saml-provider/p", "oidc-provider", "X").is_err());
        assert!(provider_arn("acs:ram::123:oidc-provider/", "oidc-provider", "X").is_err());
    }

    fn role(trust: &str) -> Role {
        Role { id: "1".into(), name: "r".into(), trust_policy: trust.into(), max_session_duration: 3600, ..Role::default() }
    }

    #[test]
    fn trust_with_oidc_conditions() {
        let arn = "acs:ram::123:oidc-provider/p";
        let r = role(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Federated":["acs:ram::123:oidc-provider/p"]},"Condition":{"StringEquals":{"oidc:sub":"system:serviceaccount:ns:sa","oidc:aud":"sts.aliyuncs.com"}}}]}"#,
        );
        let ctx = |sub: &str| Context::new().with("oidc:sub", sub).with("oidc:aud", "sts.aliyuncs.com");
        assert!(trusts(&r, arn, rolestack_policy::ASSUME_ROLE_WITH_OIDC, &ctx("system:serviceaccount:ns:sa")).unwrap());
        assert!(!trusts(&r, arn, rolestack_policy::ASSUME_ROLE_WITH_OIDC, &ctx("system:serviceaccount:ns:other")).unwrap());
        assert!(!trusts(&r, "acs:ram::123:oidc-provider/q", rolestack_policy::ASSUME_ROLE_WITH_OIDC, &ctx("system:serviceaccount:ns:sa"))
            .unwrap());
        let deny = role(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRoleWithOIDC","Principal":{"Federated":"acs:ram::123:oidc-provider/p"}},{"Effect":"Deny","Action":"sts:AssumeRole","Principal":{"Federated":"acs:ram::123:oidc-provider/p"}}]}"#,
        );
        assert!(!trusts(&deny, arn, rolestack_policy::ASSUME_ROLE_WITH_OIDC, &Context::new()).unwrap());
    }
}
