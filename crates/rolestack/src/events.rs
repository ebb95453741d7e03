//! `rolestack events`: ActionTrail events through `LookupEvents`, one JSON object per line. With
//! `--follow` it polls for new events and prints them oldest first as they arrive, remembering
//! which it printed (events of one millisecond may arrive in separate polls).

use std::collections::HashSet;
use std::time::Duration;

use crate::client::ClientArgs;

/// How often `--follow` asks for new events.
const POLL: Duration = Duration::from_millis(500);

fn args(filters: &[(&str, String)], extra: &[(&str, String)]) -> Vec<String> {
    let mut out: Vec<String> = filters
        .iter()
        .enumerate()
        .flat_map(|(i, (k, v))| [format!("LookupAttribute.{}.Key={k}", i + 1), format!("LookupAttribute.{}.Value={v}", i + 1)])
        .collect();
    out.extend(extra.iter().map(|(k, v)| format!("{k}={v}")));
    out
}

pub fn run(client: &ClientArgs, filters: &[(&str, String)], max: usize, follow: bool) -> anyhow::Result<()> {
    if !follow {
        let mut printed = 0;
        let mut token: Option<String> = None;
        while printed < max {
            let mut extra = vec![("MaxResults", (max - printed).min(50).to_string())];
            extra.extend(token.clone().map(|t| ("NextToken", t)));
            let page = client.call_ok("actiontrail", "LookupEvents", &args(filters, &extra))?;
            for e in page["Events"].as_array().cloned().unwrap_or_default() {
                println!("{}", serde_json::to_string(&e)?);
                printed += 1;
            }
            token = page["NextToken"].as_str().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        return Ok(());
    }
    // Events of the second `since` already printed (the window restarts at that second).
    let mut seen: HashSet<String> = HashSet::new();
    let mut since = rolestack_core::clock::format_date(time::OffsetDateTime::now_utc() - time::Duration::seconds(1));
    loop {
        let mut token: Option<String> = None;
        loop {
            let mut extra = vec![("Direction", "FORWARD".to_string()), ("StartTime", since.clone()), ("MaxResults", "50".into())];
            extra.extend(token.clone().map(|t| ("NextToken", t)));
            let page = client.call_ok("actiontrail", "LookupEvents", &args(filters, &extra))?;
            for e in page["Events"].as_array().cloned().unwrap_or_default() {
                let id = e["eventId"].as_str().unwrap_or_default().to_string();
                let time = e["eventTime"].as_str().unwrap_or_default().to_string();
                if time > since {
                    since = time;
                    seen.clear();
                }
                if seen.insert(id) {
                    println!("{}", serde_json::to_string(&e)?);
                }
            }
            token = page["NextToken"].as_str().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        std::thread::sleep(POLL);
    }
}
