//! Authorization of OSS requests: each operation's RAM action (`oss:GetObject`, ...) and resource
//! (`acs:oss:*:<owner-account>:<bucket>[/<key>]`), decided from the caller's RAM policies (role
//! policies ∩ session policy for role sessions), the bucket policy and the ACLs:
//!
//! 1. The bucket owner's root may do anything.
//! 2. An explicit Deny in the caller's RAM policies, in a role session's session policy or in a
//!    bucket-policy statement naming the caller denies.
//! 3. Same account: a RAM Allow, a bucket-policy Allow or an ACL grant allows.
//!    Another account: a bucket-policy Allow (together with the caller's own RAM Allow unless it
//!    is that account's root), or an ACL grant, allows. Anonymous: a bucket-policy Allow naming
//!    `*`, or an ACL grant.
//! 4. A role session with a session policy is allowed only what that policy also allows,
//!    whichever of the grants above allowed it: STS tokens never exceed their session policy.
//! 5. Otherwise OSS's `AccessDenied` (403), naming the action, the resource and the reason.
//!
//! The ACL that grants is the object's own unless it is `default`, else the bucket's — for
//! writes and deletes too, where the object is the key's current one (docs/oss.md,
//! "Authorization"). A request only an ACL allowed comes back as [`Grant::Acl`], so a write that
//! commits after its body has streamed can check that grant again against the object it then
//! replaces.
//!
//! A request that encrypts or decrypts with a KMS key needs the `kms:` actions on the key as
//! well ([`authorize_kms`]; see [`super::kms`]).

use rolestack_policy::{Context, Decision, Request};

