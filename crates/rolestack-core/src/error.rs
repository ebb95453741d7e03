//! The typed errors of every service. Each variant knows its public code and HTTP status, because
//! those are part of the API contract; rendering them as JSON or XML is the front-end's job.

use std::fmt;

use crate::diagnostics::AccessDeniedDetail;

/// A RAM entity kind as it appears in error codes (`EntityNotExist.Role`, `DeleteConflict.User.Policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Role,
    User,
    Group,
    Policy,
    PolicyVersion,
    AccessKey,
    LoginProfile,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::Role => "Role",
            Entity::User => "User",
            Entity::Group => "Group",
            Entity::Policy => "Policy",
            Entity::PolicyVersion => "Policy.Version",
            Entity::AccessKey => "AccessKey",
            Entity::LoginProfile => "LoginProfile",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A required request parameter is absent: `Missing{Name}` / `MissingParameter`.
    #[error("{0} is mandatory for this action.")]
    MissingParameter(String),
    /// A parameter has a bad value. `code` is the full public code (e.g. `InvalidParameter.RoleName.Length`).
    #[error("{message}")]
    InvalidParameter { code: String, message: String },
    /// The named entity does not exist (`EntityNotExist.Role` ...), or a relation between two does not
    /// (`EntityNotExist.Role.Policy`), in which case `code_suffix` holds `Role.Policy`.
    #[error("{message}")]
    EntityNotExist { code_suffix: String, message: String },
    #[error("{message}")]
    EntityAlreadyExists { code_suffix: String, message: String },
    /// Deleting something that is still referenced (`DeleteConflict.Role.Policy` ...).
    #[error("{message}")]
    DeleteConflict { code_suffix: String, message: String },
    #[error("{message}")]
    LimitExceeded { code_suffix: String, message: String },
    /// An authorization refusal: RAM's `NoPermission`, ECS's `Forbidden.RAM`,
    /// `InvalidUser.PassRoleForbidden`, ... (403), with the detail that explains it (the body's
    /// `AccessDeniedDetail`, see [`crate::diagnostics`]).
    #[error("{message}")]
    Denied { code: &'static str, message: String, detail: Box<AccessDeniedDetail> },
    /// Any other service-specific error with its own public code and status.
    #[error("{message}")]
    Service { status: u16, code: String, message: String },
    /// The store failed; surfaces as `InternalError` (500) and is logged.
    #[error("store error: {0}")]
    Store(String),
    /// The store gave the transaction up because it conflicted with a concurrent one (a shared
    /// PostgreSQL's serialization failure): nothing of it was committed, and running the whole
    /// call again succeeds or fails on its own merits ([`crate::store::retry`]). Surfaces like
    /// [`Error::Store`] when it persists.
    #[error("store conflict: {0}")]
    Conflict(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(code: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidParameter { code: code.into(), message: message.into() }
    }
    pub fn not_exist(suffix: impl Into<String>, message: impl Into<String>) -> Self {
        Error::EntityNotExist { code_suffix: suffix.into(), message: message.into() }
    }
    pub fn already_exists(suffix: impl Into<String>, message: impl Into<String>) -> Self {
        Error::EntityAlreadyExists { code_suffix: suffix.into(), message: message.into() }
    }
    pub fn delete_conflict(suffix: impl Into<String>, message: impl Into<String>) -> Self {
        Error::DeleteConflict { code_suffix: suffix.into(), message: message.into() }
    }
    pub fn limit(suffix: impl Into<String>, message: impl Into<String>) -> Self {
        Error::LimitExceeded { code_suffix: suffix.into(), message: message.into() }
    }
    pub fn service(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Service { status, code: code.into(), message: message.into() }
    }

    /// The public error code, exactly as the real service spells it.
    pub fn code(&self) -> String {
        match self {
            Error::MissingParameter(name) => format!("Missing{name}"),
            Error::InvalidParameter { code, .. } | Error::Service { code, .. } => code.clone(),
            Error::EntityNotExist { code_suffix, .. } => format!("EntityNotExist.{code_suffix}"),
            Error::EntityAlreadyExists { code_suffix, .. } => format!("EntityAlreadyExists.{code_suffix}"),
            Error::DeleteConflict { code_suffix, .. } => format!("DeleteConflict.{code_suffix}"),
            Error::LimitExceeded { code_suffix, .. } => format!("LimitExceeded.{code_suffix}"),
            Error::Denied { code, .. } => (*code).into(),
            Error::Store(_) | Error::Conflict(_) => "InternalError".into(),
        }
    }

    /// The HTTP status the real service answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::MissingParameter(_) | Error::InvalidParameter { .. } => 400,
            Error::EntityNotExist { .. } => 404,
            Error::EntityAlreadyExists { .. } | Error::DeleteConflict { .. } | Error::LimitExceeded { .. } => 409,
            Error::Denied { .. } => 403,
            Error::Service { status, .. } => *status,
            Error::Store(_) | Error::Conflict(_) => 500,
        }
    }

    /// RAM's `NoPermission` for a denial.
    pub fn no_permission(detail: AccessDeniedDetail, reason: &str) -> Self {
        let v = &detail.verdict;
        let message = format!(
            "You are not authorized to do this action. You should be authorized by RAM. Action: {}, Resource: {}. {reason}",
            v.action, v.resource
        );
        Error::Denied { code: "NoPermission", message, detail: Box::new(detail) }
    }

    /// ECS's `Forbidden.RAM` for a denial.
    pub fn forbidden_ram(detail: AccessDeniedDetail, reason: &str) -> Self {
        let v = &detail.verdict;
        let message = format!(
            "User not authorized to operate on the specified resource, or this API doesn't support RAM. Action: {}, Resource: {}. {reason}",
            v.action, v.resource
        );
        Error::Denied { code: "Forbidden.RAM", message, detail: Box::new(detail) }
    }

    /// The detail of an authorization refusal (`AccessDeniedDetail` in the error body).
    pub fn access_denied_detail(&self) -> Option<&AccessDeniedDetail> {
        match self {
            Error::Denied { detail, .. } => Some(detail),
            _ => None,
        }
    }

    /// The message shown to the client. Internal errors do not leak store details.
    pub fn public_message(&self) -> String {
        match self {
            Error::Store(_) | Error::Conflict(_) => {
                "The request processing has failed due to some unknown error, exception or failure.".into()
            }
            other => other.to_string(),
        }
    }
}
