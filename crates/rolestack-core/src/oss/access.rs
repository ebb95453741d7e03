//! Authorization of OSS requests: each operation's RAM action (`oss:GetObject`, ...) and resource
//! (`acs:oss:*:<owner-account>:<bucket>[/<key>]`), decided from the caller's RAM policies (role
//! policies ∩ session policy for role sessions), the bucket policy and the ACLs:
//!
//! 1. The bucket owner's root may do anything.
//! 2. An explicit Deny in the caller's RAM policies or in a bucket-policy statement naming the
//!    caller denies.
//! 3. Same account: a RAM Allow, a bucket-policy Allow or an ACL grant allows.
//!    Another account: a bucket-policy Allow (together with the caller's own RAM Allow unless it
//!    is that account's root), or an ACL grant, allows. Anonymous: a bucket-policy Allow naming
//!    `*`, or an ACL grant.
//! 4. Otherwise OSS's `AccessDenied` (403), naming the action, the resource and the reason.

use rolestack_policy::{Decision, Request};

use super::bucket_policy::{BucketPolicy, Who};
use super::error::{OssError, OssResult};
use super::model::{Acl, Bucket};
use crate::authz::{facts_context, request_context, IdentityPolicies};
use crate::caller::{Caller, Principal, RequestFacts};
use crate::store::Tx;

/// Who sent a request: a verified identity, or nobody (no signature).
#[derive(Debug, Clone)]
pub enum Requester {
    Anonymous(RequestFacts),
    Caller(Caller),
}

impl Requester {
    fn who(&self) -> Who<'_> {
        match self {
            Requester::Anonymous(_) => Who::Anonymous,
            Requester::Caller(c) => Who::Caller(c),
        }
    }

    /// The account of a signed request.
    pub fn account_id(&self) -> Option<&str> {
        match self {
            Requester::Anonymous(_) => None,
            Requester::Caller(c) => Some(&c.account_id),
        }
    }
}

/// The RAM actions of OSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OssAction {
    ListBuckets,
    PutBucket,
    DeleteBucket,
    GetBucketInfo,
    GetBucketLocation,
    GetBucketAcl,
    PutBucketAcl,
    GetBucketPolicy,
    PutBucketPolicy,
    DeleteBucketPolicy,
    ListObjects,
    ListMultipartUploads,
    PutObject,
    GetObject,
    DeleteObject,
    GetObjectAcl,
    PutObjectAcl,
    AbortMultipartUpload,
    ListParts,
}

impl OssAction {
    /// The action name in RAM policies.
    pub fn as_str(self) -> &'static str {
        use OssAction::*;
        match self {
            ListBuckets => "oss:ListBuckets",
            PutBucket => "oss:PutBucket",
            DeleteBucket => "oss:DeleteBucket",
            GetBucketInfo => "oss:GetBucketInfo",
            GetBucketLocation => "oss:GetBucketLocation",
            GetBucketAcl => "oss:GetBucketAcl",
            PutBucketAcl => "oss:PutBucketAcl",
            GetBucketPolicy => "oss:GetBucketPolicy",
            PutBucketPolicy => "oss:PutBucketPolicy",
            DeleteBucketPolicy => "oss:DeleteBucketPolicy",
            ListObjects => "oss:ListObjects",
            ListMultipartUploads => "oss:ListMultipartUploads",
            PutObject => "oss:PutObject",
            GetObject => "oss:GetObject",
            DeleteObject => "oss:DeleteObject",
            GetObjectAcl => "oss:GetObjectAcl",
            PutObjectAcl => "oss:PutObjectAcl",
            AbortMultipartUpload => "oss:AbortMultipartUpload",
            ListParts => "oss:ListParts",
        }
    }

    /// What a canned ACL grants: reads for `public-read`, reads and writes for
    /// `public-read-write`; never ACL or policy management.
    fn granted_by(self, acl: Acl) -> bool {
        use OssAction::*;
        let read = matches!(self, GetObject | ListObjects);
        let write = matches!(self, PutObject | DeleteObject | AbortMultipartUpload | ListParts | ListMultipartUploads);
        match acl {
            Acl::PublicRead => read,
            Acl::PublicReadWrite => read || write,
            Acl::Private | Acl::Default => false,
        }
    }
}