use super::bucket_policy::{BucketPolicy, Who};
use super::error::{OssError, OssResult};
use super::kms::{KeyUse, KmsKey};
use super::model::{Acl, Bucket};
use crate::authz::{conditions_of, facts_context, matched_policies, request_context, IdentityPolicies};
use crate::caller::{Caller, Principal, RequestFacts};
use crate::diagnostics::{PolicyKind, PolicySource, PrincipalView, Verdict};
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

    /// The facts of the request.
    pub fn facts(&self) -> &RequestFacts {
        match self {
            Requester::Anonymous(f) => f,
            Requester::Caller(c) => &c.facts,
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
    PutBucketCors,
    GetBucketCors,
    DeleteBucketCors,
    PutBucketReferer,
    GetBucketReferer,
    PutObjectTagging,
    GetObjectTagging,
    DeleteObjectTagging,
    PutBucketTagging,
    GetBucketTagging,
    DeleteBucketTagging,
    RestoreObject,
    PostProcessTask,
    PutBucketLifecycle,
    GetBucketLifecycle,
    DeleteBucketLifecycle,
    PutBucketVersioning,
    GetBucketVersioning,
    ListObjectVersions,
    GetObjectVersion,
    DeleteObjectVersion,
    GetObjectVersionAcl,
    PutObjectVersionAcl,
    GetObjectVersionTagging,
    PutObjectVersionTagging,
    DeleteObjectVersionTagging,
    PutBucketLogging,
    GetBucketLogging,
    DeleteBucketLogging,
    PutBucketEncryption,
    GetBucketEncryption,
    DeleteBucketEncryption,
    GetBucketStat,
    PutBucketStorageCapacity,
    GetBucketStorageCapacity,
    PutBucketResourceGroup,
    GetBucketResourceGroup,
    PutLiveChannel,
    PutLiveChannelStatus,
    GetLiveChannel,
    GetLiveChannelStat,
    GetLiveChannelHistory,
    ListLiveChannel,
    DeleteLiveChannel,
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
            PutBucketCors => "oss:PutBucketCors",
            GetBucketCors => "oss:GetBucketCors",
            DeleteBucketCors => "oss:DeleteBucketCors",
            PutBucketReferer => "oss:PutBucketReferer",
            GetBucketReferer => "oss:GetBucketReferer",
            PutObjectTagging => "oss:PutObjectTagging",
            GetObjectTagging => "oss:GetObjectTagging",
            DeleteObjectTagging => "oss:DeleteObjectTagging",
            PutBucketTagging => "oss:PutBucketTagging",
            GetBucketTagging => "oss:GetBucketTagging",
            DeleteBucketTagging => "oss:DeleteBucketTagging",
            RestoreObject => "oss:RestoreObject",
            PostProcessTask => "oss:PostProcessTask",
            PutBucketLifecycle => "oss:PutBucketLifecycle",
            GetBucketLifecycle => "oss:GetBucketLifecycle",
            DeleteBucketLifecycle => "oss:DeleteBucketLifecycle",
            PutBucketVersioning => "oss:PutBucketVersioning",
            GetBucketVersioning => "oss:GetBucketVersioning",
            ListObjectVersions => "oss:ListObjectVersions",
            GetObjectVersion => "oss:GetObjectVersion",
            DeleteObjectVersion => "oss:DeleteObjectVersion",
            GetObjectVersionAcl => "oss:GetObjectVersionAcl",
            PutObjectVersionAcl => "oss:PutObjectVersionAcl",
            GetObjectVersionTagging => "oss:GetObjectVersionTagging",
            PutObjectVersionTagging => "oss:PutObjectVersionTagging",
            DeleteObjectVersionTagging => "oss:DeleteObjectVersionTagging",
            PutBucketLogging => "oss:PutBucketLogging",
            GetBucketLogging => "oss:GetBucketLogging",
            DeleteBucketLogging => "oss:DeleteBucketLogging",
            PutBucketEncryption => "oss:PutBucketEncryption",
            GetBucketEncryption => "oss:GetBucketEncryption",
            DeleteBucketEncryption => "oss:DeleteBucketEncryption",
            GetBucketStat => "oss:GetBucketStat",
            PutBucketStorageCapacity => "oss:PutBucketStorageCapacity",
            GetBucketStorageCapacity => "oss:GetBucketStorageCapacity",
            PutBucketResourceGroup => "oss:PutBucketResourceGroup",
            GetBucketResourceGroup => "oss:GetBucketResourceGroup",
            PutLiveChannel => "oss:PutLiveChannel",
            PutLiveChannelStatus => "oss:PutLiveChannelStatus",
            GetLiveChannel => "oss:GetLiveChannel",
            GetLiveChannelStat => "oss:GetLiveChannelStat",
            GetLiveChannelHistory => "oss:GetLiveChannelHistory",
            ListLiveChannel => "oss:ListLiveChannel",
            DeleteLiveChannel => "oss:DeleteLiveChannel",
        }
    }

    /// What a canned ACL grants: reads for `public-read`, reads and writes for
    /// `public-read-write`; never ACL or policy management.
    fn granted_by(self, acl: Acl) -> bool {
        use OssAction::*;
        let read = matches!(self, GetObject | ListObjects | GetObjectVersion | ListObjectVersions);
        let write =
            matches!(self, PutObject | DeleteObject | DeleteObjectVersion | AbortMultipartUpload | ListParts | ListMultipartUploads);
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
    /// The existing object's tags (`oss:ExistingObjectTag/<key>`).
    pub object_tags: &'a [(String, String)],
}

impl<'a> Target<'a> {
    pub fn service() -> Self {
        Target { bucket: None, bucket_name: None, key: None, object_acl: Acl::Default, condition_keys: &[], object_tags: &[] }
    }
    pub fn bucket(bucket: &'a Bucket) -> Self {
        Target { bucket: Some(bucket), bucket_name: Some(&bucket.name), ..Target::service() }
    }
    pub fn object(bucket: &'a Bucket, key: &'a str) -> Self {
        Target { key: Some(key), ..Target::bucket(bucket) }
    }
}

/// What allowed a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// The bucket owner, a RAM policy or the bucket policy: whatever the ACLs say.
    Policy,
    /// Only the canned ACL in force granted `action`; without that grant the request is refused
    /// with this `AccessDenied` (its EC and message).
    Acl { action: OssAction, ec: &'static str, message: String },
}

