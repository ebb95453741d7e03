//! rolestack's own admin API, served by the RPC gateway as product `Rolestack` (Version
//! `2026-11-01`), signed and authorized like any other call (actions `rolestack:*`; the account root
//! may call them all): the fake clock, revoking a role's live sessions, preparing an instance's
//! network presence for `rolestack instance exec`, reading an instance's current credentials, and
//! breaking its metadata service on purpose (faults and credential events, `crate::fault`, listed
//! per instance in its event list; docs/faults.md).

use serde_json::{json, Value};
use time::Duration;

use crate::clock::format_date;
use crate::fault::{FaultKind, FaultSpec, MAX_FAULTS_PER_INSTANCE};
use crate::handler::Ctx;
use crate::metadata::{expire_now, instance_credentials, rotate_now};
use crate::model::{Instance, Role};
use crate::params::Params;
use crate::ram::roles;
use crate::store::{FaultRow, InstanceEventRow};
use crate::sts::{render_credentials, unix_ms};
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

/// The instance named by `InstanceId`, which must be `Running`: nothing runs on (and no metadata
/// service answers for) an instance that is not, so it is refused with `IncorrectInstanceStatus`
/// (403), which says how to start it.
fn running_instance(ctx: &mut Ctx, p: &Params) -> Result<Instance> {
    let inst = instance(ctx, p)?;
    if inst.status != "Running" {
        let wanted = format!(
            "Running: nothing runs on an instance that is not Running. Start it first (ECS StartInstance, or `rolestack instance start {}`)",
            inst.id
        );
        return Err(crate::ecs::instances::incorrect_status(&inst, &wanted));
    }
    Ok(inst)
}

/// Gives an instance its network presence and says where code inside it reaches rolestack.
///
/// On a shared store the instance lives on the node that created it: asked on another node, the
/// answer names that node and its endpoint (`Node`, `RedirectEndpoint`) and prepares nothing;
/// `rolestack instance exec` asks there (see docs/scale-out.md).
///
/// Nothing runs on an instance that is not `Running` (as on ECS): a stopped one is refused with
/// `IncorrectInstanceStatus`, which says how to start it.
pub fn prepare_instance_environment(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let inst = running_instance(ctx, p)?;
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

/// The credentials the metadata service currently serves the instance (issuing them if due). A
/// stopped instance's metadata service serves nothing, so it is refused as `instance exec` is.
pub fn describe_instance_credentials(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let inst = running_instance(ctx, p)?;
    let account = ctx.account().to_string();
    let now = ctx.clock.now();
    match instance_credentials(ctx.tx, ctx.key, &account, &inst, now)? {
        Some(c) => {
            let mut body = render_credentials(&c.credentials);
            body["LastUpdated"] = json!(format_date(c.last_updated));
            Ok(json!({ "InstanceId": inst.id, "RoleName": c.role_name, "Credentials": body }))
        }
        None => Err(no_ram_role(&inst)),
    }
}

/// The longest a fault may last (`DurationSeconds`), and the most uses it may be given (`Count`).
const MAX_FAULT_SECONDS: i64 = 7 * 24 * 3600;
const MAX_FAULT_COUNT: i64 = 1_000_000;

/// Appends to the instance's event list: what happened (`event`), by which API action.
fn record_instance_event(ctx: &mut Ctx, instance_id: &str, event: &str, action: &str, detail: Value) -> Result<Value> {
    let now = ctx.clock.now();
    let entry = json!({
        "EventId": crate::ids::request_id(),
        "EventTime": format_date(now),
        "Event": event,
        "Action": action,
        "Caller": ctx.caller.arn(),
        "Detail": detail,
    });
    let row = InstanceEventRow {
        account: ctx.account().to_string(),
        instance_id: instance_id.to_string(),
        time_ms: unix_ms(now),
        id: entry["EventId"].as_str().unwrap_or_default().to_string(),
        data: entry.to_string(),
    };
    ctx.tx.instance_events_append(&row)?;
    Ok(entry)
}

fn fault_json(row: &FaultRow, now_ms: i64) -> Value {
    let spec: Value = serde_json::from_str(&row.spec).unwrap_or(Value::Null);
    let at = |ms: i64| time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).map(format_date).unwrap_or_default();
    let active = row.until_ms.is_none_or(|u| now_ms < u) && row.remaining.is_none_or(|r| r > 0);
    json!({
        "FaultId": row.id,
        "Fault": spec,
        "StartTime": at(row.created_ms),
        "EndTime": row.until_ms.map(at),
        "RemainingCount": row.remaining,
        "Active": active,
    })
}

