//! ActionTrail 2020-07-06 `LookupEvents`: the events of the caller's account (see [`crate::audit`])
//! in a time window (default: the last seven days), filtered by one or more `LookupAttribute`s,
//! newest first (or oldest first with `Direction=FORWARD`), paged with `MaxResults` (1..50,
//! default 20) and an opaque `NextToken`. Events still queued for writing are included.
//! At most two `LookupAttribute`s count (see [`attributes`]).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::audit::{Attribute, EventQuery, EventRow};
use crate::clock::{format_date, parse_date};
use crate::handler::Ctx;
use crate::params::Params;
use crate::{Error, Result};

pub const MAX_RESULTS: usize = 50;
pub const DEFAULT_RESULTS: usize = 20;

fn invalid(name: &str, message: String) -> Error {
    Error::invalid(format!("InvalidParameter.{name}"), message)
}

/// How many `LookupAttribute`s a lookup uses: ActionTrail's "How do I configure the
/// LookupAttribute parameter" page says one or two, and that past two only the first two count.
pub const MAX_ATTRIBUTES: usize = 2;

/// `LookupAttribute.N.Key` / `.Value` pairs, in the order of N, as ActionTrail's LookupAttribute
/// page describes them: only the first two count, and when both name the same key only the
/// second does. Keys are those the page lists (`SensitiveAction` is not modelled: refused), plus
/// the aliases `Username`/`UserName` and `AccessKeyId`.
fn attributes(p: &Params) -> Result<Vec<Attribute>> {
    let mut given: Vec<(&str, String)> = Vec::new();
    for n in 1..=50 {
        let (Some(key), value) = (p.optional(&format!("LookupAttribute.{n}.Key")), p.get(&format!("LookupAttribute.{n}.Value"))) else {
            continue;
        };
        given.push((key, value.unwrap_or_default().to_string()));
        if given.len() == MAX_ATTRIBUTES {
            break;
        }
    }
    if let [(first, _), (second, _)] = given.as_slice() {
        if first == second {
            given.remove(0);
        }
    }
    given
        .into_iter()
        .map(|(key, value)| {
            Ok(match key {
                "EventName" => Attribute::EventName(value),
                "EventRW" => Attribute::EventRw(value),
                "ServiceName" => Attribute::ServiceName(value),
                "User" | "Username" | "UserName" => Attribute::User(value),
                "EventAccessKeyId" | "AccessKeyId" => Attribute::AccessKeyId(value),
                "EventId" => Attribute::EventId(value),
                "ResourceType" => Attribute::ResourceType(value),
                "ResourceName" => Attribute::ResourceName(value),
                "SourceIpAddress" => Attribute::SourceIpAddress(value),
                "EventType" => Attribute::EventType(value),
                "RoleName" => Attribute::RoleName(value),
                other => {
                    return Err(invalid(
                        "LookupAttribute",
                        format!(
                            "The LookupAttribute key {other:?} is not supported; use EventName, EventRW, ServiceName, User, EventAccessKeyId, EventId, ResourceType, ResourceName, SourceIpAddress, EventType or RoleName."
                        ),
                    ))
                }
            })
        })
        .collect()
}

fn time_param(p: &Params, name: &str, default: OffsetDateTime) -> Result<OffsetDateTime> {
    match p.optional(name) {
        None => Ok(default),
        Some(v) => {
            parse_date(v).ok_or_else(|| invalid(name, format!("The {name} {v:?} is not a UTC time in the form YYYY-MM-DDThh:mm:ssZ.")))
        }
    }
}

fn token(row: &EventRow) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", row.time_ms, row.id))
}

fn parse_token(t: &str) -> Result<(i64, String)> {
    let bad = || invalid("NextToken", "The NextToken is not one this service returned.".into());
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(t).map_err(|_| bad())?).map_err(|_| bad())?;
    let (time, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((time.parse().map_err(|_| bad())?, id.to_string()))
}

pub fn lookup_events(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let now = ctx.clock.now();
    let end = time_param(p, "EndTime", now)?;
    // StartTime defaults to seven days before now (the API's model), not before EndTime.
    let start = time_param(p, "StartTime", now - Duration::days(7))?;
    if start > end {
        return Err(invalid("StartTime", "The StartTime is later than the EndTime.".into()));
    }
    let forward = match p.optional("Direction") {
        None => false,
        Some(d) if d.eq_ignore_ascii_case("BACKWARD") => false,
        Some(d) if d.eq_ignore_ascii_case("FORWARD") => true,
        Some(d) => return Err(invalid("Direction", format!("The Direction {d:?} is not FORWARD or BACKWARD."))),
    };
    let limit = p.int("MaxResults", 0, MAX_RESULTS as i64)?.map_or(DEFAULT_RESULTS, |n| n as usize);
    let limit = if limit == 0 { DEFAULT_RESULTS } else { limit };
    let q = EventQuery {
        account: ctx.account().to_string(),
        start_ms: start.unix_timestamp() * 1000,
        end_ms: end.unix_timestamp() * 1000 + 999,
        attributes: attributes(p)?,
        forward,
        after: p.optional("NextToken").map(parse_token).transpose()?,
        limit: limit + 1,
    };
    let mut rows = ctx.tx.events_query(&q)?;
    rows.extend(ctx.audit.unwritten(&q));
    rows.sort_by(|a, b| (a.time_ms, &a.id).cmp(&(b.time_ms, &b.id)));
    rows.dedup_by(|a, b| a.id == b.id);
    if !forward {
        rows.reverse();
    }
    let more = rows.len() > limit;
    rows.truncate(limit);
    let events: Vec<Value> = rows.iter().filter_map(|r| serde_json::from_str(&r.data).ok()).collect();
    let mut body = json!({ "StartTime": format_date(start), "EndTime": format_date(end), "Events": events });
    if more {
        if let Some(last) = rows.last() {
            body["NextToken"] = json!(token(last));
        }
    }
    Ok(body)
}