impl Grant {
    /// Whether the grant holds while `acl` is the ACL in force (the object's own, else the
    /// bucket's: [`Acl::over`]): `AccessDenied`, as the request would have been refused, when
    /// only an ACL allowed it and `acl` does not grant it.
    pub fn holds_under(&self, acl: Acl) -> OssResult<()> {
        match self {
            Grant::Acl { action, ec, message } if !action.granted_by(acl) => Err(OssError::access_denied_ec(ec, message.clone())),
            _ => Ok(()),
        }
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

/// Decides one request: what allowed it, or `Err(AccessDenied)` explaining the refusal.
pub fn authorize(tx: &mut dyn Tx, who: &Requester, action: OssAction, target: Target<'_>) -> OssResult<Grant> {
    // A bucket is addressed through its own region's endpoint (any address that names no region
    // reaches every bucket).
    if let (Some(bucket), Some(region)) = (target.bucket, who.facts().endpoint_region.as_deref()) {
        if bucket.region != region {
            return Err(OssError::WrongEndpoint {
                bucket: bucket.name.clone(),
                endpoint: crate::endpoints::oss_endpoint_name(&bucket.region, false),
            });
        }
    }
    let owner = match (target.bucket, who) {
        (Some(b), _) => b.owner.clone(),
        (None, Requester::Caller(c)) => c.account_id.clone(),
        (None, Requester::Anonymous(_)) => {
            return Err(OssError::access_denied("Anonymous access is forbidden for this operation."));
        }
    };
    let owner_root = matches!(who, Requester::Caller(c) if c.principal == Principal::Root && c.account_id == owner);
    if owner_root && target.bucket.and_then(|b| b.policy.as_deref()).is_none() {
        return Ok(Grant::Policy);
    }
    let resource = resource_arn(&owner, target.bucket_name, target.key);
    let mut context = match who {
        Requester::Anonymous(facts) => facts_context(facts),
        Requester::Caller(c) => request_context(c),
    };
    for (k, v) in target.condition_keys {
        context.set(*k, *v);
    }
    for (k, v) in target.object_tags {
        context.set(format!("oss:ExistingObjectTag/{k}"), v.as_str());
    }
    if let Some(bucket) = target.bucket {
        context.set("acs:RequestedRegion", bucket.region.as_str());
        for (k, v) in &bucket.tags {
            context.set(format!("oss:BucketTag/{k}"), v.as_str());
        }
    }
    let request = Request::new(action.as_str(), &resource, &context);

    let loaded = match who {
        Requester::Caller(c) if c.principal != Principal::Root => Some(IdentityPolicies::load(tx, c)?),
        _ => None,
    };
    let acl = target.object_acl.over(target.bucket.map_or(Acl::Private, |b| b.acl));
    let evidence = Evidence {
        asker: match who {
            Requester::Anonymous(_) => Asker::Anonymous,
            _ if owner_root => Asker::Owner,
            Requester::Caller(c) if c.principal == Principal::Root => Asker::Root,
            Requester::Caller(_) => Asker::Identity,
        },
        same_account: who.account_id() == Some(owner.as_str()),
        // The identity policies alone; a role session's session policy is kept apart, since it
        // bounds every path to an Allow (RAM policy, bucket policy, ACL).
        identity: loaded.as_ref().map(|p| p.identity_decision(&request)),
        session: loaded.as_ref().and_then(|p| p.session_decision(&request)),
        bucket_policy: match target.bucket.and_then(|b| b.policy.as_deref()) {
            Some(text) if owner_root => Some(BucketPolicy::parse(text)?.decide_for_owner(&request)),
            Some(text) => Some(BucketPolicy::parse(text)?.decide(who.who(), &owner, &request)),
            None => None,
        },
        acl_grants: action.granted_by(acl),
    };
    let decided = decide(&evidence);
    // Allowed by the ACL alone when nothing else would allow it.
    let grant = match &decided {
        Ok(()) if evidence.acl_grants => match decide(&Evidence { acl_grants: false, ..evidence }) {
            Ok(()) => Grant::Policy,
            Err(refusal) => Grant::Acl { action, ec: refusal.ec(), message: denial_message(&refusal, action.as_str(), &resource) },
        },
        _ => Grant::Policy,
    };
    Decided { who, account: &owner, action: action.as_str(), resource: &resource, context: &context, policies: loaded.as_ref() }
        .conclude(decided, target.bucket_name)?;
    Ok(grant)
}

/// Authorizes the use of a KMS key for an object of `bucket` (see [`super::kms`]): each action
/// of `key_use` on the key's ARN (the bucket owner's key in the bucket's region), by the
/// caller's RAM policies and its session policy alone — a key is no OSS resource, so no bucket
/// policy or ACL grants it. Any account's root may; an anonymous request may not (docs/oss.md,
/// "Authorization").
pub fn authorize_kms(tx: &mut dyn Tx, who: &Requester, bucket: &Bucket, key: &KmsKey, key_use: KeyUse) -> OssResult<()> {
    let resource = key.arn(&bucket.region, &bucket.owner);
    let caller = match who {
        Requester::Caller(c) if c.principal == Principal::Root => return Ok(()),
        Requester::Caller(c) => c,
        Requester::Anonymous(facts) => {
            let context = facts_context(facts);
            let decided = Decided {
                who,
                account: &bucket.owner,
                action: key_use.actions()[0],
                resource: &resource,
                context: &context,
                policies: None,
            };
            return decided.conclude(Err(Refusal::AnonymousKeyUse), None);
        }
    };
    let policies = IdentityPolicies::load(tx, caller)?;
    let mut context = request_context(caller);
    context.set("acs:RequestedRegion", bucket.region.as_str());
    for action in key_use.actions() {
        let request = Request::new(action, &resource, &context);
        // The caller's own RAM decision, as for a same-account request without a bucket policy.
        let evidence = Evidence {
            asker: Asker::Identity,
            same_account: true,
            identity: Some(policies.identity_decision(&request)),
            session: policies.session_decision(&request),
            bucket_policy: None,
            acl_grants: false,
        };
        let decided = Decided { who, account: &bucket.owner, action, resource: &resource, context: &context, policies: Some(&policies) };
        decided.conclude(decide(&evidence), None)?;
    }
    Ok(())
}

/// One decided request, for counting it and explaining a refusal.
struct Decided<'a> {
    who: &'a Requester,
    /// The account of the resource (a refusal of an anonymous request is reported in it).
    account: &'a str,
    action: &'a str,
    resource: &'a str,
    context: &'a Context,
    /// The caller's identity policies, when it has them.
    policies: Option<&'a IdentityPolicies>,
}

impl Decided<'_> {
    /// Counts the decision; a refusal becomes OSS's `AccessDenied`, whose message names the
    /// reason, the action and the resource, with the verdict that explains it (`bucket_name`:
    /// the bucket whose policy a bucket-policy refusal quotes).
    fn conclude(self, decided: Result<(), Refusal>, bucket_name: Option<&str>) -> OssResult<()> {
        crate::authz::count_decision(match &decided {
            Ok(()) => rolestack_policy::Outcome::Allow,
            Err(r) if r.is_explicit() => rolestack_policy::Outcome::ExplicitDeny,
            Err(_) => rolestack_policy::Outcome::ImplicitDeny,
        });
        let Decided { who, account, action, resource, context, policies } = self;
        decided.map_err(|refusal| {
            let principal = match who {
                Requester::Anonymous(_) => PrincipalView::anonymous(),
                Requester::Caller(c) => PrincipalView::of(c),
            };
            let (kind, matched) = match &refusal {
                Refusal::IdentityDeny(d) | Refusal::BothDeny(d) => {
                    (PolicyKind::AccountLevelIdentityBasedPolicy, policies.map_or_else(Vec::new, |p| p.identity_matches(d)))
                }
                Refusal::SessionDeny(d) | Refusal::OutsideSessionPolicy(d) => {
                    (PolicyKind::SessionPolicy, policies.map_or_else(Vec::new, |p| p.session_matches(d)))
                }
                Refusal::BucketPolicyDeny(d) => {
                    let source = PolicySource::inline(PolicyKind::BucketPolicy, &format!("bucket policy of {}", bucket_name.unwrap_or("")));
                    (PolicyKind::BucketPolicy, matched_policies(d, &[&source]))
                }
                Refusal::Anonymous | Refusal::OtherAccount => (PolicyKind::BucketPolicy, Vec::new()),
                Refusal::Implicit(_) | Refusal::AnonymousKeyUse => (PolicyKind::AccountLevelIdentityBasedPolicy, Vec::new()),
            };
            let verdict = Verdict {
                account: who.account_id().unwrap_or(account).to_string(),
                principal,
                action: action.to_string(),
                resource: resource.to_string(),
                outcome: if refusal.is_explicit() { "ExplicitDeny" } else { "ImplicitDeny" }.into(),
                policy_kind: kind,
                matched,
                conditions: conditions_of(context),
            };
            OssError::AccessDenied {
                message: denial_message(&refusal, action, resource),
                ec: refusal.ec(),
                verdict: Some(Box::new(verdict)),
            }
        })
    }
}

