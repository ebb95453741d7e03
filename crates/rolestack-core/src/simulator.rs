//! The policy simulator: what would happen if a user, a group or a role (a session of it) asked
//! for an action on a resource, under a given request context — decided by the same engine and
//! the same policy set as a real call ([`crate::authz::IdentityPolicies`]), optionally with a draft
//! policy added, and explained statement by statement ([`rolestack_policy::explain`]). It can also
//! check a role's trust policy against a principal. Exposed as rolestack's own API action
//! `SimulatePolicy` (`rolestack policy simulate`, the console's Policy Simulator page).

use rolestack_policy::{explain, Context, Policy, Request};
use serde_json::{json, Value};

use crate::authz::{identity_policies, outcome_name, IdentityPolicies};
use crate::caller::{Caller, Principal, RequestFacts};
use crate::diagnostics::{PolicyKind, PolicySource, PrincipalView};
use crate::documents::validate_permission_policy;
use crate::handler::Ctx;
use crate::model::{Group, Role, User};
use crate::params::Params;
use crate::ram::policies::attached_to;
use crate::{Error, Result};

/// Whom a simulation is for.
enum Subject {
    User(User),
    Role(Role),
    Group(Group),
}

fn subject(ctx: &mut Ctx, p: &Params) -> Result<Subject> {
    let account = ctx.account().to_string();
    let given: Vec<&str> = ["UserName", "RoleName", "GroupName"].into_iter().filter(|k| p.optional(k).is_some()).collect();
    if given.len() != 1 {
        return Err(Error::invalid(
            "InvalidParameter.Subject",
            "Give exactly one of UserName, RoleName and GroupName: whose policies to simulate.",
        ));
    }
    let missing =
        |kind: &str, name: &str| Error::not_exist(kind.to_string(), format!("The {} does not exist: {name}.", kind.to_ascii_lowercase()));
    Ok(match given[0] {
        "UserName" => {
            let n = p.required("UserName")?;
            Subject::User(ctx.tx.get_rec::<User>(&account, n)?.ok_or_else(|| missing("User", n))?)
        }
        "RoleName" => {
            let n = p.required("RoleName")?;
            Subject::Role(ctx.tx.get_rec::<Role>(&account, n)?.ok_or_else(|| missing("Role", n))?)
        }
        _ => {
            let n = p.required("GroupName")?;
            Subject::Group(ctx.tx.get_rec::<Group>(&account, n)?.ok_or_else(|| missing("Group", n))?)
        }
    })
}

/// `ContextEntry.N.Key` / `ContextEntry.N.Value` (a value may repeat its key for several values).
fn context(p: &Params, caller: &Caller) -> Context {
    let mut ctx = crate::authz::request_context(caller);
    let mut replaced: Vec<String> = Vec::new();
    for n in 1..=100 {
        let (Some(key), Some(value)) = (p.optional(&format!("ContextEntry.{n}.Key")), p.get(&format!("ContextEntry.{n}.Value"))) else {
            continue;
        };
        // The first value given for a key replaces what the request would have had.
        if replaced.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            ctx.insert(key, value);
        } else {
            replaced.push(key.to_string());
            ctx.set(key, value);
        }
    }
    ctx
}

/// The caller a simulation stands for (its request facts are the simulation's context).
fn caller_of(ctx: &Ctx, subject: &Subject) -> Caller {
    let principal = match subject {
        Subject::User(u) => Principal::User { name: u.name.clone(), id: u.id.clone() },
        Subject::Role(r) => Principal::RoleSession {
            role_name: r.name.clone(),
            role_id: r.id.clone(),
            session_name: "simulation".into(),
            session_policy: None,
            source_identity: None,
        },
        // A group is not a caller: its policies are simulated as a member's would be.
        Subject::Group(_) => Principal::User { name: String::new(), id: String::new() },
    };
    Caller {
        account_id: ctx.account().to_string(),
        principal,
        access_key_id: String::new(),
        facts: RequestFacts { source_ip: None, secure_transport: false, user_agent: None, time: ctx.clock.now(), endpoint_region: None },
        mfa_at: None,
    }
}

