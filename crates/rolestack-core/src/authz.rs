//! Authorization of every call: the account root may do anything; a RAM user may do what the
//! policies attached to it directly or through its groups allow; a role session what the role's
//! policies allow, narrowed by its session policy; with RAM's rules (an explicit Deny
//! anywhere wins, otherwise an Allow is needed). One function, called for every request.

use rolestack_policy::{Context, Decision, Outcome, Policy, Request};

use crate::caller::{Caller, Principal, RequestFacts};
use crate::diagnostics::{MatchedPolicy, PolicyKind, PolicySource, PrincipalView, Verdict};
use crate::model::PolicyType;
use crate::ram::policies::{attached_to, default_document, ResolvedPolicy};
use crate::store::{Relation, Tx};
use crate::Result;

/// Why a request was refused: the action, the first resource not allowed, the engine's reason,
/// and the verdict that explains it (see [`crate::diagnostics`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub action: String,
    pub resource: String,
    pub reason: String,
    pub verdict: Verdict,
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
    ctx.set("acs:PrincipalAccount", caller.account_id.clone());
    ctx
}

/// The identity policies in force for a caller: attached to the user and to each of its groups,
/// or to the role of a session.
pub fn identity_policies(tx: &mut dyn Tx, caller: &Caller) -> Result<Vec<(PolicySource, Policy)>> {
    let account = caller.account_id.as_str();
    let mut holders = Vec::new();
    match &caller.principal {
        Principal::Root => return Ok(Vec::new()),
        Principal::User { name, .. } => {
            holders.push(("RamUser", "user", name.clone()));
            for m in tx.links_from(Relation::Membership, account, name)? {
                holders.push(("RamUserGroup", "group", m.right));
            }
        }
        Principal::RoleSession { role_name, .. } => holders.push(("RamRole", "role", role_name.clone())),
    }
    let mut out = Vec::new();
    // The security preference's self-service grants (ChangePassword, own MFA device, own keys).
    if let Principal::User { name, .. } = &caller.principal {
        let preference = crate::ram::password_policy::load(tx, account)?.security_preference;
        if let Some(doc) = crate::ram::password_policy::self_service_policy(&preference, account, name) {
            let policy = Policy::parse(&doc).map_err(|e| crate::Error::Store(format!("self-service policy: {e}")))?;
            let source = PolicySource {
                name: "self-service".to_string(),
                policy_type: "SecurityPreference".to_string(),
                version: None,
                attached: Some(("RamUser".to_string(), name.clone())),
            };
            out.push((source, policy));
        }
    }
    for (entity_type, prefix, name) in holders {
        for (policy, _) in attached_to(tx, account, &format!("{prefix}/{name}"))? {
            let source = PolicySource {
                name: policy.name.clone(),
                policy_type: policy.ty.as_str().to_string(),
                version: (policy.ty == PolicyType::Custom).then(|| policy.default_version.clone()),
                attached: Some((entity_type.to_string(), name.clone())),
            };
            let parsed = parse_stored(tx, account, &policy, &source)?;
            out.push((source, parsed));
        }
    }
    Ok(out)
}

fn parse_stored(tx: &mut dyn Tx, account: &str, p: &ResolvedPolicy, source: &PolicySource) -> Result<Policy> {
    let doc = default_document(tx, account, p)?;
    // Documents are validated when written, so a failure here means the store was edited by hand.
    Policy::parse(&doc).map_err(|e| crate::Error::Store(format!("stored {} no longer parses: {e}", source.label())))
}

/// The statements a decision names, as matched policies (`sources` parallel to the policies the
/// decision was made over).
pub fn matched_policies(decision: &Decision, sources: &[&PolicySource]) -> Vec<MatchedPolicy> {
    let effect = match decision.outcome {
        Outcome::Allow => "Allow",
        Outcome::ExplicitDeny => "Deny",
        Outcome::ImplicitDeny => return Vec::new(),
    };
    decision
        .decided_by
        .iter()
        .filter_map(|d| {
            sources.get(d.policy_index).map(|s| MatchedPolicy {
                source: (*s).clone(),
                effect: effect.into(),
                statement_index: d.statement_index,
                sid: d.sid.clone(),
            })
        })
        .collect()
}

/// The request's condition keys and values, for a verdict.
pub fn conditions_of(context: &Context) -> Vec<(String, Vec<String>)> {
    context.entries().map(|(k, v)| (k.to_string(), v.into_iter().map(str::to_string).collect())).collect()
}

/// A caller's identity policies (and session policy), loaded once, to decide any number of requests.
pub struct IdentityPolicies {
    policies: Vec<(PolicySource, Policy)>,
    labels: Vec<String>,
    session: Option<(PolicySource, Policy)>,
}

impl IdentityPolicies {
    pub fn load(tx: &mut dyn Tx, caller: &Caller) -> Result<Self> {
        let session = match &caller.principal {
            Principal::RoleSession { session_policy: Some(doc), .. } => {
                let policy = Policy::parse(doc).map_err(|e| crate::Error::Store(format!("sealed session policy no longer parses: {e}")))?;
                Some((PolicySource::inline(PolicyKind::SessionPolicy, "session policy"), policy))
            }
            _ => None,
        };
        let policies = identity_policies(tx, caller)?;
        Ok(IdentityPolicies::new(policies, session))
    }