/// The message of an `AccessDenied`: the reason, the action and the resource.
fn denial_message(refusal: &Refusal, action: &str, resource: &str) -> String {
    format!("You have no right to access this resource: {refusal}. Action: {action}, Resource: {resource}.")
}

/// Who asks, as far as the decision cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    Anonymous,
    /// The bucket owner's root: everything is allowed but what a bucket-policy Deny for everyone
    /// with a condition refuses ([`BucketPolicy::decide_for_owner`]).
    Owner,
    /// An account's root (not the bucket owner's).
    Root,
    /// A RAM user or a role session.
    Identity,
}

/// Everything an OSS decision depends on, gathered by [`authorize`]; [`decide`] is pure.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub asker: Asker,
    /// The asker belongs to the bucket owner's account.
    pub same_account: bool,
    /// The asker's identity policies (RAM users and role sessions).
    pub identity: Option<Decision>,
    /// A role session's session policy, when it has one.
    pub session: Option<Decision>,
    /// The bucket policy's statements that name the asker, when the bucket has a policy.
    pub bucket_policy: Option<Decision>,
    /// The bucket's or object's canned ACL grants the action.
    pub acl_grants: bool,
}

/// Why OSS refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A Deny statement in the asker's RAM policies.
    IdentityDeny(Decision),
    /// A Deny statement in the session policy of the asker's STS token.
    SessionDeny(Decision),
    /// A Deny statement of the bucket policy naming the asker.
    BucketPolicyDeny(Decision),
    /// Deny statements in both the asker's RAM policies (this decision) and the bucket policy.
    BothDeny(Decision),
    /// Something allowed it, but the session policy does not.
    OutsideSessionPolicy(Decision),
    /// Nothing allows an anonymous request.
    Anonymous,
    /// An anonymous request would use a KMS key: there is no one to authorize it for.
    AnonymousKeyUse,
    /// The bucket is another account's and its policy does not grant this.
    OtherAccount,
    /// No policy or ACL allows it (the identity decision, when there is one).
    Implicit(Option<Decision>),
}

