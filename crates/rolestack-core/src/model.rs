//! The records rolestack keeps, in their stored form. Dates are kept in RAM's wire format
//! (`YYYY-MM-DDTHH:MM:SSZ`); names keep the case the user gave, while lookups ignore case as RAM does.

use serde::{Deserialize, Serialize};

use crate::store::Kind;

/// A record stored under a name inside an account's scope; callers name the key when storing.
pub trait Record: Serialize + serde::de::DeserializeOwned {
    const KIND: Kind;
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
    /// When the key last signed a request (GetAccessKeyLastUsed), recorded at most once a minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
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
    /// The console logon profile (CreateLoginProfile), if the user may sign in to the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_profile: Option<LoginProfile>,
}

/// A tag on a RAM role or policy (TagResources; `acs:ResourceTag/<key>` in conditions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// A RAM user's console logon: an argon2 hash of the password (never the password) and RAM's flags.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct LoginProfile {
    /// PHC string (`$argon2id$v=19$...`).
    pub password_hash: String,
    pub password_reset_required: bool,
    pub mfa_bind_required: bool,
    /// Changes whenever the password is set, so console sessions opened with an older password end.
    pub password_epoch: String,
    pub created: String,
    pub updated: String,
    /// When the password was last set (for the password policy's `MaxPasswordAge`); `None` in
    /// profiles written before it was recorded, which count from `updated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_set: Option<String>,
    /// Hashes of earlier passwords, newest first (the policy's `PasswordReusePrevention`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_hashes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub comments: String,
    pub created: String,
    pub updated: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The trust policy, as the user wrote it (RAM returns it verbatim).
    pub trust_policy: String,
    pub max_session_duration: u32,
    pub created: String,
    pub updated: String,
    /// Sessions (STS tokens) issued before this instant (Unix milliseconds) are no longer valid.
    #[serde(default)]
    pub sessions_revoked_before: Option<i64>,
    /// Per role session name (ASCII lower case): sessions of that name issued before this
    /// instant (Unix milliseconds) are no longer valid (an instance's credentials expired now,
    /// `admin::expire_instance_credentials`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub session_cutoffs: std::collections::BTreeMap<String, i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// For a service-linked role, the service it belongs to (`actiontrail.aliyuncs.com`): its
    /// trust policy and policies are fixed, and only DeleteServiceLinkedRole removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_linked: Option<String>,
}

impl Role {
    /// The stored trust policy, parsed (it was checked when it was written, so a failure is the
    /// store's).
    pub fn trust(&self) -> crate::Result<rolestack_policy::TrustPolicy> {
        rolestack_policy::TrustPolicy::parse(&self.trust_policy)
            .map_err(|e| crate::Error::Store(format!("stored trust policy of {}: {e}", self.name)))
    }
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
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
}
impl Record for AccessKey {
    const KIND: Kind = Kind::AccessKey;
}
impl Record for User {
    const KIND: Kind = Kind::User;
}
impl Record for Group {
    const KIND: Kind = Kind::Group;
}
impl Record for Role {
    const KIND: Kind = Kind::Role;
}
impl Record for ManagedPolicy {
    const KIND: Kind = Kind::Policy;
}
/// Policy versions are keyed by `<policy>/<version>` (see [`PolicyVersion::key`]).
impl Record for PolicyVersion {
    const KIND: Kind = Kind::PolicyVersion;
}

/// An ECS VPC (records are per account; ids are unique).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    pub region_id: String,
    pub name: String,
    pub description: String,
    pub cidr_block: String,
    pub vrouter_id: String,
    pub route_table_id: String,
    pub created: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VSwitch {
    pub id: String,
    pub vpc_id: String,
    pub region_id: String,
    pub zone_id: String,
    pub name: String,
    pub description: String,
    pub cidr_block: String,
    pub created: String,
}

