//! The persistence boundary. A [`Store`] hands out transactions ([`Tx`]); everything a handler reads
//! and writes for one API call happens in one transaction, so RAM's invariants (no deleting a role
//! that still has policies, at most five policy versions, ...) hold under concurrency.
//!
//! The trait is deliberately small: named records (JSON documents) per kind and account scope, and
//! relations between names (attachments, group membership, a user's keys). Typed access goes through
//! the inherent methods on `dyn Tx` below, so back-ends implement only the untyped primitives.

use crate::audit::{EventQuery, EventRow};
use crate::model::Record;
use crate::{Error, Result};

/// The kinds of named records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Account,
    AccessKey,
    User,
    Group,
    Role,
    Policy,
    PolicyVersion,
    Vpc,
    VSwitch,
    Instance,
    /// The current metadata-service credentials of an instance (its role session), by instance id.
    InstanceSession,
    SecurityGroup,
    /// The tags of an ECS resource, by `<ResourceType>/<ResourceId>`.
    ResourceTags,
    /// A virtual MFA device, by device name (`crate::ram::mfa`).
    VirtualMfaDevice,
    /// An account's password policy and security preference, one record per account.
    AccountSecurity,
    /// An OIDC / SAML identity provider, by name (`crate::ims`).
    OidcProvider,
    SamlProvider,
    /// The signing key of rolestack's local OIDC issuer (global, one record).
    OidcIssuerKey,
    /// Server-wide settings every node of a shared store agrees on (global, by name): the server
    /// key's check value, the fake clock's offset (`crate::cluster`).
    Setting,
    /// A rolestack node serving a shared store, by `--node-name` (global; `crate::cluster`).
    Node,
    /// A web console session on a shared store, by its id (global; the server's console).
    ConsoleSession,
    /// Recent failed console sign-ins of one logon name, lower-case (global).
    SignInFailures,
    /// An OSS LiveChannel, by the hex of its channel name, scoped by its bucket
    /// (`crate::oss::live_channel`).
    LiveChannel,
    /// The key OSS upload callbacks are signed with (global, one record; `crate::oss::callback_key`).
    OssCallbackKey,
    /// An ECS `ClientToken` already used, by `<Action>/<caller ARN>/<token>` (`crate::ecs::client_token`).
    ClientToken,
    /// An ECS SSH key pair, by `<RegionId>/<KeyPairName>` (`crate::ecs::key_pairs`).
    KeyPair,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Account => "account",
            Kind::AccessKey => "access_key",
            Kind::User => "user",
            Kind::Group => "group",
            Kind::Role => "role",
            Kind::Policy => "policy",
            Kind::PolicyVersion => "policy_version",
            Kind::Vpc => "vpc",
            Kind::VSwitch => "vswitch",
            Kind::Instance => "instance",
            Kind::InstanceSession => "instance_session",
            Kind::SecurityGroup => "security_group",
            Kind::ResourceTags => "resource_tags",
            Kind::VirtualMfaDevice => "virtual_mfa_device",
            Kind::AccountSecurity => "account_security",
            Kind::OidcProvider => "oidc_provider",
            Kind::SamlProvider => "saml_provider",
            Kind::OidcIssuerKey => "oidc_issuer_key",
            Kind::Setting => "setting",
            Kind::Node => "node",
            Kind::ConsoleSession => "console_session",
            Kind::SignInFailures => "sign_in_failures",
            Kind::LiveChannel => "oss_live_channel",
            Kind::OssCallbackKey => "oss_callback_key",
            Kind::ClientToken => "ecs_client_token",
            Kind::KeyPair => "ecs_key_pair",
        }
    }
}

/// Relations between two names inside an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// left = principal (`role/<n>`, `user/<n>`, `group/<n>`), right = policy (`System/<n>`, `Custom/<n>`).
    Attachment,
    /// left = user name, right = group name.
    Membership,
    /// left = user name, right = AccessKey id.
    UserKey,
    /// left = user name, right = the name of the virtual MFA device bound to it.
    UserMfa,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Attachment => "attachment",
            Relation::Membership => "membership",
            Relation::UserKey => "user_key",
            Relation::UserMfa => "user_mfa",
        }
    }
}