impl Refusal {
    pub fn is_explicit(&self) -> bool {
        matches!(self, Refusal::IdentityDeny(_) | Refusal::SessionDeny(_) | Refusal::BucketPolicyDeny(_) | Refusal::BothDeny(_))
    }

    /// OSS's `EC` for the cause (docs/oss.md, "Refusals"): one per documented case.
    pub fn ec(&self) -> &'static str {
        match self {
            Refusal::IdentityDeny(_) => "0003-00000201",
            Refusal::BothDeny(_) => "0003-00000203",
            Refusal::BucketPolicyDeny(_) => "0003-00000101",
            Refusal::Implicit(_) | Refusal::OtherAccount => "0003-00000202",
            Refusal::Anonymous | Refusal::AnonymousKeyUse => "0003-00000002",
            // "Access denied by authorizer's policy": OSS documents the message, not a distinct EC.
            Refusal::SessionDeny(_) | Refusal::OutsideSessionPolicy(_) => super::error::EC_ACCESS_DENIED,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::IdentityDeny(d) => write!(f, "RAM policy {d}"),
            Refusal::SessionDeny(d) => write!(f, "the session policy of this STS token: {d}"),
            Refusal::BucketPolicyDeny(d) => write!(f, "bucket policy {d}"),
            Refusal::BothDeny(d) => write!(f, "RAM policy {d}, and a statement of the bucket policy denies it too"),
            Refusal::OutsideSessionPolicy(d) => write!(f, "the session policy of this STS token does not allow it ({d})"),
            Refusal::Anonymous => f.write_str("anonymous access is not allowed by the bucket policy or ACL"),
            Refusal::AnonymousKeyUse => f.write_str("an anonymous request cannot use a KMS key"),
            Refusal::OtherAccount => f.write_str("the bucket belongs to another account and its bucket policy does not grant this"),
            Refusal::Implicit(Some(d)) => write!(f, "RAM policy {d}, and no bucket policy or ACL grants it"),
            Refusal::Implicit(None) => f.write_str("no policy grants it"),
        }
    }
}