    /// Policies given directly (the simulator's draft policies, tests).
    pub fn new(policies: Vec<(PolicySource, Policy)>, session: Option<(PolicySource, Policy)>) -> Self {
        let labels = policies.iter().map(|(s, _)| s.label()).collect();
        IdentityPolicies { policies, labels, session }
    }

    /// The policies in force, each with where it comes from.
    pub fn sources(&self) -> impl Iterator<Item = (&PolicySource, &Policy)> {
        self.policies.iter().map(|(s, p)| (s, p)).chain(self.session.iter().map(|(s, p)| (s, p)))
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
        let set: Vec<(&str, &Policy)> = self.labels.iter().zip(&self.policies).map(|(l, (_, p))| (l.as_str(), p)).collect();
        rolestack_policy::evaluate(&set, request)
    }

    /// The decision of the session policy, for a role session that has one. STS promises a
    /// session never exceeds it, so every path to an Allow (identity policies, a bucket policy,
    /// an ACL) must also pass this.
    pub fn session_decision(&self, request: &Request<'_>) -> Option<Decision> {
        self.session.as_ref().map(|(_, session)| rolestack_policy::evaluate(&[("session policy", session)], request))
    }

    /// The statements of `decision` (from [`Self::identity_decision`]) as matched policies.
    pub fn identity_matches(&self, decision: &Decision) -> Vec<MatchedPolicy> {
        let sources: Vec<&PolicySource> = self.policies.iter().map(|(s, _)| s).collect();
        matched_policies(decision, &sources)
    }

    /// The statements of `decision` (from [`Self::session_decision`]) as matched policies.
    pub fn session_matches(&self, decision: &Decision) -> Vec<MatchedPolicy> {
        self.session.as_ref().map_or_else(Vec::new, |(s, _)| matched_policies(decision, &[s]))
    }

    /// The RAM decision for one request ([`Self::decide`]) with the verdict that explains it:
    /// which side decided (identity policies or the session policy) and which statements.
    pub fn verdict(&self, principal: PrincipalView, request: &Request<'_>) -> (Decision, Verdict) {
        let identity = self.identity_decision(request);
        let session = self.session_decision(request);
        let (kind, matched) = match &session {
            _ if identity.is_explicit_deny() => (PolicyKind::AccountLevelIdentityBasedPolicy, self.identity_matches(&identity)),
            Some(s) if s.is_explicit_deny() => (PolicyKind::SessionPolicy, self.session_matches(s)),
            _ if !identity.is_allowed() => (PolicyKind::AccountLevelIdentityBasedPolicy, Vec::new()),
            Some(s) if !s.is_allowed() => (PolicyKind::SessionPolicy, Vec::new()),
            Some(s) => (PolicyKind::AccountLevelIdentityBasedPolicy, [self.identity_matches(&identity), self.session_matches(s)].concat()),
            None => (PolicyKind::AccountLevelIdentityBasedPolicy, self.identity_matches(&identity)),
        };
        let decision = match session {
            Some(s) => identity.intersect(s),
            None => identity,
        };
        let verdict = Verdict {
            account: principal.owner_id.clone(),
            principal,
            action: request.action.to_string(),
            resource: request.resource.to_string(),
            outcome: outcome_name(decision.outcome).into(),
            policy_kind: kind,
            matched,
            conditions: conditions_of(request.context),
        };
        (decision, verdict)
    }
}

/// Counts one authorization decision (`rolestack_authorization_total{result}`).
pub fn count_decision(o: Outcome) {
    let result = match o {
        Outcome::Allow => "allow",
        Outcome::ImplicitDeny => "implicit_deny",
        Outcome::ExplicitDeny => "explicit_deny",
    };
    metrics::counter!("rolestack_authorization_total", "result" => result).increment(1);
}

/// `Allow`, `ImplicitDeny`, `ExplicitDeny`.
pub fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Allow => "Allow",
        Outcome::ImplicitDeny => "ImplicitDeny",
        Outcome::ExplicitDeny => "ExplicitDeny",
    }
}

/// Decides whether `caller` may perform `action` on every one of `resources`, with the request's
/// own condition keys (`request`: `acs:RequestedRegion`, `acs:RequestTag/<key>`,
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
        let tags = crate::ram::tags::resource_tags(tx, &caller.account_id, resource)?;
        for tag in &tags {
            context.set(format!("acs:ResourceTag/{}", tag.key), tag.value.clone());
        }
        // RAM compares the names in its own ARNs without case; see Request::names_ignore_case.
        let ram_names = resource.get(..8).is_some_and(|p| p.eq_ignore_ascii_case("acs:ram:"));
        for context in legacy_tag_readings(context, resource, &tags) {
            let request = Request::new(action, resource, &context).with_names_ignoring_case(ram_names);
            let (decision, verdict) = policies.verdict(PrincipalView::of(caller), &request);
            count_decision(decision.outcome);
            if !decision.is_allowed() {
                return Ok(Err(Denial { action: action.to_string(), resource: resource.clone(), reason: decision.to_string(), verdict }));
            }
        }
    }
    Ok(Ok(()))
}

