//! ActionTrail: who did what. Every API call (RPC, OSS, console actions) and every STS session
//! the metadata service issues for an instance role becomes one event in ActionTrail's event
//! format (`eventName`, `eventSource`, `eventTime`, `eventRW`, `userIdentity`, `errorCode`, ...),
//! kept in the store for a bounded time and served by `LookupEvents` (see [`crate::actiontrail`]).
//!
//! Recording must not slow calls down, so [`AuditTrail::record`] only queues the event; a
//! background thread writes queued events in batches (one transaction per batch) and prunes old
//! ones. Events not yet written are kept in memory and merged into every lookup, so a lookup
//! always sees the calls made before it. A crash can lose at most the last batch window
//! ([`FLUSH_EVERY`]); the calls themselves are never slowed or failed by auditing.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::caller::{Caller, Principal};
use crate::clock::format_date;
use crate::store::Store;

/// How long queued events may wait before they are written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Most events queued in memory; past it the oldest unwritten are dropped (and counted).
const MAX_PENDING: usize = 50_000;
/// How long written batches stay visible in memory too. A lookup reads the store in a read
/// transaction whose snapshot may predate a batch's commit (read connections never wait for the
/// writer), then the queue: without this grace a batch committed in between would be in neither.
/// That gap lasts as long as one request, so the grace is also bounded by count.
const WRITTEN_GRACE: Duration = Duration::from_secs(5);
/// Written events kept visible at most (older batches go first; the last batch always stays),
/// so memory does not grow with the request rate.
const WRITTEN_KEEP: usize = 1024;

/// How long events are kept, and how many at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_age: Duration,
    pub max_events: u64,
}

impl Default for Retention {
    /// Seven days (what LookupEvents reaches back by default), at most one million events.
    fn default() -> Self {
        Retention { max_age: Duration::from_secs(7 * 24 * 3600), max_events: 1_000_000 }
    }
}

/// One event as stored: the fields lookups filter on, and the whole event as ActionTrail JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Unix milliseconds.
    pub time_ms: i64,
    pub id: String,
    pub account: String,
    pub event_name: String,
    /// `Read` or `Write`.
    pub event_rw: String,
    pub service_name: String,
    pub user_name: String,
    pub access_key_id: String,
    /// Resource types and names as `|t=<type>|n=<name>|...` ([`resource_terms`]), followed by
    /// the other attributes lookups find by a term (`ip=<source IP>|et=<event type>|` and
    /// `role=<role>|` for a role session's call, [`attribute_terms`]), so a `LIKE` finds any of
    /// them. (Events written before the attribute terms existed have resource terms only.)
    pub resources: String,
    pub data: String,
}

/// One of LookupEvents' `LookupAttribute`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    EventName(String),
    EventRw(String),
    ServiceName(String),
    User(String),
    AccessKeyId(String),
    EventId(String),
    ResourceType(String),
    ResourceName(String),
    SourceIpAddress(String),
    EventType(String),
    /// The role whose session made the call.
    RoleName(String),
}

impl Attribute {
    /// The term of [`EventRow::resources`] an attribute looks for, if it is found by one.
    fn term(&self) -> Option<String> {
        let (tag, v) = match self {
            Attribute::ResourceType(v) => ("t", v),
            Attribute::ResourceName(v) => ("n", v),
            Attribute::SourceIpAddress(v) => ("ip", v),
            Attribute::EventType(v) => ("et", v),
            Attribute::RoleName(v) => ("role", v),
            _ => return None,
        };
        Some(format!("|{tag}={}|", term(v)))
    }
}

/// A lookup: one account's events in `[start_ms, end_ms]` matching every attribute, newest first
/// (or oldest first with `forward`), after `after` (the `(time_ms, id)` of the previous page's
/// last event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    pub account: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub attributes: Vec<Attribute>,
    pub forward: bool,
    pub after: Option<(i64, String)>,
    pub limit: usize,
}

impl EventQuery {
    /// Whether a row matches (for events still in memory; the stores filter in SQL the same way).
    pub fn matches(&self, r: &EventRow) -> bool {
        let in_window = r.account == self.account && r.time_ms >= self.start_ms && r.time_ms <= self.end_ms;
        let past_cursor = match &self.after {
            None => true,
            Some((t, id)) if self.forward => (r.time_ms, r.id.as_str()) > (*t, id.as_str()),
            Some((t, id)) => (r.time_ms, r.id.as_str()) < (*t, id.as_str()),
        };
        in_window && past_cursor && self.attributes.iter().all(|a| attribute_matches(a, r))
    }
}