/// OSS's decision over the evidence: any explicit Deny wins; then a grant is needed (RAM policy
/// in the owner's account, bucket policy, ACL; across accounts the bucket policy and the asker's
/// own RAM Allow); and a role session never exceeds its session policy, whatever granted it.
pub fn decide(e: &Evidence) -> Result<(), Refusal> {
    if e.asker == Asker::Owner {
        return match e.bucket_policy.as_ref().filter(|d| d.is_explicit_deny()) {
            Some(d) => Err(Refusal::BucketPolicyDeny(d.clone())),
            None => Ok(()),
        };
    }
    if let Some(d) = e.identity.as_ref().filter(|d| d.is_explicit_deny()) {
        return Err(match e.bucket_policy.as_ref().filter(|b| b.is_explicit_deny()) {
            Some(_) => Refusal::BothDeny(d.clone()),
            None => Refusal::IdentityDeny(d.clone()),
        });
    }
    if let Some(d) = e.session.as_ref().filter(|d| d.is_explicit_deny()) {
        return Err(Refusal::SessionDeny(d.clone()));
    }
    if let Some(d) = e.bucket_policy.as_ref().filter(|d| d.is_explicit_deny()) {
        return Err(Refusal::BucketPolicyDeny(d.clone()));
    }
    let policy_allows = e.bucket_policy.as_ref().is_some_and(Decision::is_allowed);
    let identity_allows = e.identity.as_ref().is_some_and(Decision::is_allowed);
    let granted = e.acl_grants
        || match e.asker {
            Asker::Anonymous => policy_allows,
            Asker::Owner => true,
            _ if e.same_account => identity_allows || policy_allows,
            Asker::Root => policy_allows,
            Asker::Identity => policy_allows && identity_allows,
        };
    if granted {
        return match &e.session {
            Some(d) if !d.is_allowed() => Err(Refusal::OutsideSessionPolicy(d.clone())),
            _ => Ok(()),
        };
    }
    Err(match e.asker {
        Asker::Anonymous => Refusal::Anonymous,
        _ if !e.same_account && !policy_allows => Refusal::OtherAccount,
        _ => Refusal::Implicit(e.identity.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rolestack_policy::Outcome;

    fn d(outcome: Outcome) -> Option<Decision> {
        Some(Decision { outcome, decided_by: None, policies_evaluated: 1 })
    }
    const ALLOW: Outcome = Outcome::Allow;
    const DENY: Outcome = Outcome::ExplicitDeny;
    const NONE: Outcome = Outcome::ImplicitDeny;

    fn session(identity: Option<Decision>, session: Option<Decision>, bucket_policy: Option<Decision>) -> Evidence {
        Evidence { asker: Asker::Identity, same_account: true, identity, session, bucket_policy, acl_grants: false }
    }

    #[test]
    fn the_owner_is_refused_only_by_a_bucket_policy_deny() {
        let owner = |bucket_policy| Evidence { asker: Asker::Owner, ..session(None, None, bucket_policy) };
        assert!(decide(&owner(None)).is_ok());
        assert!(decide(&owner(d(NONE))).is_ok(), "the owner needs no grant");
        assert!(matches!(decide(&owner(d(DENY))), Err(Refusal::BucketPolicyDeny(_))));
    }

    #[test]
    fn any_explicit_deny_wins() {
        assert!(matches!(decide(&session(d(DENY), d(ALLOW), d(ALLOW))), Err(Refusal::IdentityDeny(_))));
        assert!(matches!(decide(&session(d(ALLOW), d(DENY), d(ALLOW))), Err(Refusal::SessionDeny(_))));
        assert!(matches!(decide(&session(d(ALLOW), None, d(DENY))), Err(Refusal::BucketPolicyDeny(_))));
        let acl = Evidence { acl_grants: true, ..session(d(NONE), None, d(DENY)) };
        assert!(matches!(decide(&acl), Err(Refusal::BucketPolicyDeny(_))), "an ACL grant does not beat a Deny");
    }

    #[test]
    fn a_session_policy_bounds_every_grant() {
        // RAM Allow, bucket-policy Allow and ACL grant each need the session policy too.
        for evidence in [
            session(d(ALLOW), d(NONE), None),
            session(d(NONE), d(NONE), d(ALLOW)),
            Evidence { acl_grants: true, ..session(d(NONE), d(NONE), None) },
        ] {
            assert!(matches!(decide(&evidence), Err(Refusal::OutsideSessionPolicy(_))), "{evidence:?}");
        }
        assert_eq!(decide(&session(d(NONE), d(ALLOW), d(ALLOW))), Ok(()));
        assert_eq!(decide(&session(d(ALLOW), d(ALLOW), None)), Ok(()));
        // The session policy alone grants nothing.
        assert!(matches!(decide(&session(d(NONE), d(ALLOW), None)), Err(Refusal::Implicit(_))));
    }

    #[test]
    fn an_acl_grant_holds_while_the_acl_in_force_grants() {
        let grant = Grant::Acl { action: OssAction::PutObject, ec: "0003-00000002", message: "no".into() };
        // The object's own ACL, unless `default`, decides over the bucket's.
        assert!(grant.holds_under(Acl::Default.over(Acl::PublicReadWrite)).is_ok());
        assert!(grant.holds_under(Acl::Private.over(Acl::PublicReadWrite)).is_err());
        assert!(grant.holds_under(Acl::PublicRead.over(Acl::PublicReadWrite)).is_err());
        assert!(grant.holds_under(Acl::PublicReadWrite.over(Acl::Private)).is_ok());
        assert!(matches!(grant.holds_under(Acl::Private), Err(OssError::AccessDenied { ec: "0003-00000002", .. })));
        assert!(Grant::Policy.holds_under(Acl::Private).is_ok(), "a policy grant does not depend on an ACL");
    }

    #[test]
    fn grants_by_asker() {
        let anon = |bp, acl| Evidence {
            asker: Asker::Anonymous,
            same_account: false,
            identity: None,
            session: None,
            bucket_policy: bp,
            acl_grants: acl,
        };
        assert_eq!(decide(&anon(d(ALLOW), false)), Ok(()));
        assert_eq!(decide(&anon(None, true)), Ok(()));
        assert_eq!(decide(&anon(d(NONE), false)), Err(Refusal::Anonymous));
        // Another account: its identity needs both its own Allow and the bucket policy's.
        let other = |id, bp| Evidence {
            asker: Asker::Identity,
            same_account: false,
            identity: id,
            session: None,
            bucket_policy: bp,
            acl_grants: false,
        };
        assert_eq!(decide(&other(d(ALLOW), d(ALLOW))), Ok(()));
        assert_eq!(decide(&other(d(ALLOW), None)), Err(Refusal::OtherAccount));
        assert!(matches!(decide(&other(d(NONE), d(ALLOW))), Err(Refusal::Implicit(_))));
        // Another account's root needs only the bucket policy.
        let root =
            |bp| Evidence { asker: Asker::Root, same_account: false, identity: None, session: None, bucket_policy: bp, acl_grants: false };
        assert_eq!(decide(&root(d(ALLOW))), Ok(()));
        assert_eq!(decide(&root(None)), Err(Refusal::OtherAccount));
        // Same account: either the RAM policy or the bucket policy.
        assert_eq!(decide(&session(d(ALLOW), None, None)), Ok(()));
        assert_eq!(decide(&session(d(NONE), None, d(ALLOW))), Ok(()));
        assert!(matches!(decide(&session(d(NONE), None, d(NONE))), Err(Refusal::Implicit(Some(_)))));
    }
}
