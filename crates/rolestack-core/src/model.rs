//! The records rolestack keeps, in their stored form. Dates are kept in RAM's wire format
//! (`YYYY-MM-DDTHH:MM:SSZ`); names keep the case the user gave, while lookups ignore case as RAM does.

use serde::{Deserialize, Serialize};

use crate::store::Kind;

/// A record stored under a name inside an account's scope.
pub trait Record: Serialize + serde::de::DeserializeOwned {
    const KIND: Kind;
    fn name(&self) -> &str;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub alias: Option<String>,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyOwner {
    /// The account's root identity (the "Alibaba Cloud account" itself).
    Root,
    /// A RAM user, by name.
    User(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

/// An AccessKey pair; the secret is sealed with the server key (see [`crate::seal`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    pub account_id: String,
    pub owner: KeyOwner,
    pub sealed_secret: String,
    pub status: KeyStatus,
    pub created: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct User {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub mobile_phone: String,
    pub email: String,
    pub comments: String,
    pub created: String,
    pub updated: String,
    pub last_login: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub comments: String,
    pub created: String,
    pub updated: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The trust policy, as the user wrote it (RAM returns it verbatim).
    pub trust_policy: String,
    pub max_session_duration: u32,
    pub created: String,
    pub updated: String,
    /// Sessions (STS tokens) issued before this instant (unix seconds) are no longer valid.
    #[serde(default)]
    pub sessions_revoked_before: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyType {
    System,
    Custom,
}

impl PolicyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::System => "System",
            PolicyType::Custom => "Custom",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "System" => Some(PolicyType::System),
            "Custom" => Some(PolicyType::Custom),
            _ => None,
        }
    }
}

/// A custom (account-owned) policy. System policies are built in ([`crate::ram::system_policies`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub description: String,
    pub default_version: String,
    /// The number the next version gets (`v{next_version}`); versions are never renumbered.
    pub next_version: u32,
    pub created: String,
    pub updated: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub policy_name: String,
    pub version_id: String,
    pub document: String,
    pub created: String,
}

impl PolicyVersion {
    /// Versions are stored under `<policy>/<version>`, so one policy's versions list together.
    pub fn key(policy: &str, version: &str) -> String {
        format!("{policy}/{version}")
    }
}

impl Record for Account {
    const KIND: Kind = Kind::Account;
    fn name(&self) -> &str {
        &self.id
    }
}
impl Record for AccessKey {
    const KIND: Kind = Kind::AccessKey;
    fn name(&self) -> &str {
        &self.id
    }
}
impl Record for User {
    const KIND: Kind = Kind::User;
    fn name(&self) -> &str {
        &self.name
    }
}
impl Record for Group {
    const KIND: Kind = Kind::Group;
    fn name(&self) -> &str {
        &self.name
    }
}
impl Record for Role {
    const KIND: Kind = Kind::Role;
    fn name(&self) -> &str {
        &self.name
    }
}
impl Record for ManagedPolicy {
    const KIND: Kind = Kind::Policy;
    fn name(&self) -> &str {
        &self.name
    }
}
/// Policy versions are keyed by `<policy>/<version>`; `name()` is not used for them.
impl Record for PolicyVersion {
    const KIND: Kind = Kind::PolicyVersion;
    fn name(&self) -> &str {
        &self.version_id
    }
}