fn attribute_matches(a: &Attribute, r: &EventRow) -> bool {
    match a {
        Attribute::EventName(v) => &r.event_name == v,
        Attribute::EventRw(v) => &r.event_rw == v,
        Attribute::ServiceName(v) => &r.service_name == v,
        Attribute::User(v) => &r.user_name == v,
        Attribute::AccessKeyId(v) => &r.access_key_id == v,
        Attribute::EventId(v) => &r.id == v,
        Attribute::ResourceType(_)
        | Attribute::ResourceName(_)
        | Attribute::SourceIpAddress(_)
        | Attribute::EventType(_)
        | Attribute::RoleName(_) => a.term().is_some_and(|t| r.resources.contains(&t)),
    }
}

/// A resource type or name as it appears in [`EventRow::resources`] (`|` escaped).
fn term(v: &str) -> String {
    v.replace('%', "%25").replace('|', "%7C")
}

/// `|t=<type>|n=<name>|` for each resource.
pub fn resource_terms(resources: &[(String, String)]) -> String {
    let mut out = String::from("|");
    for (t, n) in resources {
        out.push_str(&format!("t={}|n={}|", term(t), term(n)));
    }
    out
}

/// `ip=<source IP>|et=<event type>|` and, for a role session's call, `role=<role>|`: the terms
/// that follow [`resource_terms`] in [`EventRow::resources`].
pub fn attribute_terms(source_ip: &str, event_type: EventType, role: Option<&str>) -> String {
    let mut out = format!("ip={}|et={}|", term(source_ip), event_type.name());
    if let Some(role) = role {
        out.push_str(&format!("role={}|", term(role)));
    }
    out
}

/// The SQL of an event lookup, shared by the SQL stores (which differ only in how they write a
/// placeholder: `?1` or `$1`).
pub mod sql {
    use super::{Attribute, EventQuery};
    use crate::store::like_escape;

    /// A bound value.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Arg {
        Text(String),
        Int(i64),
    }

    /// `SELECT account, time_ms, id, event_name, event_rw, service_name, user_name, access_key_id,
    /// resources, data FROM events WHERE ...` for `q`, with its arguments; `mark` is the
    /// placeholder prefix (`?` or `$`).
    pub fn query(q: &EventQuery, mark: &str) -> (String, Vec<Arg>) {
        let mut args = vec![Arg::Text(q.account.clone()), Arg::Int(q.start_ms), Arg::Int(q.end_ms)];
        let mut sql = format!(
            "SELECT account, time_ms, id, event_name, event_rw, service_name, user_name, access_key_id, resources, data \
             FROM events WHERE account = {mark}1 AND time_ms >= {mark}2 AND time_ms <= {mark}3"
        );
        let push = |args: &mut Vec<Arg>, arg: Arg| {
            args.push(arg);
            format!("{mark}{}", args.len())
        };
        for a in &q.attributes {
            let clause = match a {
                Attribute::EventName(v) => format!("event_name = {}", push(&mut args, Arg::Text(v.clone()))),
                Attribute::EventRw(v) => format!("event_rw = {}", push(&mut args, Arg::Text(v.clone()))),
                Attribute::ServiceName(v) => format!("service_name = {}", push(&mut args, Arg::Text(v.clone()))),
                Attribute::User(v) => format!("user_name = {}", push(&mut args, Arg::Text(v.clone()))),
                Attribute::AccessKeyId(v) => format!("access_key_id = {}", push(&mut args, Arg::Text(v.clone()))),
                Attribute::EventId(v) => format!("id = {}", push(&mut args, Arg::Text(v.clone()))),
                Attribute::ResourceType(_)
                | Attribute::ResourceName(_)
                | Attribute::SourceIpAddress(_)
                | Attribute::EventType(_)
                | Attribute::RoleName(_) => {
                    let needle = a.term().unwrap_or_default();
                    format!("resources LIKE {} ESCAPE '\\'", push(&mut args, Arg::Text(format!("%{}%", like_escape(&needle)))))
                }
            };
            sql.push_str(" AND ");
            sql.push_str(&clause);
        }
        let (cmp, order) = if q.forward { (">", "ASC") } else { ("<", "DESC") };
        if let Some((t, id)) = &q.after {
            let t1 = push(&mut args, Arg::Int(*t));
            let t2 = push(&mut args, Arg::Int(*t));
            let i = push(&mut args, Arg::Text(id.clone()));
            sql.push_str(&format!(" AND (time_ms {cmp} {t1} OR (time_ms = {t2} AND id {cmp} {i}))"));
        }
        let limit = push(&mut args, Arg::Int(i64::try_from(q.limit).unwrap_or(i64::MAX)));
        sql.push_str(&format!(" ORDER BY time_ms {order}, id {order} LIMIT {limit}"));
        (sql, args)
    }
}

