//! ActionTrail events of the console's own pages, which are not API calls: sign-in (the password
//! or AccessKey form and the MFA step, successful or refused), sign-out, the password form (a forced
//! reset at sign-in or a change the user chooses) and an MFA device bound at sign-in. Bridge calls
//! are recorded by the bridge itself (`eventType: ConsoleOperation`, the API's service).
//!
//! The events follow ActionTrail's logon-event samples (docs/diagnostics.md, "Console sign-in
//! events"): `eventName` and `eventType` `ConsoleSignin`, `serviceName` `AasSub` and `eventSource`
//! `signin.aliyun.com` for a RAM user, `AasCustomer` for the account root, `additionalEventData`
//! with `mfaChecked` (RAM user) or `loginAccount` / `isMFAChecked` (root). A refused sign-in is
//! recorded when the name it used belongs to someone (a RAM user's logon name, an AccessKey ID),
//! in that account, with `errorCode` / `errorMessage`. No event carries a password, an MFA code, a
//! session id or a CSRF token: sign-ins have no `requestParameters`, a password change only the
//! parameter names with `***`.

use std::net::{IpAddr, SocketAddr};

use axum::http::{header, HeaderMap};
use rolestack_core::audit::{self, CallRecord, EventType};
use rolestack_core::caller::{Caller, Principal, RequestFacts};
use rolestack_core::ram::login_profiles;
use rolestack_core::service::Rolestack;
use rolestack_core::{ids, Error};
use serde_json::{json, Value};

use super::session::Identity;

/// The RAM-user sign-in service's `serviceName` and `eventSource`.
const USER_SIGNIN: (&str, &str) = ("AasSub", "signin.aliyun.com");
/// The account root's sign-in service's `serviceName` and `eventSource` (as ActionTrail's sample
/// of a root logon spells them).
const ROOT_SIGNIN: (&str, &str) = ("AasCustomer", "http://account.aliyun.com/login/login_aliyun.htm");

/// Where a request to one of the console's pages came from.
#[derive(Debug, Clone, Default)]
pub struct Visit {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl Visit {
    pub fn of(headers: &HeaderMap, peer: Option<SocketAddr>) -> Visit {
        Visit { ip: peer.map(|p| p.ip()), user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string) }
    }
}

/// What happened on a console page.
pub enum PageEvent<'a> {
    /// A sign-in attempt; `mfa`: an MFA code was checked; `error`: why it was refused.
    SignIn {
        mfa: bool,
        error: Option<&'a Error>,
    },
    SignOut,
    /// The password form (or the forced reset at sign-in); `error`: why it was refused.
    PasswordChange {
        error: Option<&'a Error>,
    },
    /// An MFA device bound in the MFA step of a sign-in (`MFABindRequired`).
    MfaDeviceBound,
}

/// The caller an event names for a console identity.
pub fn caller_of(rs: &Rolestack, identity: &Identity) -> Caller {
    let (account_id, principal, access_key_id) = match identity {
        Identity::Root { account_id, access_key_id } => (account_id.clone(), Principal::Root, access_key_id.clone()),
        Identity::User { account_id, user_id, user_name, .. } => {
            (account_id.clone(), Principal::User { name: user_name.clone(), id: user_id.clone() }, String::new())
        }
    };
    Caller { account_id, principal, access_key_id, facts: RequestFacts::at(rs.clock.now()), mfa_at: None }
}

/// Whom a refused sign-in attempt was made as: the owner of the AccessKey typed in the root form,
/// or the RAM user a logon name names. `None` when the name belongs to no one (then there is no
/// account to record the attempt in).
pub fn subject(rs: &Rolestack, kind: &str, name: &str) -> Option<Caller> {
    let now = rs.clock.now();
    let (account_id, principal, access_key_id) = match kind {
        "root" => {
            let who = rs.authenticate(name).ok()?;
            (who.account_id, who.principal, name.to_string())
        }
        "user" => {
            let (account_id, principal) = login_profiles::logon_subject(rs, name).ok()??;
            (account_id, principal, String::new())
        }
        _ => return None,
    };
    Some(Caller { account_id, principal, access_key_id, facts: RequestFacts::at(now), mfa_at: None })
}

/// Records a console page's event for `who`.
pub fn record(rs: &Rolestack, who: &Caller, visit: &Visit, event: PageEvent<'_>) {
    let root = who.principal == Principal::Root;
    let (service_name, event_source) = if root { ROOT_SIGNIN } else { USER_SIGNIN };
    let (event_name, event_type, request_parameters, additional, error) = match event {
        PageEvent::SignIn { mfa, error } => {
            let checked = mfa.to_string();
            let data =
                if root { json!({ "loginAccount": who.access_key_id, "isMFAChecked": checked }) } else { json!({ "mfaChecked": checked }) };
            ("ConsoleSignin", EventType::ConsoleSignin, Value::Null, Some(data), error)
        }
        PageEvent::SignOut => ("ConsoleSignout", EventType::ConsoleSignout, Value::Null, None, None),
        PageEvent::PasswordChange { error } => {
            let names = [("OldPassword".to_string(), String::new()), ("NewPassword".to_string(), String::new())];
            ("ChangePassword", EventType::ConsoleOperation, audit::request_parameters(names.iter().map(|(k, v)| (k, v))), None, error)
        }
        PageEvent::MfaDeviceBound => ("BindMFADevice", EventType::ConsoleOperation, Value::Null, None, None),
    };
    rs.record(&CallRecord {
        caller: Some(who),
        access_key_id: None,
        service_name,
        event_source,
        event_name,
        event_type,
        read: false,
        api_version: None,
        request_id: &ids::request_id(),
        source_ip: visit.ip.map(|ip| ip.to_string()),
        user_agent: visit.user_agent.as_deref(),
        region: rolestack_core::oss::model::DEFAULT_REGION,
        request_parameters,
        response_elements: None,
        additional_event_data: additional,
        resources: Vec::new(),
        error: error.map(|e| (e.code(), e.public_message())),
        account: None,
        acting_service: None,
    });
}
