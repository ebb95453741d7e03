//! Evaluation: deciding a [`Request`] against a set of labelled policies, with an explanation.
//!
//! RAM's rules: any matching `Deny` statement denies (explicit deny); otherwise any matching
//! `Allow` statement allows; otherwise the request is denied by default (implicit deny). A
//! statement matches when its action, resource and condition all match.
//!
//! A session policy (AssumeRole `Policy`, AttachInstanceRamRole `Policy`) *restricts* a role:
//! evaluate the role's policies and the session policy separately and combine the two decisions
//! with [`Decision::intersect`]: both must Allow, and a Deny in either denies. The account root
//! bypasses policies entirely; that is the caller's business, not this crate's.

use std::fmt;

use crate::context::Request;
use crate::policy::Policy;
use crate::statement::{Effect, Statement};

/// The three possible results of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Allow,
    /// A `Deny` statement matched.
    ExplicitDeny,
    /// No statement matched (RAM denies by default).
    ImplicitDeny,
}

/// The statement that decided an evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidingStatement {
    /// Index of the policy in the list that was evaluated.
    pub policy_index: usize,
    /// The label the caller gave that policy (a policy name, "session policy", ...).
    pub policy: String,
    pub statement_index: usize,
    pub sid: Option<String>,
}

/// The result of an evaluation and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// The deciding statement; `None` for an implicit deny.
    pub decided_by: Option<DecidingStatement>,
    /// How many policies were looked at (for implicit-deny explanations).
    pub policies_evaluated: usize,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }

    pub fn is_explicit_deny(&self) -> bool {
        self.outcome == Outcome::ExplicitDeny
    }

    /// Combines two decisions that must *both* allow (role policies and a session policy):
    /// an explicit deny in either wins, then an implicit deny in either, else Allow. The
    /// returned decision explains itself with the deciding side's statement.
    pub fn intersect(self, other: Decision) -> Decision {
        match (self.outcome, other.outcome) {
            (Outcome::ExplicitDeny, _) => self,
            (_, Outcome::ExplicitDeny) => other,
            (Outcome::ImplicitDeny, _) => self,
            (_, Outcome::ImplicitDeny) => other,
            (Outcome::Allow, Outcome::Allow) => self,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.outcome {
            Outcome::Allow => "allowed",
            Outcome::ExplicitDeny => "explicitly denied",
            Outcome::ImplicitDeny => {
                return match self.policies_evaluated {
                    0 => f.write_str("implicitly denied: no policy applies to the caller"),
                    1 => f.write_str("implicitly denied: no statement in the policy allows this action on this resource"),
                    n => write!(f, "implicitly denied: no statement in the {n} policies evaluated allows this action on this resource"),
                };
            }
        };
        match &self.decided_by {
            Some(d) => {
                write!(f, "{verb} by statement {} ", d.statement_index)?;
                if let Some(sid) = &d.sid {
                    write!(f, "(Sid {sid:?}) ")?;
                }
                write!(f, "of policy {:?}", d.policy)
            }
            None => f.write_str(verb),
        }
    }
}

/// Decides `request` against labelled policies: `[("AliyunOSSReadOnlyAccess", &policy), ...]`.
pub fn evaluate(policies: &[(&str, &Policy)], request: &Request<'_>) -> Decision {
    decide(policies.iter().map(|(label, policy)| (*label, policy.statements())), |s| s.applies_to(request))
}

/// An ordered list of labelled policies, for callers that collect them one at a time.
#[derive(Debug, Clone, Default)]
pub struct PolicySet<'a> {
    policies: Vec<(&'a str, &'a Policy)>,
}

impl<'a> PolicySet<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, label: &'a str, policy: &'a Policy) -> &mut Self {
        self.policies.push((label, policy));
        self
    }

    pub fn with(mut self, label: &'a str, policy: &'a Policy) -> Self {
        self.push(label, policy);
        self
    }

    pub fn len(&self) -> usize {
        self.policies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    pub fn evaluate(&self, request: &Request<'_>) -> Decision {
        evaluate(&self.policies, request)
    }
}

/// The shared deny-wins loop over labelled statement lists.
pub(crate) fn decide<'a>(policies: impl IntoIterator<Item = (&'a str, &'a [Statement])>, applies: impl Fn(&Statement) -> bool) -> Decision {
    let mut allowed_by: Option<(usize, &str, usize, &Statement)> = None;
    let mut count = 0;
    for (policy_index, (label, statements)) in policies.into_iter().enumerate() {
        count += 1;
        for (statement_index, statement) in statements.iter().enumerate() {
            // Once something allows, only a Deny can change the outcome.
            if allowed_by.is_some() && statement.effect() == Effect::Allow {
                continue;
            }
            if !applies(statement) {
                continue;
            }
            let found = (policy_index, label, statement_index, statement);
            match statement.effect() {
                Effect::Deny => return decision(Outcome::ExplicitDeny, Some(found), count),
                Effect::Allow => allowed_by = Some(found),
            }
        }
    }
    match allowed_by {
        Some(found) => decision(Outcome::Allow, Some(found), count),
        None => decision(Outcome::ImplicitDeny, None, count),
    }
}

fn decision(outcome: Outcome, by: Option<(usize, &str, usize, &Statement)>, count: usize) -> Decision {
    Decision {
        outcome,
        decided_by: by.map(|(policy_index, label, statement_index, statement)| DecidingStatement {
            policy_index,
            policy: label.to_owned(),
            statement_index,
            sid: statement.sid().map(str::to_owned),
        }),
        policies_evaluated: count,
    }
}