/// What produced an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventType {
    ApiCall,
    ConsoleOperation,
    /// A sign-in to the console (successful or refused).
    ConsoleSignin,
    /// A sign-out from the console.
    ConsoleSignout,
    AliyunServiceEvent,
}

impl EventType {
    /// ActionTrail's name of it (the `eventType` field).
    pub fn name(self) -> &'static str {
        match self {
            EventType::ApiCall => "ApiCall",
            EventType::ConsoleOperation => "ConsoleOperation",
            EventType::ConsoleSignin => "ConsoleSignin",
            EventType::ConsoleSignout => "ConsoleSignout",
            EventType::AliyunServiceEvent => "AliyunServiceEvent",
        }
    }
}

/// Everything known about one call, from which the event is written.
#[derive(Debug, Clone)]
pub struct CallRecord<'a> {
    pub caller: Option<&'a Caller>,
    /// The AccessKey the request named, even when it did not authenticate.
    pub access_key_id: Option<&'a str>,
    /// ActionTrail's `serviceName` (`Ram`, `Sts`, `Ecs`, `Vpc`, `Oss`, `Actiontrail`, `Rolestack`;
    /// the console's sign-in service: `AasSub` for RAM users, `AasCustomer` for the account root).
    pub service_name: &'a str,
    /// `eventSource`: the service's host (`ram.aliyuncs.com`).
    pub event_source: &'a str,
    pub event_name: &'a str,
    pub event_type: EventType,
    pub read: bool,
    pub api_version: Option<&'a str>,
    pub request_id: &'a str,
    pub source_ip: Option<String>,
    pub user_agent: Option<&'a str>,
    pub region: &'a str,
    /// `Value::Null`: the event has no `requestParameters` (a console sign-in).
    pub request_parameters: Value,
    pub response_elements: Option<Value>,
    /// ActionTrail's `additionalEventData` (a console sign-in's `mfaChecked`, ...).
    pub additional_event_data: Option<Value>,
    /// `(type, name)`: `ACS::RAM::Role` / `EcsRamRoleDocumentTesting`.
    pub resources: Vec<(String, String)>,
    /// `(errorCode, errorMessage)` for a refused or failed call.
    pub error: Option<(String, String)>,
    /// The account an unauthenticated request was addressed to, if known (OSS bucket owner), or
    /// the account a service acted in.
    pub account: Option<&'a str>,
    /// A cloud service acting on its own (`ecs.aliyuncs.com` issuing an instance's credentials).
    pub acting_service: Option<&'a str>,
}

/// An error message as an event keeps it: a signature mismatch's message ends with the server's
/// string to sign, which spells out every request parameter — a password or a secret among them —
/// so it is cut there (the caller got it in the answer; the trail's readers must not).
fn scrubbed(message: &str) -> &str {
    match message.to_ascii_lowercase().find("string to sign") {
        Some(i) => message[..i + "string to sign".len()].trim_end(),
        None => message,
    }
}

/// Parameters never written to an event (signatures, tokens, secrets, passwords, MFA codes, and
/// an instance's user data, which reading takes `ecs:DescribeUserData` and which commonly carries
/// bootstrap secrets: a reader allowed only LookupEvents must not get it from the trail).
const REDACTED: &[&str] = &[
    "UserData",
    "Signature",
    "SecurityToken",
    "AccessKeySecret",
    "Password",
    "NewPassword",
    "OldPassword",
    "AuthenticationCode1",
    "AuthenticationCode2",
    "OIDCToken",
    "SAMLAssertion",
];

/// The request parameters of an RPC call as an event records them.
pub fn request_parameters<'a>(params: impl Iterator<Item = (&'a String, &'a String)>) -> Value {
    let mut out = Map::new();
    for (k, v) in params {
        let value = if REDACTED.iter().any(|r| r.eq_ignore_ascii_case(k)) { "***" } else { v.as_str() };
        out.insert(k.clone(), json!(value));
    }
    Value::Object(out)
}