pub fn simulate_policy(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    if let Some(role_name) = p.optional("AssumeRoleName") {
        return simulate_trust(ctx, p, role_name);
    }
    let subject = subject(ctx, p)?;
    let caller = caller_of(ctx, &subject);
    let account = ctx.account().to_string();
    let mut policies = match &subject {
        Subject::Group(g) => {
            let mut out = Vec::new();
            for (policy, _) in attached_to(ctx.tx, &account, &format!("group/{}", g.name))? {
                let doc = crate::ram::policies::default_document(ctx.tx, &account, &policy)?;
                let parsed = Policy::parse(&doc).map_err(|e| Error::Store(format!("stored policy {}: {e}", policy.name)))?;
                let version = (policy.ty == crate::model::PolicyType::Custom).then(|| policy.default_version.clone());
                out.push((
                    PolicySource {
                        name: policy.name.clone(),
                        policy_type: policy.ty.as_str().into(),
                        version,
                        attached: Some(("RamUserGroup".into(), g.name.clone())),
                    },
                    parsed,
                ));
            }
            out
        }
        _ => identity_policies(ctx.tx, &caller)?,
    };
    if let Some(draft) = p.optional("PolicyDocument") {
        validate_permission_policy("PolicyDocument", draft)?;
        let parsed = Policy::parse(draft).map_err(|e| Error::invalid("MalformedPolicyDocument", e.to_string()))?;
        policies.push((PolicySource { name: "draft".into(), policy_type: "Draft".into(), version: None, attached: None }, parsed));
    }
    let set = IdentityPolicies::new(policies, None);
    let actions: Vec<&str> = p.repeated("Action").into_iter().map(|(_, a)| a).collect();
    if actions.is_empty() {
        return Err(Error::MissingParameter("Action.1".into()));
    }
    let resource = p.optional("Resource").unwrap_or("*");
    let request_context = context(p, &caller);
    let mut results = Vec::new();
    for action in &actions {
        let request = Request::new(action, resource, &request_context)
            .with_names_ignoring_case(resource.get(..8).is_some_and(|r| r.eq_ignore_ascii_case("acs:ram:")));
        let (decision, _) = set.verdict(PrincipalView::of(&caller), &request);
        let sources: Vec<(&PolicySource, &Policy)> = set.sources().collect();
        let labelled: Vec<(&str, &Policy)> = sources.iter().map(|(s, p)| (s.name.as_str(), *p)).collect();
        let statements: Vec<Value> = explain(&labelled, &request)
            .into_iter()
            .filter(|t| t.action_matched && t.resource_matched)
            .map(|t| {
                let source = sources[t.policy_index].0;
                json!({
                    "PolicyName": source.name,
                    "PolicyType": source.policy_type,
                    "PolicyVersion": source.version,
                    "AttachedTo": source.attached.as_ref().map(|(kind, name)| json!({"Type": kind, "Name": name})),
                    "StatementIndex": t.statement_index,
                    "Sid": t.sid,
                    "Effect": t.effect.as_str(),
                    "Applies": t.applies(),
                    "Conditions": t.conditions.iter().map(|c| json!({
                        "Operator": c.operator,
                        "Key": c.key,
                        "Values": c.values,
                        "RequestValues": c.request_values,
                        "Matched": c.holds,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        results.push(json!({
            "Action": action,
            "Resource": resource,
            "Decision": outcome_name(decision.outcome),
            "Explanation": decision.to_string(),
            "MatchedStatements": statements,
        }));
    }
    Ok(json!({ "Results": results }))
}

/// `AssumeRoleName` + `Principal`: may that principal (a RAM ARN, an account id, or a service such
/// as `ecs.aliyuncs.com`) assume the role, under the role's trust policy?
fn simulate_trust(ctx: &mut Ctx, p: &Params, role_name: &str) -> Result<Value> {
    let account = ctx.account().to_string();
    let role = ctx
        .tx
        .get_rec::<Role>(&account, role_name)?
        .ok_or_else(|| Error::not_exist("Role", format!("The role does not exist: {role_name}.")))?;
    let who = p.required("Principal")?;
    let principal = if who.starts_with("acs:") {
        rolestack_policy::Principal::from_ram_arn(who).ok_or_else(|| {
            Error::invalid("InvalidParameter.Principal", format!("{who:?} is not a RAM ARN such as acs:ram::<account>:user/<name>."))
        })?
    } else if who.bytes().all(|b| b.is_ascii_digit()) {
        rolestack_policy::Principal::ram(who, format!("acs:ram::{who}:root"))
    } else {
        rolestack_policy::Principal::service(who)
    };
    let trust = role.trust()?;
    let mut context = Context::new();
    context.set_current_time(ctx.clock.now());
    let decision = trust.evaluate(principal.assume_action(), &principal, &context);
    let source = PolicySource::inline(PolicyKind::AssumeRolePolicy, &format!("trust policy of role {}", role.name));
    let matched = crate::authz::matched_policies(&decision, &[&source]);
    Ok(json!({ "Results": [{
        "Action": principal.assume_action(),
        "Resource": crate::ram::role_arn(&account, &role.name),
        "Principal": who,
        "Decision": outcome_name(decision.outcome),
        "Explanation": decision.to_string(),
        "MatchedStatements": matched.iter().map(|m| json!({
            "PolicyName": m.source.name,
            "PolicyType": m.source.policy_type,
            "StatementIndex": m.statement_index,
            "Sid": m.sid,
            "Effect": m.effect,
        })).collect::<Vec<_>>(),
    }]}))
}