/// One end-to-end relation row. `created` is RAM's date of the link (e.g. `AttachDate`).
/// A bucket's contents as counted by [`Tx::oss_bucket_usage`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OssBucketUsage {
    /// `(storage class, objects, bytes)`, one row per class that has objects, in class order.
    pub classes: Vec<(String, u64, u64)>,
    pub uploads: u64,
    pub parts: u64,
    /// Delete markers among the stored versions.
    pub delete_markers: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub left: String,
    pub right: String,
    pub created: String,
}

/// A SQL `LIKE` pattern matching names that start with `prefix`, with `%`, `_` and `\` escaped
/// (use with `ESCAPE '\'`): the prefix listing of [`Tx::list`] for SQL back-ends.
pub fn like_prefix(prefix: &str) -> String {
    let mut s = like_escape(prefix);
    s.push('%');
    s
}

/// `text` with `%`, `_` and `\` escaped for a SQL `LIKE ... ESCAPE '\'`.
pub fn like_escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// An injected metadata-service fault as stored (`crate::fault`): what it does is `spec`, the
/// JSON of a [`crate::fault::FaultKind`] with its path; when it ends is in the columns, so one
/// statement can take a use of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRow {
    pub account: String,
    pub instance_id: String,
    pub id: String,
    /// Unix milliseconds (server clock).
    pub created_ms: i64,
    /// Ends at this instant (Unix milliseconds), if set.
    pub until_ms: Option<i64>,
    /// Uses left, if counted.
    pub remaining: Option<i64>,
    pub spec: String,
}

/// One entry of an instance's event list (`rolestack instance events`): what was injected into
/// its metadata service, when, and by which API action; `data` is JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceEventRow {
    pub account: String,
    pub instance_id: String,
    /// Unix milliseconds (server clock).
    pub time_ms: i64,
    pub id: String,
    pub data: String,
}

/// Scope for records that are global rather than per account (AccessKeys are looked up by id alone).
pub const GLOBAL: &str = "";

