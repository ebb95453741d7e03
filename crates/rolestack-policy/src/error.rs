//! Parse errors: where in the document a problem is, what was found there and what RAM expects.
//!
//! Every message names a [`Location`] (for example `Statement[1].Action[0] (Sid "ReadOnly")`) so
//! a user can find the offending spot in a document they pasted into a console or an SDK call,
//! and every variant carries the pieces separately so a caller can render them differently.

use std::fmt;

/// Where in a policy document a problem was found.
///
/// `path` is a JSON-path-like string (`Statement[0].Condition.StringLike."oss:Prefix"`); empty
/// means the document itself. `statement` and `sid` identify the enclosing statement, because
/// users think in statements ("the second statement", "the one with Sid DenyHttp").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    path: String,
    statement: Option<usize>,
    sid: Option<String>,
}

impl Location {
    pub(crate) fn root() -> Self {
        Self::default()
    }

    /// The location of statement `index`; `in_list` is false when `Statement` was a single
    /// object rather than a list, so the path reads `Statement` and not `Statement[0]`.
    pub(crate) fn statement(index: usize, in_list: bool, sid: Option<String>) -> Self {
        let path = if in_list { format!("Statement[{index}]") } else { "Statement".to_owned() };
        Location { path, statement: Some(index), sid }
    }

    /// The location of the value under `key` inside this location.
    pub(crate) fn key(&self, key: &str) -> Self {
        let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let segment = if plain { key.to_owned() } else { format!("{key:?}") };
        let path = if self.path.is_empty() { segment } else { format!("{}.{segment}", self.path) };
        Location { path, ..self.clone() }
    }

    /// The location of element `index` of the list at this location.
    pub(crate) fn index(&self, index: usize) -> Self {
        Location { path: format!("{}[{index}]", self.path), ..self.clone() }
    }

    /// The JSON-path-like position; empty for the document itself.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Index of the enclosing statement, if the problem is inside one.
    pub fn statement_index(&self) -> Option<usize> {
        self.statement
    }

    /// `Sid` of the enclosing statement, if it has one.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str("policy document")?;
        } else {
            f.write_str(&self.path)?;
        }
        if let Some(sid) = &self.sid {
            write!(f, " (Sid {sid:?})")?;
        }
        Ok(())
    }
}

/// Why a policy document was rejected.
///
/// Parsing is fail-closed: anything RAM would not accept, or that this crate cannot evaluate
/// exactly (an unknown condition operator, a malformed date), is an error rather than being
/// ignored. `hint` fields are either empty or start with `"; "` or `" ("` so they read as a
/// continuation of the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The text is not JSON at all. `message` is the JSON parser's (it includes line and column).
    #[error("policy document is not valid JSON: {message}{hint}")]
    Syntax { line: usize, column: usize, message: String, hint: String },

    /// A value has the wrong JSON type (for example an object where a list of strings belongs).
    #[error("{location}: expected {expected}, found {found}")]
    WrongType { location: Location, expected: String, found: String },

    /// An object has a key RAM does not know at that place.
    #[error("{location}: unknown key {key:?}{hint}")]
    UnknownKey { location: Location, key: String, hint: String },

    /// The same key appears twice in one object (JSON parsers would silently keep one of them).
    #[error("{location}: key {key:?} appears more than once; each key may appear only once")]
    DuplicateKey { location: Location, key: String },

    /// A required key is absent.
    #[error("{location}: missing required key {key:?}{hint}")]
    MissingKey { location: Location, key: String, hint: String },

    /// Two keys that exclude each other are both present (`Action` and `NotAction`, ...).
    #[error("{location}: {first:?} and {second:?} cannot be used together; use exactly one of them")]
    ConflictingKeys { location: Location, first: String, second: String },

    /// A value has the right type but is not acceptable. `found` is the value as written (JSON).
    #[error("{location}: invalid value {found}; {expected}")]
    InvalidValue { location: Location, found: String, expected: String },

    /// A `Condition` block uses an operator RAM does not have.
    #[error("{location}: unknown condition operator {operator:?}{hint}")]
    UnknownOperator { location: Location, operator: String, hint: String },

    /// A condition key is neither a known global `acs:` key nor a `<service>:<key>` name.
    #[error("{location}: unknown condition key {key:?}{hint}")]
    UnknownConditionKey { location: Location, key: String, hint: String },
}

impl PolicyError {
    /// Where the problem is; `None` for JSON syntax errors (see their line and column).
    pub fn location(&self) -> Option<&Location> {
        match self {
            PolicyError::Syntax { .. } => None,
            PolicyError::WrongType { location, .. }
            | PolicyError::UnknownKey { location, .. }
            | PolicyError::DuplicateKey { location, .. }
            | PolicyError::MissingKey { location, .. }
            | PolicyError::ConflictingKeys { location, .. }
            | PolicyError::InvalidValue { location, .. }
            | PolicyError::UnknownOperator { location, .. }
            | PolicyError::UnknownConditionKey { location, .. } => Some(location),
        }
    }

    pub(crate) fn invalid(location: &Location, found: impl fmt::Debug, expected: impl Into<String>) -> Self {
        PolicyError::InvalidValue { location: location.clone(), found: format!("{found:?}"), expected: expected.into() }
    }
}
