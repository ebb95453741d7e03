//! RAM groups and membership. A user's effective policies include those of its groups.

use serde_json::{json, Value};

use super::policies::has_attachments;
use super::users::{self, relink};
use super::{check_length, check_name, insert_within_quota, ok, page, paged, NameRule, GROUP_QUOTA};
use crate::handler::Ctx;
use crate::ids;
use crate::model::Group;
use crate::params::Params;
use crate::store::{Kind, Relation, Tx};
use crate::{Error, Result};

fn group_name<'p>(p: &'p Params, param: &str) -> Result<&'p str> {
    let name = p.required(param)?;
    check_name(param, name, 64, NameRule::Group)?;
    Ok(name)
}

fn load(tx: &mut dyn Tx, account: &str, name: &str) -> Result<Group> {
    tx.get_rec::<Group>(account, name)?.ok_or_else(|| Error::not_exist("Group", format!("The group does not exist: {name}.")))
}

fn render(g: &Group) -> Value {
    json!({ "GroupId": g.id, "GroupName": g.name, "Comments": g.comments, "CreateDate": g.created, "UpdateDate": g.updated })
}

pub fn create_group(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = group_name(p, "GroupName")?;
    check_length("Comments", p.optional("Comments"), 128)?;
    let now = ctx.now();
    let g = Group {
        id: ids::entity_id(),
        name: name.into(),
        comments: p.optional("Comments").unwrap_or_default().into(),
        created: now.clone(),
        updated: now,
    };
    let account = ctx.account().to_string();
    if !insert_within_quota(ctx.tx, &account, name, &g, GROUP_QUOTA)? {
        return Err(Error::already_exists("Group", format!("The group already exists: {name}.")));
    }
    Ok(json!({ "Group": render(&g) }))
}

pub fn get_group(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    let g = load(ctx.tx, &account, group_name(p, "GroupName")?)?;
    Ok(json!({ "Group": render(&g) }))
}

pub fn list_groups(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let pg = page(p, 100)?;
    let account = ctx.account().to_string();
    let groups = ctx.tx.list_rec::<Group>(&account, "", pg.after.as_deref(), pg.max + 1)?;
    let (groups, mut body) = paged(groups, pg.max, |g| g.name.clone());
    body.insert("Groups".into(), json!({ "Group": groups.iter().map(render).collect::<Vec<_>>() }));
    Ok(Value::Object(body))
}

pub fn update_group(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = group_name(p, "GroupName")?;
    check_length("NewComments", p.optional("NewComments"), 128)?;
    if let Some(new) = p.optional("NewGroupName") {
        check_name("NewGroupName", new, 64, NameRule::Group)?;
    }
    let account = ctx.account().to_string();
    let mut g = load(ctx.tx, &account, name)?;
    let old = g.name.clone();
    if let Some(c) = p.get("NewComments") {
        g.comments = c.into();
    }
    g.updated = ctx.now();
    match p.optional("NewGroupName") {
        Some(new) if new != old => {
            g.name = new.into();
            if !super::users::rename_rec(ctx.tx, &account, &old, new, &g)? {
                return Err(Error::already_exists("Group", format!("The group already exists: {new}.")));
            }
            relink(ctx.tx, &account, Relation::Attachment, &format!("group/{old}"), &format!("group/{new}"))?;
            for m in ctx.tx.links_to(Relation::Membership, &account, &old)? {
                ctx.tx.unlink(Relation::Membership, &account, &m.left, &old)?;
                ctx.tx.link(Relation::Membership, &account, &m.left, new, &m.created)?;
            }
        }
        _ => {
            ctx.tx.update_rec(&account, &old, &g)?;
        }
    }
    Ok(json!({ "Group": render(&g) }))
}

