//! Authorization of every call: the account root may do anything; a RAM user may do what the
//! policies attached to it directly or through its groups allow; a role session what the role's
//! policies allow, narrowed by its session policy; with RAM's rules (an explicit Deny
//! anywhere wins, otherwise an Allow is needed). One function, called for every request.

use rolestack_policy::{Context, Decision, Policy, Request};

use crate::caller::{Caller, Principal, RequestFacts};
use crate::ram::policies::{attached_to, default_document, ResolvedPolicy};
use crate::store::{Relation, Tx};
use crate::Result;

/// Why a request was refused: the action, the first resource not allowed, and the engine's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub action: String,
    pub resource: String,
    pub reason: String,
}

/// The condition keys known from the request alone (also for anonymous requests).
pub fn facts_context(f: &RequestFacts) -> Context {
    let mut ctx = Context::new();
    if let Some(ip) = f.source_ip {
        ctx.set_source_ip(ip);
    }
    ctx.set_secure_transport(f.secure_transport);
    ctx.set_current_time(f.time);
    if let Some(ua) = &f.user_agent {
        ctx.set("acs:UserAgent", ua.clone());
    }
    ctx
}

/// The condition keys RAM fills in for every signed request. `acs:MFAPresent` is true only for a
/// console session signed in with an MFA code (AccessKey and STS requests carry no MFA), and then
/// `acs:MFAPresentDuration` says how many seconds ago the code was given.
pub fn request_context(caller: &Caller) -> Context {
    let mut ctx = facts_context(&caller.facts);
    match caller.mfa_at {
        Some(at) => {
            ctx.set_mfa_present(true);
            ctx.set(rolestack_policy::keys::MFA_PRESENT_DURATION, (caller.facts.time - at).whole_seconds().max(0).to_string());
        }
        None => {
            ctx.set_mfa_present(false);
        }
    }
    ctx.set("acs:AccessId", caller.access_key_id.clone());
    ctx.set("acs:PrincipalARN", caller.arn());
    ctx
}

/// The identity policies in force for a caller: attached to the user and to each of its groups.
pub fn identity_policies(tx: &mut dyn Tx, caller: &Caller) -> Result<Vec<(String, Policy)>> {
    let account = caller.account_id.as_str();
    let mut holders = Vec::new();
    match &caller.principal {
        Principal::Root => return Ok(Vec::new()),
        Principal::User { name, .. } => {
            holders.push(format!("user/{name}"));
            for m in tx.links_from(Relation::Membership, account, name)? {
                holders.push(format!("group/{}", m.right));
            }
        }
        Principal::RoleSession { role_name, .. } => holders.push(format!("role/{role_name}")),
    }
    let mut out = Vec::new();
    // The security preference's self-service grants (ChangePassword, own MFA device, own keys).
    if let Principal::User { name, .. } = &caller.principal {
        let preference = crate::ram::password_policy::load(tx, account)?.security_preference;
        if let Some(doc) = crate::ram::password_policy::self_service_policy(&preference, account, name) {
            let policy = Policy::parse(&doc).map_err(|e| crate::Error::Store(format!("self-service policy: {e}")))?;
            out.push(("security preference (self-service)".to_string(), policy));
        }
    }
    for holder in holders {
        for (policy, _) in attached_to(tx, account, &holder)? {
            out.push((label(&policy), parse_stored(tx, account, &policy)?));
        }
    }
    Ok(out)
}

fn label(p: &ResolvedPolicy) -> String {
    format!("{} policy {} ({})", p.ty.as_str(), p.name, p.default_version)
}

fn parse_stored(tx: &mut dyn Tx, account: &str, p: &ResolvedPolicy) -> Result<Policy> {
    let doc = default_document(tx, account, p)?;
    // Documents are validated when written, so a failure here means the store was edited by hand.
    Policy::parse(&doc).map_err(|e| crate::Error::Store(format!("stored {} no longer parses: {e}", label(p))))
}

/// A caller's identity policies (and session policy), loaded once, to decide any number of requests.
pub struct IdentityPolicies {
    policies: Vec<(String, Policy)>,
    session: Option<Policy>,
}

impl IdentityPolicies {
    pub fn load(tx: &mut dyn Tx, caller: &Caller) -> Result<Self> {
        let session = match &caller.principal {
            Principal::RoleSession { session_policy: Some(doc), .. } => {
                Some(Policy::parse(doc).map_err(|e| crate::Error::Store(format!("sealed session policy no longer parses: {e}")))?)
            }
            _ => None,
        };
        Ok(IdentityPolicies { policies: identity_policies(tx, caller)?, session })
    }

    /// The RAM decision for one request. A session policy only narrows: both must allow, and a
    /// Deny in either wins.
    pub fn decide(&self, request: &Request<'_>) -> Decision {
        let decision = self.identity_decision(request);
        match self.session_decision(request) {
            Some(session) => decision.intersect(session),
            None => decision,
        }
    }

    /// The decision of the identity policies alone (the role's, the user's and its groups').
    pub fn identity_decision(&self, request: &Request<'_>) -> Decision {
        let set: Vec<(&str, &Policy)> = self.policies.iter().map(|(l, p)| (l.as_str(), p)).collect();
        rolestack_policy::evaluate(&set, request)
    }

    /// The decision of the session policy, for a role session that has one. STS promises a
    /// session never exceeds it, so every path to an Allow (identity policies, a bucket policy,
    /// an ACL) must also pass this.
    pub fn session_decision(&self, request: &Request<'_>) -> Option<Decision> {
        self.session.as_ref().map(|session| rolestack_policy::evaluate(&[("session policy", session)], request))
    }
}

/// Decides whether `caller` may perform `action` on every one of `resources`.
pub fn authorize(tx: &mut dyn Tx, caller: &Caller, action: &str, resources: &[String]) -> Result<Result<(), Denial>> {
    authorize_with(tx, caller, action, resources, &Context::new())
}

/// [`authorize`], with the request's own condition keys (`request`: `acs:RequestTag/<key>`,
/// `ram:ServiceName`, ...) and, per resource, the resource's tags as `acs:ResourceTag/<key>`.
pub fn authorize_with(
    tx: &mut dyn Tx,
    caller: &Caller,
    action: &str,
    resources: &[String],
    request: &Context,
) -> Result<Result<(), Denial>> {
    if caller.principal == Principal::Root {
        return Ok(Ok(()));
    }
    let policies = IdentityPolicies::load(tx, caller)?;
    let mut base = request_context(caller);
    base.extend(request);
    for resource in resources {
        let mut context = base.clone();
        for tag in crate::ram::tags::resource_tags(tx, &caller.account_id, resource)? {
            context.set(format!("acs:ResourceTag/{}", tag.key), tag.value);
        }
        // RAM compares the names in its own ARNs without case; see Request::names_ignore_case.
        let ram_names = resource.get(..8).is_some_and(|p| p.eq_ignore_ascii_case("acs:ram:"));
        let decision = policies.decide(&Request::new(action, resource, &context).with_names_ignoring_case(ram_names));
        if !decision.is_allowed() {
            return Ok(Err(Denial { action: action.to_string(), resource: resource.clone(), reason: decision.to_string() }));
        }
    }
    Ok(Ok(()))
}
