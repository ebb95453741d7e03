//! The account alias (GetAccountAlias / SetAccountAlias / ClearAccountAlias).

use serde_json::{json, Value};

use super::ok;
use crate::handler::Ctx;
use crate::model::Account;
use crate::params::Params;
use crate::store::GLOBAL;
use crate::{Error, Result};

fn load(ctx: &mut Ctx) -> Result<Account> {
    let id = ctx.account().to_string();
    ctx.tx.get_rec::<Account>(GLOBAL, &id)?.ok_or_else(|| Error::Store(format!("account {id} missing")))
}

pub fn get_account_alias(ctx: &mut Ctx, _p: &Params) -> Result<Value> {
    let a = load(ctx)?;
    Ok(json!({ "AccountAlias": a.alias.unwrap_or_else(|| a.id.clone()) }))
}

/// Aliases: 3 to 63 characters, lower-case letters, digits and `-`, not starting or ending with
/// `-`, without `--`.
pub fn set_account_alias(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let alias = p.required("AccountAlias")?;
    if !(3..=63).contains(&alias.len()) {
        return Err(Error::invalid(
            "InvalidParameter.AccountAlias.Length",
            "The parameter - \"AccountAlias\" MUST be in the range of 3 and 63.",
        ));
    }
    let valid = alias.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !alias.starts_with('-')
        && !alias.ends_with('-')
        && !alias.contains("--");
    if !valid {
        return Err(Error::invalid(
            "InvalidParameter.AccountAlias.Format",
            "The format of parameter - \"AccountAlias\" is incorrect: use lower-case letters, digits and hyphens, not starting or ending with a hyphen, and no two hyphens in a row.",
        ));
    }
    let mut a = load(ctx)?;
    a.alias = Some(alias.to_string());
    ctx.tx.update_rec(GLOBAL, &a.id.clone(), &a)?;
    ok()
}

/// ClearAccountAlias: the account goes back to being known by its id.
pub fn clear_account_alias(ctx: &mut Ctx, _p: &Params) -> Result<Value> {
    let mut a = load(ctx)?;
    a.alias = None;
    ctx.tx.update_rec(GLOBAL, &a.id.clone(), &a)?;
    ok()
}