/// Injects a fault into the instance's metadata service: `Fault` (Delay, Status, Reset, Timeout,
/// Throttle, StaleCredentials, ExpireCredentials), its `Value` (Delay milliseconds, Status code,
/// Throttle requests per second), `Path` (a wildcard over request paths, default `*`), and when
/// it ends by itself: `DurationSeconds` and/or `Count` (requests it applied to); neither: at
/// ClearInstanceFaults. `ExpireCredentials` expires the instance's current set at once; it and
/// `StaleCredentials` need the instance to have a RAM role (`InvalidInstance.NoRamRole`).
pub fn inject_instance_fault(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let inst = instance(ctx, p)?;
    let value = p.int("Value", i64::MIN, i64::MAX)?;
    let kind = FaultKind::parse(p.required("Fault")?, value).map_err(|e| Error::invalid("InvalidParameter.Fault", e.to_string()))?;
    // A credential fault acts on the set the instance's role is served: without a role there is
    // none, and it is refused as ExpireInstanceCredentials refuses it.
    if matches!(kind, FaultKind::ExpireCredentials | FaultKind::StaleCredentials) && inst.ram_role_name.is_none() {
        return Err(no_ram_role(&inst));
    }
    let path = p.optional("Path").unwrap_or("*");
    if path.is_empty() || path.len() > 256 || !(path.starts_with('/') || path.starts_with('*')) {
        return Err(Error::invalid(
            "InvalidParameter.Path",
            "The Path must be a wildcard over request paths starting with / or *, at most 256 characters.",
        ));
    }
    let seconds = p.int("DurationSeconds", 1, MAX_FAULT_SECONDS)?;
    let count = p.int("Count", 1, MAX_FAULT_COUNT)?;
    let account = ctx.account().to_string();
    let now = ctx.clock.now();
    let now_ms = unix_ms(now);
    ctx.tx.faults_delete(&account, &inst.id, Some(now_ms))?;
    if ctx.tx.faults_list(&account, &inst.id)?.len() >= MAX_FAULTS_PER_INSTANCE {
        return Err(Error::service(
            400,
            "QuotaExceed.InstanceFaults",
            format!("The instance {} has {MAX_FAULTS_PER_INSTANCE} faults already; clear some first.", inst.id),
        ));
    }
    let mut detail = json!({});
    if kind == FaultKind::ExpireCredentials {
        detail["ExpiredAccessKeyId"] = json!(expire_now(ctx.tx, ctx.key, &account, &inst, now)?);
    }
    let row = FaultRow {
        account: account.clone(),
        instance_id: inst.id.clone(),
        id: format!("flt-{}", crate::ids::alnum(16).to_ascii_lowercase()),
        created_ms: now_ms,
        until_ms: seconds.map(|s| now_ms + s * 1000),
        remaining: count,
        spec: serde_json::to_string(&FaultSpec { kind, path: path.to_string() }).map_err(|e| Error::Store(e.to_string()))?,
    };
    ctx.tx.faults_insert(&row)?;
    let fault = fault_json(&row, now_ms);
    detail["Fault"] = fault.clone();
    record_instance_event(ctx, &inst.id, "FaultInjected", "InjectInstanceFault", detail)?;
    let mut body = json!({ "InstanceId": inst.id });
    if let (Value::Object(b), Value::Object(f)) = (&mut body, fault) {
        b.extend(f);
    }
    Ok(body)
}