/// What a request touches.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The bucket, when it exists (its owner, ACL and policy take part in the decision).
    pub bucket: Option<&'a Bucket>,
    /// The bucket name (also for a bucket that does not exist yet: PutBucket).
    pub bucket_name: Option<&'a str>,
    pub key: Option<&'a str>,
    /// The object's own ACL when it has one.
    pub object_acl: Acl,
    /// Extra condition keys (`oss:Prefix`, `oss:Delimiter`).
    pub condition_keys: &'a [(&'a str, &'a str)],
}

impl<'a> Target<'a> {
    pub fn service() -> Self {
        Target { bucket: None, bucket_name: None, key: None, object_acl: Acl::Default, condition_keys: &[] }
    }
    pub fn bucket(bucket: &'a Bucket) -> Self {
        Target { bucket: Some(bucket), bucket_name: Some(&bucket.name), ..Target::service() }
    }
    pub fn object(bucket: &'a Bucket, key: &'a str) -> Self {
        Target { key: Some(key), ..Target::bucket(bucket) }
    }
}

/// `acs:oss:*:<account>:<bucket>[/<key>]`, or `acs:oss:*:<account>:*` for the service.
pub fn resource_arn(account: &str, bucket: Option<&str>, key: Option<&str>) -> String {
    match (bucket, key) {
        (None, _) => format!("acs:oss:*:{account}:*"),
        (Some(b), None) => format!("acs:oss:*:{account}:{b}"),
        (Some(b), Some(k)) => format!("acs:oss:*:{account}:{b}/{k}"),
    }
}

/// Decides one request; `Err(AccessDenied)` explains a refusal.
pub fn authorize(tx: &mut dyn Tx, who: &Requester, action: OssAction, target: Target<'_>) -> OssResult<()> {
    let owner = match (target.bucket, who) {
        (Some(b), _) => b.owner.clone(),
        (None, Requester::Caller(c)) => c.account_id.clone(),
        (None, Requester::Anonymous(_)) => {
            return Err(OssError::access_denied("Anonymous access is forbidden for this operation."));
        }
    };
    if let Requester::Caller(c) = who {
        if c.principal == Principal::Root && c.account_id == owner {
            return Ok(());
        }
    }
    let resource = resource_arn(&owner, target.bucket_name, target.key);
    let mut context = match who {
        Requester::Anonymous(facts) => facts_context(facts),
        Requester::Caller(c) => request_context(c),
    };
    for (k, v) in target.condition_keys {
        context.set(*k, *v);
    }
    let request = Request::new(action.as_str(), &resource, &context);

    let identity: Option<Decision> = match who {
        Requester::Caller(c) if c.principal != Principal::Root => Some(IdentityPolicies::load(tx, c)?.decide(&request)),
        _ => None,
    };
    let policy = match target.bucket.and_then(|b| b.policy.as_deref()) {
        Some(text) => Some(BucketPolicy::parse(text)?.decide(who.who(), &owner, &request)),
        None => None,
    };
    let denial = |why: String| {
        Err(OssError::access_denied(format!(
            "You have no right to access this resource: {why}. Action: {}, Resource: {resource}.",
            action.as_str()
        )))
    };
    if let Some(d) = identity.as_ref().filter(|d| d.is_explicit_deny()) {
        return denial(format!("RAM policy {d}"));
    }
    if let Some(d) = policy.as_ref().filter(|d| d.is_explicit_deny()) {
        return denial(format!("bucket policy {d}"));
    }
    let acl = if target.object_acl != Acl::Default {
        target.object_acl
    } else {
        target.bucket.map_or(Acl::Private, |b| b.acl)
    };
    if action.granted_by(acl) {
        return Ok(());
    }
    let policy_allows = policy.as_ref().is_some_and(Decision::is_allowed);
    let identity_allows = identity.as_ref().is_some_and(Decision::is_allowed);
    let same_account = who.account_id() == Some(owner.as_str());
    let allowed = match who {
        Requester::Anonymous(_) => policy_allows,
        Requester::Caller(_) if same_account => identity_allows || policy_allows,
        Requester::Caller(c) => policy_allows && (identity_allows || c.principal == Principal::Root),
    };
    if allowed {
        return Ok(());
    }
    let why = match (who, &identity) {
        (Requester::Anonymous(_), _) => "anonymous access is not allowed by the bucket policy or ACL".to_string(),
        (_, _) if !same_account && !policy_allows => "the bucket belongs to another account and its bucket policy does not grant this".to_string(),
        (_, Some(d)) => format!("RAM policy {d}, and no bucket policy or ACL grants it"),
        (_, None) => "no policy grants it".to_string(),
    };
    denial(why)
}
