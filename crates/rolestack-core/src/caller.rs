//! Who is making a request, and the facts about the request that policy conditions can test
//! (`acs:SourceIp`, `acs:SecureTransport`, `acs:CurrentTime`, `acs:UserAgent`, ...).

use time::OffsetDateTime;

/// The authenticated identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The account itself (its root AccessKey): RAM policies do not apply.
    Root,
    /// A RAM user of the account.
    User { name: String, id: String },
    /// An STS role session: the role's policies apply, narrowed by the session policy if any.
    RoleSession {
        role_name: String,
        role_id: String,
        session_name: String,
        session_policy: Option<String>,
        /// The session's `SourceIdentity` (`crate::sts::SealedToken::source_identity`).
        source_identity: Option<String>,
    },
}

/// Facts about the request itself, for condition keys.
#[derive(Debug, Clone)]
pub struct RequestFacts {
    pub source_ip: Option<std::net::IpAddr>,
    pub secure_transport: bool,
    pub user_agent: Option<String>,
    pub time: OffsetDateTime,
    /// The region of the service name the request was addressed to (`oss-cn-shanghai.aliyuncs.com`
    /// → `cn-shanghai`); `None` for an address that names no region (`127.0.0.1:8960`).
    pub endpoint_region: Option<String>,
}

impl RequestFacts {
    /// A request of which nothing is known but its time (no source address, plain transport, no
    /// user agent, no region in its address).
    pub fn at(time: OffsetDateTime) -> Self {
        RequestFacts { source_ip: None, secure_transport: false, user_agent: None, time, endpoint_region: None }
    }
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    pub principal: Principal,
    pub access_key_id: String,
    pub facts: RequestFacts,
    /// When the principal proved an MFA code for this session (a console sign-in with MFA);
    /// `None` for AccessKey and STS requests, which carry no MFA (`acs:MFAPresent` false).
    pub mfa_at: Option<OffsetDateTime>,
}

impl Caller {
    /// The caller's ARN: `acs:ram::<acct>:root` or `acs:ram::<acct>:user/<name>`.
    pub fn arn(&self) -> String {
        match &self.principal {
            Principal::Root => format!("acs:ram::{}:root", self.account_id),
            Principal::User { name, .. } => format!("acs:ram::{}:user/{}", self.account_id, name),
            Principal::RoleSession { role_name, session_name, .. } => {
                format!("acs:ram::{}:assumed-role/{}/{}", self.account_id, role_name, session_name)
            }
        }
    }
}