/// Ends every fault of the instance's metadata service.
pub fn clear_instance_faults(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let inst = instance(ctx, p)?;
    let account = ctx.account().to_string();
    let cleared = ctx.tx.faults_delete(&account, &inst.id, None)?;
    record_instance_event(ctx, &inst.id, "FaultsCleared", "ClearInstanceFaults", json!({ "ClearedCount": cleared }))?;
    Ok(json!({ "InstanceId": inst.id, "ClearedCount": cleared }))
}

/// The instance's faults: those still lasting, and those ended but not yet pruned.
pub fn describe_instance_faults(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let inst = instance(ctx, p)?;
    let account = ctx.account().to_string();
    let now_ms = unix_ms(ctx.clock.now());
    let faults: Vec<Value> = ctx.tx.faults_list(&account, &inst.id)?.iter().map(|r| fault_json(r, now_ms)).collect();
    Ok(json!({ "InstanceId": inst.id, "TotalCount": faults.len(), "Faults": { "Fault": faults } }))
}

/// What was injected into the instance's metadata service and when, newest first (`MaxResults`,
/// default 100).
pub fn list_instance_events(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let inst = instance(ctx, p)?;
    let limit = p.int("MaxResults", 1, 1000)?.unwrap_or(100) as usize;
    let account = ctx.account().to_string();
    let events: Vec<Value> = ctx
        .tx
        .instance_events_list(&account, &inst.id, limit)?
        .iter()
        .map(|r| serde_json::from_str(&r.data).unwrap_or(Value::Null))
        .collect();
    Ok(json!({ "InstanceId": inst.id, "Events": { "Event": events } }))
}

/// "Rotate now": the metadata service serves a new set from now on; the old one stays valid until
/// its own expiry.
pub fn rotate_instance_credentials(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let inst = instance(ctx, p)?;
    let account = ctx.account().to_string();
    let previous = ctx.tx.get_rec::<crate::model::InstanceSession>(&account, &inst.id)?;
    let previous_key = previous.and_then(|s| crate::sts::SealedToken::open(ctx.key, &s.token).ok()).map(|t| t.access_key_id);
    let Some(c) = rotate_now(ctx.tx, ctx.key, &account, &inst, ctx.clock.now())? else {
        return Err(no_ram_role(&inst));
    };
    let detail = json!({
        "PreviousAccessKeyId": previous_key,
        "AccessKeyId": c.credentials.access_key_id,
        "Expiration": format_date(c.credentials.expiration),
    });
    record_instance_event(ctx, &inst.id, "CredentialsRotated", "RotateInstanceCredentials", detail.clone())?;
    let mut body = json!({ "InstanceId": inst.id, "RoleName": c.role_name });
    if let (Value::Object(b), Value::Object(d)) = (&mut body, detail) {
        b.extend(d);
    }
    Ok(body)
}

/// "Expire now": the set the instance is served expires at once (STS and OSS refuse it as
/// expired); the next read of the metadata service issues a new one.
pub fn expire_instance_credentials(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let inst = instance(ctx, p)?;
    if inst.ram_role_name.is_none() {
        return Err(no_ram_role(&inst));
    }
    let account = ctx.account().to_string();
    let now = ctx.clock.now();
    let expired = expire_now(ctx.tx, ctx.key, &account, &inst, now)?;
    let detail = json!({ "ExpiredAccessKeyId": expired, "ExpiredAt": format_date(now) });
    record_instance_event(ctx, &inst.id, "CredentialsExpired", "ExpireInstanceCredentials", detail.clone())?;
    let mut body = json!({ "InstanceId": inst.id });
    if let (Value::Object(b), Value::Object(d)) = (&mut body, detail) {
        b.extend(d);
    }
    Ok(body)
}

fn no_ram_role(inst: &Instance) -> Error {
    Error::service(
        404,
        "InvalidInstance.NoRamRole",
        format!("The instance {} has no RAM role attached, or its role no longer exists or no longer trusts ecs.aliyuncs.com.", inst.id),
    )
}
