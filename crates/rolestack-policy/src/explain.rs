//! Explanations: how every statement of a set of labelled policies fared against a request —
//! whether its action, resource and each condition clause matched, and which statement decided.
//! The policy simulator and the access-denied diagnostics read the same evaluation the
//! authorizer runs ([`crate::evaluate`]); this module only makes it visible.

use crate::condition::ConditionTrace;
use crate::context::Request;
use crate::policy::Policy;
use crate::statement::Effect;

/// One statement against one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementTrace {
    /// Index of the policy in the list that was explained, and its label.
    pub policy_index: usize,
    pub policy: String,
    pub statement_index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub action_matched: bool,
    pub resource_matched: bool,
    /// Each condition clause (operator and key), evaluated; empty without a `Condition`.
    pub conditions: Vec<ConditionTrace>,
}

impl StatementTrace {
    /// Whether the statement covers the request (action, resource and every condition).
    pub fn applies(&self) -> bool {
        self.action_matched && self.resource_matched && self.conditions.iter().all(|c| c.holds)
    }
}

/// Every statement of `policies` against `request`, in order.
pub fn explain(policies: &[(&str, &Policy)], request: &Request<'_>) -> Vec<StatementTrace> {
    let mut out = Vec::new();
    for (policy_index, (label, policy)) in policies.iter().enumerate() {
        for (statement_index, s) in policy.statements().iter().enumerate() {
            let (action_matched, resource_matched, conditions) = s.trace(request);
            out.push(StatementTrace {
                policy_index,
                policy: label.to_string(),
                statement_index,
                sid: s.sid().map(str::to_string),
                effect: s.effect(),
                action_matched,
                resource_matched,
                conditions,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{evaluate, Context};

    #[test]
    fn traces_agree_with_the_decision() {
        let p = Policy::parse(
            r#"{"Version":"1","Statement":[
              {"Sid":"Office","Effect":"Allow","Action":"oss:Get*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8"]}}},
              {"Effect":"Deny","Action":"oss:Delete*","Resource":"acs:oss:*:*:b/*"}]}"#,
        )
        .unwrap();
        let mut ctx = Context::new();
        ctx.set_source_ip("192.168.1.1".parse().unwrap());
        let get = Request::new("oss:GetObject", "acs:oss:*:1:b/k", &ctx);
        let t = explain(&[("p", &p)], &get);
        assert_eq!(t.len(), 2);
        assert!(t[0].action_matched && t[0].resource_matched && !t[0].applies());
        assert_eq!(t[0].sid.as_deref(), Some("Office"));
        assert_eq!(t[0].conditions[0].operator, "IpAddress");
        assert_eq!(t[0].conditions[0].values, ["10.0.0.0/8"]);
        assert_eq!(t[0].conditions[0].request_values, ["192.168.1.1"]);
        assert!(!t[0].conditions[0].holds);
        assert!(!t[1].action_matched);
        assert!(!evaluate(&[("p", &p)], &get).is_allowed());
        let delete = Request::new("oss:DeleteObject", "acs:oss:*:1:b/k", &ctx);
        let t = explain(&[("p", &p)], &delete);
        assert!(t[1].applies() && t[1].effect == Effect::Deny);
    }
}