/// ActionTrail's `serviceName` for a product's CLI name: `ram` → `Ram`.
pub fn service_name(product: &str) -> String {
    let mut c = product.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

/// Whether an action only reads (ActionTrail's `eventRW`), by RAM's verb conventions.
pub fn is_read_action(name: &str) -> bool {
    ["Get", "List", "Describe", "Lookup", "Decode", "Query", "Check", "Head", "Simulate"].iter().any(|v| name.starts_with(v))
}

/// The resources a call names, as ActionTrail types them, from its parameters and (for what it
/// created) its response.
pub fn event_resources<'a>(params: impl Iterator<Item = (&'a str, &'a str)>, response: Option<&Value>) -> Vec<(String, String)> {
    const TYPES: &[(&str, &str)] = &[
        ("RoleName", "ACS::RAM::Role"),
        ("UserName", "ACS::RAM::User"),
        ("GroupName", "ACS::RAM::Group"),
        ("PolicyName", "ACS::RAM::Policy"),
        ("InstanceId", "ACS::ECS::Instance"),
        ("SecurityGroupId", "ACS::ECS::SecurityGroup"),
        ("KeyPairName", "ACS::ECS::KeyPair"),
        ("VpcId", "ACS::VPC::VPC"),
        ("VSwitchId", "ACS::VPC::VSwitch"),
    ];
    /// TagResources' / UntagResources' `ResourceType` (ECS's and RAM's names differ, so one table
    /// serves both products).
    const TAGGED: &[(&str, &str)] = &[
        ("instance", "ACS::ECS::Instance"),
        ("disk", "ACS::ECS::Disk"),
        ("securitygroup", "ACS::ECS::SecurityGroup"),
        ("role", "ACS::RAM::Role"),
        ("policy", "ACS::RAM::Policy"),
    ];
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |t: &str, n: &str| {
        let pair = (t.to_string(), n.to_string());
        if !n.is_empty() && !out.contains(&pair) {
            out.push(pair);
        }
    };
    let params: Vec<(&str, &str)> = params.collect();
    let tagged = params
        .iter()
        .find(|(k, _)| *k == "ResourceType")
        .and_then(|(_, v)| TAGGED.iter().find(|(name, _)| name.eq_ignore_ascii_case(v)))
        .map(|(_, t)| *t);
    for &(k, v) in &params {
        let tagged_id = k.strip_prefix("ResourceId.").is_some_and(|n| n.parse::<u32>().is_ok());
        if let (Some(t), true) = (tagged, tagged_id) {
            add(t, v);
        } else if let (Some(t), "ResourceNames") = (tagged, k) {
            for name in serde_json::from_str::<Vec<String>>(v).unwrap_or_default() {
                add(t, &name);
            }
        } else if let Some((_, t)) = TYPES.iter().find(|(p, _)| *p == k) {
            add(t, v);
        } else if k == "InstanceIds" {
            for id in serde_json::from_str::<Vec<String>>(v).unwrap_or_default() {
                add("ACS::ECS::Instance", &id);
            }
        } else if k == "KeyPairNames" {
            for name in serde_json::from_str::<Vec<String>>(v).unwrap_or_default() {
                add("ACS::ECS::KeyPair", &name);
            }
        } else if k == "RoleArn" {
            if let Some((_, name)) = v.rsplit_once('/') {
                add("ACS::RAM::Role", name);
            }
        }
    }
    if let Some(Value::Object(body)) = response {
        for (field, t) in [
            ("InstanceId", "ACS::ECS::Instance"),
            ("SecurityGroupId", "ACS::ECS::SecurityGroup"),
            ("VpcId", "ACS::VPC::VPC"),
            ("VSwitchId", "ACS::VPC::VSwitch"),
        ] {
            if let Some(id) = body.get(field).and_then(Value::as_str) {
                add(t, id);
            }
        }
        // RunInstances answers the instances it made as `InstanceIdSets.InstanceIdSet`.
        let made = body.get("InstanceIdSets").and_then(|s| s.get("InstanceIdSet")).and_then(Value::as_array);
        for id in made.into_iter().flatten().filter_map(Value::as_str) {
            add("ACS::ECS::Instance", id);
        }
    }
    out
}

/// ActionTrail's `userIdentity` (fields in ActionTrail's order; absent ones left out).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_context: Option<SessionContext<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext<'a> {
    attributes: SessionAttributes,
    session_issuer: SessionIssuer<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionAttributes {
    mfa_authenticated: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionIssuer<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    principal_id: &'a str,
    arn: String,
    account_id: &'a str,
    user_name: &'a str,
}

