//! Permission policies: the documents attached to users, groups and roles, and session policies.

use crate::context::Request;
use crate::decision::{decide, Decision};
use crate::error::PolicyError;
use crate::statement::{parse_document, Kind, Statement};

/// A parsed, validated permission policy, with its patterns compiled for evaluation.
///
/// Keep the user's original text for display and `GetPolicyVersion`; this type does not
/// serialize back to JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    statements: Vec<Statement>,
}

impl Policy {
    /// Parses and validates a permission policy document (RAM `PolicyDocument`, or a session
    /// policy). The size limits (6144 bytes for custom policies, 2048 for AssumeRole session
    /// policies, ...) are the caller's to enforce.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        Ok(Policy { statements: parse_document(text, Kind::Permission)? })
    }

    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Decides `request` against this policy alone (labelled "policy" in the explanation).
    pub fn evaluate(&self, request: &Request<'_>) -> Decision {
        decide([("policy", self.statements.as_slice())], |s| s.applies_to(request))
    }
}

impl std::str::FromStr for Policy {
    type Err = PolicyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Policy::parse(text)
    }
}