/// A transaction. Dropping it without [`Tx::commit`] rolls back. Name comparisons ignore ASCII case.
pub trait Tx {
    fn get(&mut self, kind: Kind, scope: &str, name: &str) -> Result<Option<String>>;
    /// Inserts; `Ok(false)` when a record of that kind and name exists already.
    fn insert(&mut self, kind: Kind, scope: &str, name: &str, data: &str) -> Result<bool>;
    /// Replaces; `Ok(false)` when there is no such record.
    fn update(&mut self, kind: Kind, scope: &str, name: &str, data: &str) -> Result<bool>;
    fn delete(&mut self, kind: Kind, scope: &str, name: &str) -> Result<bool>;
    /// Records whose name starts with `prefix` (case-insensitively), in name order, after `after`.
    fn list(&mut self, kind: Kind, scope: &str, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<String>>;
    fn count(&mut self, kind: Kind, scope: &str, prefix: &str) -> Result<usize>;
    /// Adds a link; `Ok(false)` when it exists already.
    fn link(&mut self, rel: Relation, scope: &str, left: &str, right: &str, created: &str) -> Result<bool>;
    fn unlink(&mut self, rel: Relation, scope: &str, left: &str, right: &str) -> Result<bool>;
    fn links_from(&mut self, rel: Relation, scope: &str, left: &str) -> Result<Vec<Link>>;
    fn links_to(&mut self, rel: Relation, scope: &str, right: &str) -> Result<Vec<Link>>;
    /// Records a request nonce for an AccessKey until `expires` (unix seconds); `Ok(false)` if it was
    /// already used and has not expired. Expired nonces are purged as a side effect.
    fn use_nonce(&mut self, access_key_id: &str, nonce: &str, now: i64, expires: i64) -> Result<bool>;
    /// The nonces that have not expired at `now`: `(access_key_id, nonce, expires)`.
    fn nonces_live(&mut self, now: i64) -> Result<Vec<(String, String, i64)>>;
    fn commit(self: Box<Self>) -> Result<()>;

    // ActionTrail events ------------------------------------------------------------------
    // (`crate::audit`): appended in batches, looked up by account, time window and one
    // attribute, pruned by age and count.

    /// Appends events.
    fn events_append(&mut self, rows: &[EventRow]) -> Result<()>;
    /// The stored events matching `q`, in `q`'s order, at most `q.limit`.
    fn events_query(&mut self, q: &EventQuery) -> Result<Vec<EventRow>>;
    /// Deletes events older than `before_ms`, then the oldest beyond `keep` events.
    fn events_prune(&mut self, before_ms: i64, keep: u64) -> Result<u64>;

    // Metadata faults and instance events -----------------------------------------------------
    // (`crate::fault`): shared through the store so every server of a shared store applies the
    // same faults and counts their uses together. Fault changes move the store's version.

    /// Adds a fault.
    fn faults_insert(&mut self, row: &FaultRow) -> Result<()>;
    /// The instance's faults, oldest first (ended ones too, until pruned).
    fn faults_list(&mut self, account: &str, instance_id: &str) -> Result<Vec<FaultRow>>;
    /// Deletes the instance's faults: all of them, or (with `ended_at`) those ended by then
    /// (`until_ms <= ended_at` or no uses left). Returns how many.
    fn faults_delete(&mut self, account: &str, instance_id: &str, ended_at: Option<i64>) -> Result<u64>;
    /// Takes one use of a counted fault: `Ok(true)` when it had one left, `Ok(false)` when none
    /// was left (or it is not counted, or gone).
    fn fault_take(&mut self, account: &str, instance_id: &str, id: &str) -> Result<bool>;
    /// Appends to the instance's event list.
    fn instance_events_append(&mut self, row: &InstanceEventRow) -> Result<()>;
    /// The instance's events, newest first, at most `limit`.
    fn instance_events_list(&mut self, account: &str, instance_id: &str, limit: usize) -> Result<Vec<InstanceEventRow>>;
    /// Deletes the instance's events (the instance was deleted).
    fn instance_events_delete(&mut self, account: &str, instance_id: &str) -> Result<u64>;

    // OSS ---------------------------------------------------------------------------------
    // Buckets, objects, multipart uploads and parts (JSON records of `crate::oss::model`).
    // Unlike RAM names, bucket names and object keys are case-sensitive and ordered byte-wise
    // (UTF-8), which is the order of every OSS listing.

    /// A bucket by its globally unique name.
    fn oss_bucket_get(&mut self, name: &str) -> Result<Option<String>>;
    /// Inserts a bucket; `Ok(false)` when the name is taken.
    fn oss_bucket_insert(&mut self, name: &str, owner: &str, data: &str) -> Result<bool>;
    fn oss_bucket_update(&mut self, name: &str, data: &str) -> Result<bool>;
    fn oss_bucket_delete(&mut self, name: &str) -> Result<bool>;
    /// Buckets of `owner` whose name starts with `prefix` and sorts after `after`, in name order.
    fn oss_bucket_list(&mut self, owner: &str, prefix: &str, after: &str, limit: usize) -> Result<Vec<String>>;
    /// Every bucket of every owner whose name sorts after `after`, in name order: records
    /// (lifecycle rules run over all buckets).
    fn oss_buckets_scan(&mut self, after: &str, limit: usize) -> Result<Vec<String>>;
    fn oss_object_get(&mut self, bucket: &str, key: &str) -> Result<Option<String>>;
    /// Inserts or replaces an object; returns the record it replaced.
    fn oss_object_put(&mut self, bucket: &str, key: &str, data: &str) -> Result<Option<String>>;
    /// Deletes an object; returns its record.
    fn oss_object_delete(&mut self, bucket: &str, key: &str) -> Result<Option<String>>;
    /// Objects whose key starts with `prefix` and is byte-wise greater than `after`, in key order:
    /// `(key, record)` pairs. `after` may end with a `0xFF` byte to skip a whole key prefix.
    fn oss_object_list(&mut self, bucket: &str, prefix: &str, after: &[u8], limit: usize) -> Result<Vec<(String, String)>>;
    fn oss_upload_get(&mut self, bucket: &str, upload_id: &str) -> Result<Option<String>>;
    fn oss_upload_insert(&mut self, bucket: &str, key: &str, upload_id: &str, data: &str) -> Result<()>;
    fn oss_upload_delete(&mut self, bucket: &str, upload_id: &str) -> Result<bool>;
    /// Uploads whose key starts with `prefix`, after `(key_marker, upload_id_marker)` in
    /// (key, upload id) order: records.
    fn oss_upload_list(
        &mut self,
        bucket: &str,
        prefix: &str,
        key_marker: &str,
        upload_id_marker: &str,
        limit: usize,
    ) -> Result<Vec<String>>;
    /// Stores a part; returns the record it replaced (same upload and number).
    fn oss_part_put(&mut self, upload_id: &str, number: u32, data: &str) -> Result<Option<String>>;
    /// Parts of an upload numbered above `after`, in number order.
    fn oss_part_list(&mut self, upload_id: &str, after: u32, limit: usize) -> Result<Vec<String>>;
    /// Deletes every part of an upload; returns their records.
    fn oss_parts_delete(&mut self, upload_id: &str) -> Result<Vec<String>>;
    /// Every object of every bucket after `(bucket, key)`, in (bucket, key) byte order:
    /// `(bucket, key, record)` (orphan collection pages through all stored bodies).
    fn oss_objects_scan(&mut self, after: Option<(&str, &str)>, limit: usize) -> Result<Vec<(String, String, String)>>;
    /// Every part of every upload after `(upload_id, number)`, in that order: `(upload_id, number, record)`.
    fn oss_parts_scan(&mut self, after: Option<(&str, u32)>, limit: usize) -> Result<Vec<(String, u32, String)>>;

    // OSS versions (`crate::oss::versioning`): the noncurrent versions and delete markers of
    // versioned buckets. The current version of a key stays in the objects above; a version is
    // stored under `ord`, a string that sorts the versions of one key newest first.

    /// Stores a noncurrent version or delete marker.
    fn oss_version_put(&mut self, bucket: &str, key: &str, ord: &str, version_id: &str, data: &str) -> Result<()>;
    /// A stored version by its id: `(ord, record)`.
    fn oss_version_get(&mut self, bucket: &str, key: &str, version_id: &str) -> Result<Option<(String, String)>>;
    /// Deletes a stored version; returns its record.
    fn oss_version_delete(&mut self, bucket: &str, key: &str, ord: &str) -> Result<Option<String>>;
    /// The newest stored version of a key: `(ord, record)`.
    fn oss_version_latest(&mut self, bucket: &str, key: &str) -> Result<Option<(String, String)>>;
    /// Every version of the keys starting with `prefix` — the current one (from the objects,
    /// with the empty `ord`) first, then the stored ones newest first — after
    /// `(after_key, after_ord)` in (key, ord) order: `(key, ord, record)`. `after_ord` `None`
    /// skips the whole of `after_key` (which may end with `0xFF` to skip a key prefix).
    fn oss_version_list(
        &mut self,
        bucket: &str,
        prefix: &str,
        after_key: &[u8],
        after_ord: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, String, String)>>;
    /// Every stored version of every bucket after `(bucket, key, ord)`, in that order:
    /// `(bucket, key, ord, record)` (orphan collection, lifecycle).
    fn oss_versions_scan(&mut self, after: Option<(&str, &str, &str)>, limit: usize) -> Result<Vec<(String, String, String, String)>>;
    /// What a bucket holds, counted by the database (GetBucketStat): objects — current and
    /// noncurrent versions, delete markers apart — per storage class (the record's
    /// `storage_class`, its `size` summed), delete markers, and the bucket's multipart uploads
    /// and their parts.
    fn oss_bucket_usage(&mut self, bucket: &str) -> Result<OssBucketUsage>;
}

/// A database of rolestack state.
pub trait Store: Send + Sync {
    /// A read-write transaction (one writer at a time).
    fn begin(&self) -> Result<Box<dyn Tx + '_>>;
    /// A transaction that only reads: it never waits for writers (a consistent snapshot), and a
    /// write through it fails. Stores without separate readers give a read-write one.
    fn begin_read(&self) -> Result<Box<dyn Tx + '_>> {
        self.begin()
    }
    /// Whether other servers write this store too (a shared PostgreSQL): then nothing read from
    /// it may be trusted from memory, and request nonces are checked in the store itself.
    fn shared(&self) -> bool {
        false
    }
    /// A number that changes whenever a committed transaction changed records, links or OSS
    /// buckets (not nonces, events, or OSS objects, versions and uploads): what was read from them at one version may be reused while the
    /// version stays the same (`crate::cache`). `None`: nothing may be reused (a store other
    /// servers write, or one that does not count).
    fn version(&self) -> Option<u64> {
        None
    }
    /// Spends a request nonce in a transaction of its own, visible to every server of the store
    /// when this returns (`Ok(false)`: already spent and unexpired). Stores may make it durable
    /// lazily, and cover what a crash of theirs could lose with [`Store::restart_epoch`].
    fn spend_nonce(&self, access_key_id: &str, nonce: &str, now: i64, expires: i64) -> Result<bool> {
        retry(|| {
            let mut tx = self.begin()?;
            let fresh = tx.use_nonce(access_key_id, nonce, now, expires)?;
            tx.commit()?;
            Ok(fresh)
        })
    }
    /// Requests signed before this instant (Unix seconds) must be refused: the start of a store
    /// server that may have lost the nonces [`Store::spend_nonce`] wrote just before it stopped,
    /// rounded up to a whole second (timestamps are whole seconds). Spending a nonce (here or with
    /// [`Tx::use_nonce`]) brings it up to date, so callers check it again after the spend: a
    /// restart since their last look may have lost the very nonce they just spent.
    fn restart_epoch(&self) -> i64 {
        0
    }
    /// Gives back the memory the store keeps only to go faster (page caches of idle connections);
    /// called when the server has been idle for a while after a burst. Nothing is lost: what
    /// was cached is read again when needed.
    fn release_memory(&self) {}
}