/// ActionTrail's `userIdentity` of a call, and the user name events are looked up by.
fn user_identity<'a>(call: &CallRecord<'a>, account: &'a str) -> UserIdentity<'a> {
    let mut who = UserIdentity {
        kind: "anonymous",
        principal_id: None,
        account_id: None,
        access_key_id: call.access_key_id.or(Some("")),
        user_name: None,
        session_context: None,
    };
    if let Some(service) = call.acting_service {
        who.kind = "aliyun-service";
        who.principal_id = Some(service.to_string());
        who.account_id = Some(account);
        who.access_key_id = None;
        who.user_name = Some(service.to_string());
        return who;
    }
    let Some(c) = call.caller else { return who };
    who.account_id = Some(&c.account_id);
    who.access_key_id = Some(&c.access_key_id);
    match &c.principal {
        Principal::Root => {
            who.kind = "root-account";
            who.principal_id = Some(c.account_id.clone());
            who.user_name = Some("root".into());
        }
        Principal::User { name, id } => {
            who.kind = "ram-user";
            who.principal_id = Some(id.clone());
            who.user_name = Some(name.clone());
        }
        Principal::RoleSession { role_name, role_id, session_name, .. } => {
            who.kind = "assumed-role";
            who.principal_id = Some(format!("{role_id}:{session_name}"));
            who.user_name = Some(format!("{role_name}:{session_name}"));
            who.session_context = Some(SessionContext {
                attributes: SessionAttributes { mfa_authenticated: "false" },
                session_issuer: SessionIssuer {
                    kind: "role",
                    principal_id: role_id,
                    arn: format!("acs:ram::{}:role/{role_name}", c.account_id),
                    account_id: &c.account_id,
                    user_name: role_name,
                },
            });
        }
    }
    who
}

/// An event as ActionTrail returns it (fields in its order; absent ones left out).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventData<'a> {
    event_id: &'a str,
    event_version: u8,
    event_source: &'a str,
    source_ip_address: &'a str,
    user_agent: &'a str,
    #[serde(rename = "eventRW")]
    event_rw: &'a str,
    event_type: EventType,
    event_name: &'a str,
    event_time: String,
    acs_region: &'a str,
    request_id: &'a str,
    api_version: &'a str,
    service_name: &'a str,
    user_identity: &'a UserIdentity<'a>,
    #[serde(skip_serializing_if = "Value::is_null")]
    request_parameters: &'a Value,
    is_global: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_elements: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_event_data: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    referenced_resources: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
}

/// The event of a call, as ActionTrail's JSON and as a stored row.
pub fn event(call: &CallRecord<'_>, now: OffsetDateTime) -> Option<EventRow> {
    let account = call.caller.map(|c| c.account_id.as_str()).or(call.account)?;
    let id = crate::ids::uuid_upper();
    let identity = user_identity(call, account);
    let rw = if call.read { "Read" } else { "Write" };
    let listed = |part: fn(&(String, String)) -> &str| {
        (!call.resources.is_empty()).then(|| call.resources.iter().map(part).collect::<Vec<_>>().join(";"))
    };
    let source_ip = call.source_ip.as_deref().unwrap_or_default();
    let role = match call.caller.map(|c| &c.principal) {
        Some(Principal::RoleSession { role_name, .. }) => Some(role_name.as_str()),
        _ => None,
    };
    let data = EventData {
        event_id: &id,
        event_version: 1,
        event_source: call.event_source,
        source_ip_address: source_ip,
        user_agent: call.user_agent.unwrap_or_default(),
        event_rw: rw,
        event_type: call.event_type,
        event_name: call.event_name,
        event_time: format_date(now),
        acs_region: call.region,
        request_id: call.request_id,
        api_version: call.api_version.unwrap_or_default(),
        service_name: call.service_name,
        user_identity: &identity,
        request_parameters: &call.request_parameters,
        is_global: matches!(call.service_name, "Ram" | "Sts" | "Ims" | "AasSub" | "AasCustomer"),
        response_elements: call.response_elements.as_ref(),
        additional_event_data: call.additional_event_data.as_ref(),
        resource_type: listed(|(t, _)| t),
        resource_name: listed(|(_, n)| n),
        referenced_resources: (!call.resources.is_empty()).then(|| {
            call.resources.iter().fold(Map::new(), |mut m, (t, n)| {
                m.entry(t.clone()).or_insert_with(|| json!([])).as_array_mut().expect("a list").push(json!(n));
                m
            })
        }),
        error_code: call.error.as_ref().map(|(code, _)| code.as_str()),
        error_message: call.error.as_ref().map(|(_, message)| scrubbed(message)),
    };
    let data = serde_json::to_string(&data).expect("an event serializes");
    Some(EventRow {
        time_ms: (now.unix_timestamp_nanos() / 1_000_000) as i64,
        account: account.to_string(),
        event_name: call.event_name.to_string(),
        event_rw: rw.into(),
        service_name: call.service_name.to_string(),
        user_name: identity.user_name.clone().unwrap_or_default(),
        access_key_id: call.caller.map(|c| c.access_key_id.as_str()).or(call.access_key_id).unwrap_or_default().to_string(),
        resources: resource_terms(&call.resources) + &attribute_terms(source_ip, call.event_type, role),
        id,
        data,
    })
}

