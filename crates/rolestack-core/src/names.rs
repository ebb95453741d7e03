//! How a name in a request becomes the resource that is authorized.
//!
//! RAM compares the names of users, groups, roles and policies without regard to ASCII case
//! (`Alice` and `alice` are one user), while policy `Resource` patterns match case-sensitively
//! after the `acs:<service>:` prefix. If authorization used only the name *as sent* and the
//! handler then changed the record found case-insensitively, a request spelled `VICTIM` would
//! slip past a `Deny` on `user/victim`. So every name-bearing parameter is authorized under each
//! of its *spellings*: the value as sent and the name as stored (they differ only in case), and a
//! call is allowed only if every spelling is allowed. That is never more permissive than either
//! reading of RAM's rule (see docs/authorization.md, "Names and letter case").
//!
//! ECS resource ids and AccessKey ids are exact (see [`Kind::exact_names`]): a different case
//! does not find the record, so their only spelling is the one sent.

use crate::ims::{OidcProvider, SamlProvider};
use crate::model::{Group, ManagedPolicy, Role, User};
use crate::ram::mfa::{device_name, VirtualMfaDevice};
use crate::ram::system_policies;
use crate::store::{Kind, Tx};
use crate::Result;

/// The spellings of one parameter value to authorize: the value as sent first, then the stored
/// name of the record it names when that differs (only in case). Unknown names (a record about
/// to be created, a missing one) have just the one spelling.
pub fn spellings(tx: &mut dyn Tx, account: &str, param: &str, value: &str) -> Result<Vec<String>> {
    if param == "SerialNumber" {
        return serial_number_spellings(tx, account, value);
    }
    let mut out = vec![value.to_string()];
    let mut add = |stored: String| {
        if !out.contains(&stored) {
            out.push(stored);
        }
    };
    match param {
        "RoleName" => {
            if let Some(r) = tx.get_rec::<Role>(account, value)? {
                add(r.name);
            }
        }
        "UserName" => {
            if let Some(u) = tx.get_rec::<User>(account, value)? {
                add(u.name);
            }
        }
        "GroupName" => {
            if let Some(g) = tx.get_rec::<Group>(account, value)? {
                add(g.name);
            }
        }
        "PolicyName" => {
            // The same name may be a custom and a system policy; authorize both spellings.
            if let Some(p) = tx.get_rec::<ManagedPolicy>(account, value)? {
                add(p.name);
            }
            if let Some(s) = system_policies::find(value) {
                add(s.name.to_string());
            }
        }
        // TagResources / UntagResources: a role or a policy, by `ResourceType`; the stored
        // spelling of either is added (an extra spelling only makes the check stricter).
        "ResourceNames" => {
            if let Some(r) = tx.get_rec::<Role>(account, value)? {
                add(r.name);
            }
            if let Some(p) = tx.get_rec::<ManagedPolicy>(account, value)? {
                add(p.name);
            }
        }
        "VirtualMFADeviceName" => {
            if let Some(d) = tx.get_rec::<VirtualMfaDevice>(account, value)? {
                add(d.name);
            }
        }
        "OIDCProviderName" => {
            if let Some(p) = tx.get_rec::<OidcProvider>(account, value)? {
                add(p.name);
            }
        }
        "SAMLProviderName" => {
            if let Some(p) = tx.get_rec::<SamlProvider>(account, value)? {
                add(p.name);
            }
        }
        _ => {}
    }
    Ok(out)
}

/// The spellings of a virtual MFA device's serial number (`acs:ram::<account>:mfa/<name>`): the
/// device name in it and the stored name. A serial of another form has itself as its only spelling
/// (it names no device of this account, and the handler refuses it).
pub fn serial_number_spellings(tx: &mut dyn Tx, account: &str, serial: &str) -> Result<Vec<String>> {
    let Some(name) = device_name(account, serial) else { return Ok(vec![serial.to_string()]) };
    let mut out = vec![name.to_string()];
    if let Some(d) = tx.get_rec::<VirtualMfaDevice>(account, name)? {
        if d.name != name {
            out.push(d.name);
        }
    }
    Ok(out)
}

/// The spellings of a role ARN (`acs:ram::<account>:role/<name>`): as sent, and with the role's
/// stored name when the ARN names a role of `account`.
pub fn role_arn_spellings(tx: &mut dyn Tx, account: &str, arn: &str) -> Result<Vec<String>> {
    let mut out = vec![arn.to_string()];
    if let Some(name) = arn.strip_prefix(&format!("acs:ram::{account}:role/")) {
        if let Some(role) = tx.get_rec::<Role>(account, name)? {
            let stored = crate::ram::role_arn(account, &role.name);
            if stored != arn {
                out.push(stored);
            }
        }
    }
    Ok(out)
}

impl Kind {
    /// Kinds whose names are identifiers compared exactly (ECS resource ids, AccessKey ids,
    /// instance sessions keyed by instance id), unlike RAM names, which ignore ASCII case.
    pub fn exact_names(self) -> bool {
        matches!(
            self,
            Kind::AccessKey
                | Kind::Vpc
                | Kind::VSwitch
                | Kind::Instance
                | Kind::InstanceSession
                | Kind::SecurityGroup
                | Kind::ResourceTags
                | Kind::ClientToken
                | Kind::KeyPair
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_kinds_are_exact_and_ram_names_are_not() {
        for k in [Kind::AccessKey, Kind::Vpc, Kind::VSwitch, Kind::Instance, Kind::InstanceSession] {
            assert!(k.exact_names(), "{k:?}");
        }
        for k in [Kind::User, Kind::Group, Kind::Role, Kind::Policy, Kind::PolicyVersion, Kind::Account] {
            assert!(!k.exact_names(), "{k:?}");
        }
    }
}