pub fn delete_group(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    let g = load(ctx.tx, &account, group_name(p, "GroupName")?)?;
    if !ctx.tx.links_to(Relation::Membership, &account, &g.name)?.is_empty() {
        return Err(Error::delete_conflict(
            "Group.User",
            "The group cannot have any users when you delete it. Remove them first (RemoveUserFromGroup).",
        ));
    }
    if has_attachments(ctx.tx, &account, &format!("group/{}", g.name))? {
        return Err(Error::delete_conflict(
            "Group.Policy",
            "The group cannot have any attached policies when you delete it. Detach them first (DetachPolicyFromGroup).",
        ));
    }
    ctx.tx.delete(Kind::Group, &account, &g.name)?;
    ok()
}

fn member_pair(ctx: &mut Ctx, p: &Params) -> Result<(String, String)> {
    let account = ctx.account().to_string();
    let group = load(ctx.tx, &account, group_name(p, "GroupName")?)?.name;
    let user = users::load(ctx.tx, &account, users::user_name(p, "UserName")?)?.name;
    Ok((user, group))
}

/// How many groups one user may join (RAM's limits page; docs/ram-errors.md).
const MAX_GROUPS_PER_USER: usize = 10;

pub fn add_user_to_group(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let (user, group) = member_pair(ctx, p)?;
    let account = ctx.account().to_string();
    let joined: Vec<String> = ctx.tx.links_from(Relation::Membership, &account, &user)?.into_iter().map(|l| l.right).collect();
    if joined.len() >= MAX_GROUPS_PER_USER && !joined.contains(&group) {
        return Err(Error::limit(
            "User.Group",
            format!("The count of groups the target user joined beyond the current limits: {user} is in {MAX_GROUPS_PER_USER} groups."),
        ));
    }
    let now = ctx.now();
    if !ctx.tx.link(Relation::Membership, &account, &user, &group, &now)? {
        return Err(Error::already_exists("User.Group", format!("The user {user} is already in the group {group}.")));
    }
    ok()
}

pub fn remove_user_from_group(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let (user, group) = member_pair(ctx, p)?;
    let account = ctx.account().to_string();
    if !ctx.tx.unlink(Relation::Membership, &account, &user, &group)? {
        return Err(Error::not_exist("User.Group", format!("The user {user} is not in the group {group}.")));
    }
    ok()
}

pub fn list_groups_for_user(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    let user = users::load(ctx.tx, &account, users::user_name(p, "UserName")?)?.name;
    let mut items = Vec::new();
    for link in ctx.tx.links_from(Relation::Membership, &account, &user)? {
        if let Some(g) = ctx.tx.get_rec::<Group>(&account, &link.right)? {
            items.push(json!({ "GroupId": g.id, "GroupName": g.name, "Comments": g.comments, "JoinDate": link.created }));
        }
    }
    Ok(json!({ "Groups": { "Group": items } }))
}

/// ListUsersForGroup: the members by name, paged like the other lists (`MaxItems` 1..1000).
pub fn list_users_for_group(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let pg = page(p, 1000)?;
    let account = ctx.account().to_string();
    let group = load(ctx.tx, &account, group_name(p, "GroupName")?)?.name;
    let mut members = Vec::new();
    for link in ctx.tx.links_to(Relation::Membership, &account, &group)? {
        if let Some(u) = ctx.tx.get_rec::<crate::model::User>(&account, &link.left)? {
            members.push((u, link.created));
        }
    }
    members.sort_by_key(|(u, _)| u.name.to_ascii_lowercase());
    if let Some(after) = pg.after.as_deref().map(str::to_ascii_lowercase) {
        members.retain(|(u, _)| u.name.to_ascii_lowercase() > after);
    }
    let (members, mut body) = paged(members, pg.max, |(u, _)| u.name.clone());
    let users: Vec<Value> = members
        .iter()
        .map(|(u, joined)| json!({ "UserId": u.id, "UserName": u.name, "DisplayName": u.display_name, "JoinDate": joined }))
        .collect();
    body.insert("Users".into(), json!({ "User": users }));
    Ok(Value::Object(body))
}
