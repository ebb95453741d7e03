//! rolestack's own admin API, served by the RPC gateway as product `Rolestack` (Version
//! `2026-11-01`), signed and authorized like any other call (actions `rolestack:*`; the account root
//! may call them all): the fake clock, revoking a role's live sessions, preparing an instance's
//! network presence for `rolestack instance exec`, and reading an instance's current credentials.

use serde_json::{json, Value};
use time::Duration;

use crate::clock::format_date;
use crate::handler::Ctx;
use crate::metadata::instance_credentials;
use crate::model::{Instance, Role};
use crate::params::Params;
use crate::ram::roles;
use crate::sts::render_credentials;
use crate::{Error, Result};

/// The version string of the admin product.
pub const VERSION: &str = "2026-11-01";

pub fn describe_clock(ctx: &mut Ctx, _p: &Params) -> Result<Value> {
    Ok(json!({
        "Now": format_date(ctx.clock.now()),
        "RealNow": format_date(ctx.clock.real_now()),
        "OffsetSeconds": ctx.clock.offset().whole_seconds(),
        "Fake": ctx.clock.is_fake(),
    }))
}

/// Moves the server's clock forward by `Seconds` (fake-clock mode only). Token issue, expiry and
/// credential rotation follow it; request timestamps keep being checked against the real clock.
pub fn advance_clock(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let seconds = p.int("Seconds", 1, 10 * 365 * 24 * 3600)?.ok_or_else(|| Error::MissingParameter("Seconds".into()))?;
    if ctx.clock.is_fake() && ctx.cluster.shared() {
        // Every node reads the shared offset (crate::cluster); this one takes it at once.
        let offset = ctx.cluster.advance_clock(ctx.tx, seconds)?;
        ctx.clock.set_offset(offset);
        return describe_clock(ctx, p);
    }
    if !ctx.clock.advance(Duration::seconds(seconds)) {
        return Err(Error::service(
            403,
            "Forbidden.FakeClockDisabled",
            "The server clock is real; start the server with `rolestack serve --fake-clock` to move it.",
        ));
    }
    describe_clock(ctx, p)
}

/// Ends every live session of a role (STS AssumeRole and instance credentials) at once.
pub fn revoke_role_sessions(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = roles::role_name(p)?;
    let mut role: Role = roles::load(ctx, name)?;
    // Millisecond precision: every session issued before this call is void, one minted right after is not.
    let now = ctx.clock.now();
    role.sessions_revoked_before = Some(crate::sts::unix_ms(now) + 1);
    let account = ctx.account().to_string();
    ctx.tx.update_rec(&account, &role.name.clone(), &role)?;
    Ok(json!({ "RoleName": role.name, "RevokedBefore": format_date(now) }))
}

fn instance(ctx: &mut Ctx, p: &Params) -> Result<Instance> {
    let id = p.required("InstanceId")?;
    let account = ctx.account().to_string();
    ctx.tx
        .get_rec::<Instance>(&account, id)?
        .ok_or_else(|| Error::service(404, "InvalidInstanceId.NotFound", format!("The specified InstanceId does not exist: {id}.")))
}

/// Gives an instance its network presence and says where code inside it reaches rolestack.
///
/// On a shared store the instance lives on the node that created it: asked on another node, the
/// answer names that node and its endpoint (`Node`, `RedirectEndpoint`) and prepares nothing;
/// `rolestack instance exec` asks there (see docs/scale-out.md).
pub fn prepare_instance_environment(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let inst = instance(ctx, p)?;
    if let (Some(here), Some(owner)) = (ctx.cluster.node_name(), inst.node.as_deref()) {
        if here != owner {
            let node = ctx.tx.get_rec::<crate::cluster::NodeRecord>(crate::store::GLOBAL, owner)?.ok_or_else(|| {
                Error::service(503, "InstanceNetwork.Unavailable", format!("The node {owner} of instance {} is not registered.", inst.id))
            })?;
            return Ok(json!({
                "InstanceId": inst.id,
                "Node": owner,
                "RedirectEndpoint": format!("http://{}", node.api_address),
            }));
        }
    }
    let ep = ctx
        .network
        .prepare(ctx.account(), &inst.id)
        .map_err(|e| Error::service(503, "InstanceNetwork.Unavailable", format!("Cannot prepare the network of {}: {e}", inst.id)))?;
    Ok(json!({
        "InstanceId": inst.id,
        "Namespace": ep.namespace,
        "ApiEndpointInNamespace": ep.api_in_namespace,
        "Proxy": ep.proxy,
        "CaCertificate": ep.ca_certificate,
    }))
}

/// Gives `rolestack exec` a workstation: Alibaba Cloud's service names and the local CA's trust,
/// without an instance (see `InstanceNetwork::prepare_workstation`).
pub fn prepare_workstation_environment(ctx: &mut Ctx, _p: &Params) -> Result<Value> {
    let ep = ctx
        .network
        .prepare_workstation(ctx.account())
        .map_err(|e| Error::service(503, "InstanceNetwork.Unavailable", format!("Cannot prepare the workstation network: {e}")))?;
    Ok(json!({
        "Namespace": ep.namespace,
        "ApiEndpointInNamespace": ep.api_in_namespace,
        "Proxy": ep.proxy,
        "CaCertificate": ep.ca_certificate,
    }))
}

/// The credentials the metadata service currently serves the instance (issuing them if due).
pub fn describe_instance_credentials(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let inst = instance(ctx, p)?;
    let account = ctx.account().to_string();
    let now = ctx.clock.now();
    match instance_credentials(ctx.tx, ctx.key, &account, &inst, now)? {
        Some(c) => {
            let mut body = render_credentials(&c.credentials);
            body["LastUpdated"] = json!(format_date(c.last_updated));
            Ok(json!({ "InstanceId": inst.id, "RoleName": c.role_name, "Credentials": body }))
        }
        None => Err(Error::service(404, "InvalidInstance.NoRamRole", format!("The instance {} has no RAM role attached.", inst.id))),
    }
}