/// An error that may say "the store gave this transaction up for a concurrent one".
pub trait Retry {
    fn is_conflict(&self) -> bool;
}

impl Retry for Error {
    fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict(_))
    }
}

/// How long [`retry`] keeps running a transaction that conflicts before it reports the conflict.
pub const RETRY_FOR: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs `attempt` (one whole transaction: begin, work, commit) again while it fails with a
/// conflict ([`Error::Conflict`]), after a short random pause that grows with each try (up to
/// 64 ms), for at most [`RETRY_FOR`]. Stores with one writer never conflict; a shared PostgreSQL
/// does when concurrent transactions could not have run in some serial order.
pub fn retry<T, E: Retry>(mut attempt: impl FnMut() -> std::result::Result<T, E>) -> std::result::Result<T, E> {
    let started = std::time::Instant::now();
    let mut tries: u32 = 0;
    loop {
        match attempt() {
            Err(e) if e.is_conflict() && started.elapsed() < RETRY_FOR => {
                tries += 1;
                let ceiling = 1u64 << tries.min(7);
                let pause = rand::Rng::gen_range(&mut rand::thread_rng(), 0..=ceiling * 500);
                metrics::counter!("rolestack_store_conflicts_total").increment(1);
                std::thread::sleep(std::time::Duration::from_micros(pause));
            }
            other => return other,
        }
    }
}

fn decode<T: Record>(data: String) -> Result<T> {
    serde_json::from_str(&data).map_err(|e| Error::Store(format!("corrupt {} record: {e}", T::KIND.as_str())))
}

fn encode<T: Record>(rec: &T) -> Result<String> {
    serde_json::to_string(rec).map_err(|e| Error::Store(e.to_string()))
}

/// Typed access on top of the untyped primitives.
impl dyn Tx + '_ {
    pub fn get_rec<T: Record>(&mut self, scope: &str, name: &str) -> Result<Option<T>> {
        self.get(T::KIND, scope, name)?.map(decode).transpose()
    }
    pub fn insert_rec<T: Record>(&mut self, scope: &str, key: &str, rec: &T) -> Result<bool> {
        let data = encode(rec)?;
        self.insert(T::KIND, scope, key, &data)
    }
    pub fn update_rec<T: Record>(&mut self, scope: &str, key: &str, rec: &T) -> Result<bool> {
        let data = encode(rec)?;
        self.update(T::KIND, scope, key, &data)
    }
    pub fn list_rec<T: Record>(&mut self, scope: &str, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<T>> {
        self.list(T::KIND, scope, prefix, after, limit)?.into_iter().map(decode).collect()
    }
}