/// The contexts a resource is authorized under for the legacy `ecs:tag/<key>` / `vpc:tag/<key>`:
/// whether they name the tags a request sets or the tags the resource carries is UNVERIFIED, so a
/// tagged ECS or VPC resource is authorized under both readings (the request's tags, as the
/// gateway set them, and the resource's own), and each must allow (docs/authorization.md).
fn legacy_tag_readings(context: Context, resource: &str, tags: &[crate::model::Tag]) -> Vec<Context> {
    let service = resource.split(':').nth(1).unwrap_or_default().to_ascii_lowercase();
    if tags.is_empty() || !matches!(service.as_str(), "ecs" | "vpc") {
        return vec![context];
    }
    let prefix = format!("{service}:tag/");
    let legacy = |key: &str| key.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(&prefix));
    let requested: Vec<String> = context.entries().map(|(key, _)| key).filter(|key| legacy(key)).map(str::to_owned).collect();
    let mut own = context.clone();
    for key in &requested {
        own.remove(key);
    }
    for tag in tags {
        own.set(format!("{prefix}{}", tag.key), tag.value.clone());
    }
    if requested.is_empty() {
        vec![own]
    } else {
        vec![context, own]
    }
}

/// An action a handler authorizes besides the one the call names (`ram:PassRole` on the role
/// CreateInstance is given, `ecs:AttachInstanceRamRole` on the role, ...), seeing the condition
/// keys of the request it is part of. Which keys RAM shows such an action is UNVERIFIED for the
/// keys of another service than the action's (`ecs:InstanceType` for `ram:PassRole`), so when
/// `request` holds any, the action must be allowed both with and without them: a Deny
/// conditioned on them binds, an Allow conditioned on them grants nothing (docs/authorization.md).
pub fn authorize_in_request(
    tx: &mut dyn Tx,
    caller: &Caller,
    action: &str,
    resources: &[String],
    request: &Context,
) -> Result<Result<(), Denial>> {
    let decided = authorize_with(tx, caller, action, resources, request)?;
    if decided.is_ok() {
        if let Some(own) = keys_of_service(request, action) {
            return authorize_with(tx, caller, action, resources, &own);
        }
    }
    Ok(decided)
}

/// `request` without the keys of services other than `action`'s (the global `acs:` keys stay),
/// or `None` when it holds no such key.
fn keys_of_service(request: &Context, action: &str) -> Option<Context> {
    let service = action.split_once(':').map_or(action, |(service, _)| service);
    let other = |key: &str| {
        key.split_once(':').is_some_and(|(prefix, _)| !prefix.eq_ignore_ascii_case("acs") && !prefix.eq_ignore_ascii_case(service))
    };
    let others: Vec<&str> = request.entries().map(|(key, _)| key).filter(|key| other(key)).collect();
    if others.is_empty() {
        return None;
    }
    let mut own = request.clone();
    for key in others {
        own.remove(key);
    }
    Some(own)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_tag_keys_are_read_both_ways() {
        let tag = |k: &str, v: &str| crate::model::Tag { key: k.into(), value: v.into() };
        let arn = "acs:ecs:cn-hangzhou:1:instance/i-1";
        let request = Context::new().with("ecs:tag/owner", "alice");
        // A tagged ECS resource: the request's reading and the resource's own, each decided.
        let readings = legacy_tag_readings(request.clone(), arn, &[tag("owner", "bob")]);
        let values: Vec<Vec<&str>> = readings.iter().map(|c| c.values("ecs:tag/owner").collect()).collect();
        assert_eq!(values, [["alice"], ["bob"]]);
        // Untagged, or not an ECS / VPC resource: only the request's reading.
        for (resource, tags) in [(arn, vec![]), ("acs:ram:*:1:role/r", vec![tag("owner", "bob")])] {
            assert_eq!(legacy_tag_readings(request.clone(), resource, &tags), vec![request.clone()]);
        }
    }

    #[test]
    fn keys_of_another_service_are_set_aside() {
        let request = Context::new()
            .with("acs:RequestedRegion", "cn-hangzhou")
            .with("acs:RequestTag/env", "prod")
            .with("ecs:InstanceType", "ecs.g7.large")
            .with("ECS:SecurityHardeningMode", "true");
        let own = keys_of_service(&request, "ram:PassRole").unwrap();
        let keys: Vec<&str> = own.entries().map(|(key, _)| key).collect();
        assert_eq!(keys, ["acs:RequestedRegion", "acs:RequestTag/env"]);
        // The action's own service keeps its keys: nothing to set aside.
        assert!(keys_of_service(&request, "ecs:AttachInstanceRamRole").is_none());
        assert!(keys_of_service(&Context::new().with("acs:RequestedRegion", "cn-hangzhou"), "ram:PassRole").is_none());
    }
}
