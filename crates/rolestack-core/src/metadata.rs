//! The credentials the instance metadata service hands out: for an instance with a RAM role, a role
//! session named `vm-ram-<instance-id>`, valid for six hours, replaced by a new one thirty minutes
//! before it expires (the old one stays valid until its own expiry, as on real ECS). The current
//! session is stored per instance so every read in a rotation window returns the same set, across
//! restarts. Detaching the role deletes the stored session: no new credentials are issued, while
//! already issued ones keep working until they expire (revoke the role's sessions to end them).

use time::{Duration, OffsetDateTime};

use crate::model::{Instance, InstanceSession, Role};
use crate::seal::ServerKey;
use crate::store::{Kind, Tx};
use crate::sts::{self, Credentials, SealedToken};
use crate::Result;

/// How long one set of instance credentials is valid.
pub const SESSION_LIFETIME: Duration = Duration::hours(6);
/// How long before expiry a new set is issued.
pub const ROTATE_BEFORE_EXPIRY: Duration = Duration::minutes(30);

/// Credentials as the metadata document reports them.
#[derive(Debug, Clone)]
pub struct InstanceCredentials {
    pub role_name: String,
    pub credentials: Credentials,
    pub last_updated: OffsetDateTime,
    /// This call issued the set (first read, or a rotation): worth an ActionTrail event.
    pub issued_now: bool,
}

/// The instance's role session, issuing or rotating it as needed. `None` when the instance has no
/// role (or its role was deleted).
pub fn instance_credentials(
    tx: &mut dyn Tx,
    key: &ServerKey,
    account: &str,
    instance: &Instance,
    now: OffsetDateTime,
) -> Result<Option<InstanceCredentials>> {
    let Some(role_name) = &instance.ram_role_name else { return Ok(None) };
    let Some(role) = tx.get_rec::<Role>(account, role_name)? else { return Ok(None) };
    let existing = tx.get_rec::<InstanceSession>(account, &instance.id)?;
    let kind = if existing.is_some() { "rotated" } else { "issued" };
    if let Some(current) = existing {
        let fresh = current.role_name.eq_ignore_ascii_case(&role.name)
            && now.unix_timestamp() < current.expires - ROTATE_BEFORE_EXPIRY.whole_seconds();
        if fresh {
            if let Ok(token) = SealedToken::open(key, &current.token) {
                if token.role_id == role.id && !sts::revoked(&role, &token) {
                    return Ok(Some(render(&role, &token, key, false)));
                }
            }
        }
    }
    let token = sts::mint(account, &role, &session_name(&instance.id), instance.ram_role_policy.clone(), now, SESSION_LIFETIME);
    let session = InstanceSession {
        instance_id: instance.id.clone(),
        role_name: role.name.clone(),
        token: token.seal(key),
        issued: token.issued,
        expires: token.expires,
    };
    if !tx.update_rec(account, &instance.id, &session)? {
        tx.insert_rec(account, &instance.id, &session)?;
    }
    metrics::counter!("rolestack_metadata_credentials_total", "kind" => kind).increment(1);
    Ok(Some(render(&role, &token, key, true)))
}

/// Forgets an instance's current session (on detach / delete), so no new credentials are served.
pub fn forget_session(tx: &mut dyn Tx, account: &str, instance_id: &str) -> Result<()> {
    tx.delete(Kind::InstanceSession, account, instance_id)?;
    Ok(())
}

/// The session name ECS uses for instance roles: `vm-ram-<instance-id>`.
pub fn session_name(instance_id: &str) -> String {
    format!("vm-ram-{instance_id}")
}

fn render(role: &Role, token: &SealedToken, key: &ServerKey, issued_now: bool) -> InstanceCredentials {
    InstanceCredentials {
        issued_now,
        role_name: role.name.clone(),
        credentials: token.credentials(key),
        last_updated: OffsetDateTime::from_unix_timestamp(token.issued).unwrap_or(OffsetDateTime::UNIX_EPOCH),
    }
}