/// The queue of events and the thread that writes them.
pub struct AuditTrail {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// Recorded, not yet written (oldest first).
    pending: VecDeque<EventRow>,
    /// Taken by the writer, being written now (still visible to lookups).
    writing: Arc<Vec<EventRow>>,
    /// Batches written in the last [`WRITTEN_GRACE`], with when (still visible to lookups, which
    /// drop the duplicates).
    written: VecDeque<(std::time::Instant, Arc<Vec<EventRow>>)>,
    dropped: u64,
    stop: bool,
    /// The writer waits for events: the next one recorded wakes it. While it gathers or writes
    /// a batch nobody wakes it, so recording an event costs no system call then.
    writer_idle: bool,
}

impl AuditTrail {
    /// A trail that keeps events in memory only (no writer): for tests and library use.
    pub fn in_memory() -> Arc<AuditTrail> {
        Arc::new(AuditTrail { shared: Arc::new(Shared { state: Mutex::new(State::default()), wake: Condvar::new() }) })
    }

    /// Starts the writer thread over `store`.
    pub fn start(store: Arc<dyn Store>, retention: Retention, clock: crate::clock::Clock) -> Arc<AuditTrail> {
        let trail = AuditTrail::in_memory();
        let shared = trail.shared.clone();
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || writer(shared, store, retention, clock))
            .expect("spawning the audit writer");
        trail
    }

    /// Queues an event (never blocks on the store).
    pub fn record(&self, row: EventRow) {
        let mut s = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.pending.len() >= MAX_PENDING {
            s.pending.pop_front();
            s.dropped += 1;
        }
        s.pending.push_back(row);
        if s.writer_idle {
            // notify_all: `close` may be waiting on the same condition
            self.shared.wake.notify_all();
        }
    }

    /// Events recorded but not yet in the store that match `q`.
    pub fn unwritten(&self, q: &EventQuery) -> Vec<EventRow> {
        let s = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        s.written
            .iter()
            .flat_map(|(_, b)| b.iter())
            .chain(s.writing.iter())
            .chain(s.pending.iter())
            .filter(|r| q.matches(r))
            .cloned()
            .collect()
    }

    /// Events dropped because the queue was full (the store could not keep up).
    pub fn dropped(&self) -> u64 {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner()).dropped
    }

    /// Writes what is queued and stops the writer (on shutdown).
    pub fn close(&self) {
        let mut s = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        s.stop = true;
        self.shared.wake.notify_one();
        // Wait (bounded) until the writer has drained the queue.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while (!s.pending.is_empty() || !s.writing.is_empty()) && std::time::Instant::now() < deadline {
            s = self.shared.wake.wait_timeout(s, Duration::from_millis(50)).unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

fn writer(shared: Arc<Shared>, store: Arc<dyn Store>, retention: Retention, clock: crate::clock::Clock) {
    let mut last_prune = std::time::Instant::now() - Duration::from_secs(3600);
    loop {
        let batch = {
            let mut s = shared.state.lock().unwrap_or_else(|p| p.into_inner());
            if s.pending.is_empty() && !s.stop {
                s.writer_idle = true;
                s = shared.wake.wait_timeout(s, Duration::from_secs(5)).unwrap_or_else(|p| p.into_inner()).0;
                s.writer_idle = false;
            }
            if !s.stop {
                // Let a burst gather into one transaction.
                drop(s);
                std::thread::sleep(FLUSH_EVERY);
                s = shared.state.lock().unwrap_or_else(|p| p.into_inner());
            }
            let batch: Arc<Vec<EventRow>> = Arc::new(s.pending.drain(..).collect());
            s.writing = batch.clone();
            if batch.is_empty() && s.stop {
                shared.wake.notify_all();
                return;
            }
            batch
        };
        if !batch.is_empty() {
            let written = crate::store::retry(|| {
                let mut tx = store.begin()?;
                tx.events_append(&batch)?;
                tx.commit()
            });
            if let Err(e) = written {
                eprintln!("rolestack audit: could not write {} events: {e}", batch.len());
            }
        }
        {
            let mut s = shared.state.lock().unwrap_or_else(|p| p.into_inner());
            let written = std::mem::take(&mut s.writing);
            let now = std::time::Instant::now();
            if !written.is_empty() {
                s.written.push_back((now, written));
            }
            let mut kept: usize = s.written.iter().map(|(_, b)| b.len()).sum();
            while s.written.len() > 1 {
                let (at, oldest) = s.written.front().expect("more than one");
                if now.duration_since(*at) <= WRITTEN_GRACE && kept - oldest.len() < WRITTEN_KEEP {
                    break;
                }
                kept -= oldest.len();
                s.written.pop_front();
            }
            if s.written.front().is_some_and(|(at, _)| now.duration_since(*at) > WRITTEN_GRACE) {
                s.written.pop_front();
            }
            shared.wake.notify_all();
        }
        if last_prune.elapsed() >= Duration::from_secs(60) {
            last_prune = std::time::Instant::now();
            let cutoff = (clock.now() - retention.max_age).unix_timestamp() * 1000;
            let pruned = crate::store::retry(|| {
                let mut tx = store.begin()?;
                tx.events_prune(cutoff, retention.max_events)?;
                tx.commit()
            });
            if let Err(e) = pruned {
                eprintln!("rolestack audit: could not prune events: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_user_data_are_not_recorded() {
        let params = [("UserData", "ZXhwb3J0IERCX1BBU1NXT1JEPXM="), ("password", "p"), ("InstanceName", "web")];
        let owned: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let recorded = request_parameters(owned.iter().map(|(k, v)| (k, v)));
        assert_eq!(recorded, json!({ "UserData": "***", "password": "***", "InstanceName": "web" }));
    }
    use crate::caller::RequestFacts;

    #[test]
    fn a_string_to_sign_never_reaches_an_event() {
        let m = "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&Password%3Dx";
        assert_eq!(scrubbed(m), "Specified signature is not matched with our calculation. server string to sign");
        assert_eq!(scrubbed("The Server String To Sign: GET\n/b/k"), "The Server String To Sign");
        assert_eq!(scrubbed("You have no right"), "You have no right");
    }

    #[test]
    fn events_name_what_a_call_tagged_or_made() {
        let ecs = [
            ("RegionId", "cn-hangzhou"),
            ("ResourceType", "instance"),
            ("ResourceId.1", "i-1"),
            ("ResourceId.2", "i-2"),
            ("Tag.1.Key", "k"),
        ];
        assert_eq!(
            event_resources(ecs.into_iter(), None),
            vec![("ACS::ECS::Instance".to_string(), "i-1".to_string()), ("ACS::ECS::Instance".to_string(), "i-2".to_string())]
        );
        let ram = [("ResourceType", "role"), ("ResourceNames", r#"["a","b"]"#)];
        assert_eq!(
            event_resources(ram.into_iter(), None),
            vec![("ACS::RAM::Role".into(), "a".into()), ("ACS::RAM::Role".into(), "b".into())]
        );
        // An unknown ResourceType names nothing rather than guessing.
        assert!(event_resources([("ResourceType", "snapshot"), ("ResourceId.1", "s-1")].into_iter(), None).is_empty());
        let run = json!({ "OrderId": "1", "InstanceIdSets": { "InstanceIdSet": ["i-3", "i-4"] } });
        let made = event_resources([("VSwitchId", "vsw-1")].into_iter(), Some(&run));
        assert_eq!(made.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(), ["vsw-1", "i-3", "i-4"]);
        let sg = json!({ "SecurityGroupId": "sg-1" });
        assert_eq!(event_resources(std::iter::empty(), Some(&sg)), vec![("ACS::ECS::SecurityGroup".into(), "sg-1".into())]);
    }

    fn caller() -> Caller {
        Caller {
            account_id: "123".into(),
            principal: Principal::RoleSession {
                role_name: "r".into(),
                role_id: "900".into(),
                session_name: "s".into(),
                session_policy: None,
                source_identity: None,
            },
            access_key_id: "STS.x".into(),
            facts: RequestFacts::at(OffsetDateTime::UNIX_EPOCH),
            mfa_at: None,
        }
    }

    fn record<'a>(c: &'a Caller, name: &'a str, error: Option<(String, String)>) -> CallRecord<'a> {
        CallRecord {
            caller: Some(c),
            access_key_id: None,
            service_name: "Oss",
            event_source: "oss-cn-hangzhou.aliyuncs.com",
            event_name: name,
            event_type: EventType::ApiCall,
            read: false,
            api_version: None,
            request_id: "R1",
            source_ip: Some("127.0.0.1".into()),
            user_agent: Some("aliyun-sdk-python"),
            region: "cn-hangzhou",
            request_parameters: request_parameters([("SecurityToken".to_string(), "secret".to_string())].iter().map(|(a, b)| (a, b))),
            response_elements: None,
            additional_event_data: None,
            resources: vec![("ACS::OSS::Object".into(), "b/k".into())],
            error,
            account: None,
            acting_service: None,
        }
    }

    #[test]
    fn events_have_actiontrail_fields_and_no_secrets() {
        let c = caller();
        let row = event(&record(&c, "PutObject", Some(("AccessDenied".into(), "no".into()))), OffsetDateTime::UNIX_EPOCH).unwrap();
        let v: Value = serde_json::from_str(&row.data).unwrap();
        assert_eq!(v["eventName"], "PutObject");
        assert_eq!(v["eventRW"], "Write");
        assert_eq!(v["userIdentity"]["type"], "assumed-role");
        assert_eq!(v["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"], "r");
        assert_eq!(v["errorCode"], "AccessDenied");
        assert_eq!(v["requestParameters"]["SecurityToken"], "***");
        assert!(!row.data.contains("secret"));
        assert_eq!(row.user_name, "r:s");
        assert_eq!(row.resources, "|t=ACS::OSS::Object|n=b/k|ip=127.0.0.1|et=ApiCall|role=r|");
    }

    #[test]
    fn queries_filter_and_page_in_memory() {
        let c = caller();
        let trail = AuditTrail::in_memory();
        for (i, name) in ["PutObject", "GetObject", "PutObject"].iter().enumerate() {
            let mut row = event(&record(&c, name, None), OffsetDateTime::UNIX_EPOCH).unwrap();
            row.time_ms = i as i64;
            trail.record(row);
        }
        let q = |attrs: Vec<Attribute>, after| EventQuery {
            account: "123".into(),
            start_ms: 0,
            end_ms: 10,
            attributes: attrs,
            forward: false,
            after,
            limit: 10,
        };
        assert_eq!(trail.unwritten(&q(vec![Attribute::EventName("PutObject".into())], None)).len(), 2);
        assert_eq!(trail.unwritten(&q(vec![Attribute::ResourceName("b/k".into())], None)).len(), 3);
        assert_eq!(trail.unwritten(&q(vec![Attribute::User("r:s".into())], Some((1, String::new())))).len(), 1);
        assert!(trail.unwritten(&q(vec![Attribute::ServiceName("Ram".into())], None)).is_empty());
        assert_eq!(trail.unwritten(&q(vec![Attribute::ServiceName("Oss".into())], None)).len(), 3);
        assert!(trail.unwritten(&q(vec![Attribute::ServiceName("oss".into())], None)).is_empty(), "case-sensitive");
        assert!(trail.unwritten(&q(vec![Attribute::EventRw("write".into())], None)).is_empty(), "case-sensitive");
        assert_eq!(trail.unwritten(&q(vec![Attribute::EventRw("Write".into())], None)).len(), 3);
        assert_eq!(trail.unwritten(&q(vec![Attribute::SourceIpAddress("127.0.0.1".into())], None)).len(), 3);
        assert!(trail.unwritten(&q(vec![Attribute::SourceIpAddress("127.0.0.2".into())], None)).is_empty());
        assert_eq!(trail.unwritten(&q(vec![Attribute::EventType("ApiCall".into())], None)).len(), 3);
        assert!(trail.unwritten(&q(vec![Attribute::EventType("ConsoleOperation".into())], None)).is_empty());
        assert_eq!(trail.unwritten(&q(vec![Attribute::RoleName("r".into())], None)).len(), 3);
        assert!(trail.unwritten(&q(vec![Attribute::RoleName("s".into())], None)).is_empty(), "not the session name");
    }
}