/// An ECS instance. `network_type` is `vpc` or `classic`; only VPC instances can hold a RAM role.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub name: String,
    pub host_name: String,
    pub region_id: String,
    pub zone_id: String,
    pub image_id: String,
    pub instance_type: String,
    pub network_type: String,
    pub vpc_id: Option<String>,
    pub vswitch_id: Option<String>,
    pub private_ip: String,
    pub mac: String,
    pub serial_number: String,
    /// `Pending`, `Starting`, `Running`, `Stopping`, `Stopped`.
    pub status: String,
    /// The attached instance RAM role, by name (one at most).
    pub ram_role_name: Option<String>,
    /// The extra policy given to AttachInstanceRamRole, narrowing the role's sessions on this instance.
    pub ram_role_policy: Option<String>,
    /// When the role was attached (unix seconds): the metadata credentials rotate from here.
    pub ram_role_attached_at: Option<i64>,
    /// Metadata options: `HttpEndpoint` `enabled`/`disabled`, `HttpTokens` `optional`/`required`.
    pub http_endpoint: String,
    pub http_tokens: String,
    /// `HttpPutResponseHopLimit` as asked for (1 to 64; none asked: 1). Kept and shown only: a
    /// hop limit means nothing on the loopback the metadata service answers on.
    #[serde(default)]
    pub http_put_response_hop_limit: Option<u8>,
    pub created: String,
    /// ModifyInstanceAttribute / CreateInstance `Description`.
    #[serde(default)]
    pub description: String,
    /// The security groups the instance is in (CreateInstance `SecurityGroupId`, RunInstances
    /// `SecurityGroupIds.N`, JoinSecurityGroup / LeaveSecurityGroup), in joining order.
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    /// The system disk (DescribeDisks shows it as `d-<id without "i-">`).
    #[serde(default = "default_disk_category")]
    pub system_disk_category: String,
    #[serde(default = "default_disk_size")]
    pub system_disk_size: u32,
    /// Instance user data (CreateInstance / RunInstances / ModifyInstanceAttribute `UserData`),
    /// Base64 as given and checked (`crate::ecs::user_data`); served decoded at
    /// `/latest/user-data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    /// The node whose host gives the instance its network and metadata service (the node that
    /// created it, `serve --node-name`); `None` on a single server (`crate::cluster`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The SSH key pair bound to the instance (CreateInstance / RunInstances `KeyPairName`,
    /// AttachKeyPair), with its OpenSSH public key as it was when bound: the metadata tree serves
    /// it at `public-keys/0/openssh-key` (`crate::ecs::key_pairs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pair_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

impl Instance {
    /// The primary network interface of a VPC instance (`eni-<id without "i-">`), as
    /// DescribeInstances and the metadata tree show it; classic-network instances have none.
    pub fn network_interface_id(&self) -> Option<String> {
        (self.network_type == "vpc").then(|| format!("eni-{}", self.id.get(2..).unwrap_or_default()))
    }
}

fn default_disk_category() -> String {
    "cloud_efficiency".into()
}
fn default_disk_size() -> u32 {
    40
}

/// An ECS SSH key pair (CreateKeyPair / ImportKeyPair). Only the public half is kept: the private
/// key CreateKeyPair makes is answered once and never stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyPair {
    pub name: String,
    pub id: String,
    pub region_id: String,
    /// MD5 of the public key blob, lower-case hex pairs joined by `:` (docs/instances.md).
    pub fingerprint: String,
    /// `<type> <base64 blob>` (OpenSSH one-line form, without a comment).
    pub public_key: String,
    pub created: String,
}

impl KeyPair {
    /// The record key: names are unique per account and region.
    pub fn key(region_id: &str, name: &str) -> String {
        format!("{region_id}/{name}")
    }
}

/// An ECS security group. `vpc_id` is `None` for a classic-network group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub region_id: String,
    pub vpc_id: Option<String>,
    pub name: String,
    pub description: String,
    /// `normal` or `enterprise`.
    pub group_type: String,
    pub created: String,
    pub rules: Vec<SecurityGroupRule>,
}

/// One permission of a security group, as AuthorizeSecurityGroup(Egress) records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupRule {
    /// `ingress` or `egress`.
    pub direction: String,
    /// Upper-case: `TCP`, `UDP`, `ICMP`, `GRE`, `ALL`.
    pub ip_protocol: String,
    pub port_range: String,
    /// The other end: a CIDR block (`SourceCidrIp` / `DestCidrIp`) or a group id.
    pub cidr_ip: String,
    pub group_id: String,
    /// `Accept` or `Drop`.
    pub policy: String,
    pub priority: u32,
    pub nic_type: String,
    pub description: String,
    pub created: String,
}

/// The tags of one resource, stored under `<ResourceType>/<ResourceId>` (`instance/i-…`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResourceTags {
    pub resource_type: String,
    pub resource_id: String,
    pub region_id: String,
    /// Key/value pairs in the order they were first set.
    pub tags: Vec<(String, String)>,
}

impl ResourceTags {
    pub fn key(resource_type: &str, resource_id: &str) -> String {
        format!("{resource_type}/{resource_id}")
    }
}

/// The credentials the metadata service currently serves an instance (rotated in place).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceSession {
    pub instance_id: String,
    pub role_name: String,
    /// The sealed SecurityToken; the AccessKey pair and expiry are inside.
    pub token: String,
    pub issued: i64,
    pub expires: i64,
}

impl Record for Vpc {
    const KIND: Kind = Kind::Vpc;
}
impl Record for VSwitch {
    const KIND: Kind = Kind::VSwitch;
}
impl Record for Instance {
    const KIND: Kind = Kind::Instance;
}
impl Record for InstanceSession {
    const KIND: Kind = Kind::InstanceSession;
}
impl Record for SecurityGroup {
    const KIND: Kind = Kind::SecurityGroup;
}
/// Keyed by [`KeyPair::key`].
impl Record for KeyPair {
    const KIND: Kind = Kind::KeyPair;
}
/// Keyed by [`ResourceTags::key`].
impl Record for ResourceTags {
    const KIND: Kind = Kind::ResourceTags;
}
