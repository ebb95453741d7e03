"""Users, access keys, groups and membership, account alias, paging."""

import pytest

import rshelpers as h


def _user(api, **extra):
    name = h.unique_name("user")
    api.call("CreateUser", dict({"UserName": name}, **extra))
    return name


# -- users ---------------------------------------------------------------------------------

def test_user_crud(ram):
    name = _user(ram, DisplayName="Before", Comments="c1")
    h.expect_error(lambda: ram.call("CreateUser", {"UserName": name}),
                   code="EntityAlreadyExists.User", status=409)
    body = ram.call("UpdateUser", {"UserName": name, "NewDisplayName": "After", "NewComments": "c2"})
    h.assert_request_id(body)
    got = ram.call("GetUser", {"UserName": name})["User"]
    assert got["DisplayName"] == "After" and got["Comments"] == "c2"

    new = h.unique_name("renamed")
    ram.call("UpdateUser", {"UserName": name, "NewUserName": new})
    h.expect_error(lambda: ram.call("GetUser", {"UserName": name}), code="EntityNotExist.User", status=404)
    assert ram.call("GetUser", {"UserName": new})["User"]["UserId"] == got["UserId"]

    users = h.list_all(ram, "ListUsers", "Users", "User", 1000)
    names = [u["UserName"] for u in users]
    assert names.count(new) == 1 and name not in names

    h.assert_request_id(ram.call("DeleteUser", {"UserName": new}))
    h.expect_error(lambda: ram.call("DeleteUser", {"UserName": new}), code="EntityNotExist.User", status=404)


def test_update_user_onto_existing_name(ram):
    a, b = _user(ram), _user(ram)
    h.expect_error(lambda: ram.call("UpdateUser", {"UserName": a, "NewUserName": b}),
                   code="EntityAlreadyExists.User", status=409)


@pytest.mark.parametrize("bad", ["bad name", "bad/name", "bad*name"], ids=["space", "slash", "star"])
def test_user_name_invalid_chars(ram, bad):
    h.expect_error(lambda: ram.call("CreateUser", {"UserName": bad}),
                   code="InvalidParameter.UserName.InvalidChars", status=400)


def test_user_name_charset_and_length(ram):
    ok = h.unique_name("a.b_c-d")
    ram.call("CreateUser", {"UserName": ok})
    long_ok = ("u" + h.unique_name("x").replace("-", "") + "z" * 64)[:64]
    ram.call("CreateUser", {"UserName": long_ok})
    h.expect_error(lambda: ram.call("CreateUser", {"UserName": long_ok + "z"}),
                   code="InvalidParameter.UserName.Length", status=400)


def test_user_email_and_mobile_phone_formats(ram):
    """MobilePhone is `<country code>-<number>`, Email an address; other values are refused with
    the `.Format` codes on CreateUser and UpdateUser (`New*`), and an empty New* value clears."""
    name = _user(ram, MobilePhone="86-18600008888", Email="alice@example.com")
    got = ram.call("GetUser", {"UserName": name})["User"]
    assert (got["MobilePhone"], got["Email"]) == ("86-18600008888", "alice@example.com")
    for params, code in (({"MobilePhone": "18600008888"}, "InvalidParameter.MobilePhone.Format"),
                         ({"Email": "not-an-address"}, "InvalidParameter.Email.Format")):
        h.expect_error(lambda: ram.call("CreateUser", dict(params, UserName=h.unique_name("fmt"))), code=code, status=400)
    h.expect_error(lambda: ram.call("UpdateUser", {"UserName": name, "NewMobilePhone": "86 186"}),
                   code="InvalidParameter.NewMobilePhone.Format", status=400)
    h.expect_error(lambda: ram.call("UpdateUser", {"UserName": name, "NewEmail": "alice@"}),
                   code="InvalidParameter.NewEmail.Format", status=400)
    ram.call("UpdateUser", {"UserName": name, "NewMobilePhone": "1-5551234", "NewEmail": "bob@example.org"})
    got = ram.call("GetUser", {"UserName": name})["User"]
    assert (got["MobilePhone"], got["Email"]) == ("1-5551234", "bob@example.org")


def test_user_joins_at_most_ten_groups(root_api):
    """AddUserToGroup: the 11th group is LimitExceeded.User.Group (409); joining one the user is
    already in is still EntityAlreadyExists.User.Group."""
    user = _user(root_api)
    groups = [h.unique_name("cap") for _ in range(11)]
    for g in groups:
        root_api.call("CreateGroup", {"GroupName": g})
    for g in groups[:10]:
        root_api.call("AddUserToGroup", {"UserName": user, "GroupName": g})
    h.expect_error(lambda: root_api.call("AddUserToGroup", {"UserName": user, "GroupName": groups[10]}),
                   code="LimitExceeded.User.Group", status=409)
    h.expect_error(lambda: root_api.call("AddUserToGroup", {"UserName": user, "GroupName": groups[0]}),
                   code="EntityAlreadyExists.User.Group", status=409)
    root_api.call("RemoveUserFromGroup", {"UserName": user, "GroupName": groups[0]})
    root_api.call("AddUserToGroup", {"UserName": user, "GroupName": groups[10]})
    for g in groups[1:]:
        root_api.call("RemoveUserFromGroup", {"UserName": user, "GroupName": g})
    for g in groups:
        root_api.call("DeleteGroup", {"GroupName": g})


@pytest.mark.parametrize("action", ["GetUser", "ListAccessKeys", "CreateAccessKey", "ListGroupsForUser",
                                    "ListPoliciesForUser"])
def test_missing_user(ram, action):
    h.expect_error(lambda: ram.call(action, {"UserName": h.unique_name("nosuch")}),
                   code="EntityNotExist.User", status=404)


def test_create_user_missing_name(ram):
    err = h.expect_error(lambda: ram.call("CreateUser", {"DisplayName": "x"}),
                         code_prefix="Missing", status=400)
    assert "UserName" in err.code or "UserName" in err.message


# -- access keys ---------------------------------------------------------------------------

def test_access_key_lifecycle(ram, api_for, kind):
    user = _user(ram)
    key = ram.call("CreateAccessKey", {"UserName": user})["AccessKey"]
    ak, secret = key["AccessKeyId"], key["AccessKeySecret"]
    ram.call("AttachPolicyToUser", {"PolicyType": "System", "PolicyName": "AliyunRAMReadOnlyAccess",
                                    "UserName": user})
    as_user = api_for(ak, secret, kind)

    # the new key works at once
    assert as_user.call("GetUser", {"UserName": user})["User"]["UserName"] == user

    # Inactive: refused at once
    h.assert_request_id(ram.call("UpdateAccessKey", {"UserName": user, "UserAccessKeyId": ak,
                                                     "Status": "Inactive"}))
    keys = h.wrapped_list(ram.call("ListAccessKeys", {"UserName": user}), "AccessKeys", "AccessKey")
    assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(ak, "Inactive")]
    h.expect_error(lambda: as_user.call("GetUser", {"UserName": user}),
                   code="InvalidAccessKeyId.Inactive", status={400, 403})

    # Active again: accepted again
    ram.call("UpdateAccessKey", {"UserName": user, "UserAccessKeyId": ak, "Status": "Active"})
    assert as_user.call("GetUser", {"UserName": user})["User"]["UserName"] == user

    # Deleted: unknown
    h.assert_request_id(ram.call("DeleteAccessKey", {"UserName": user, "UserAccessKeyId": ak}))
    h.expect_error(lambda: as_user.call("GetUser", {"UserName": user}),
                   code="InvalidAccessKeyId.NotFound", status={400, 403, 404})
    h.expect_error(lambda: ram.call("DeleteAccessKey", {"UserName": user, "UserAccessKeyId": ak}),
                   code="EntityNotExist.User.AccessKey", status=404)
    h.expect_error(lambda: ram.call("UpdateAccessKey", {"UserName": user, "UserAccessKeyId": ak,
                                                        "Status": "Active"}),
                   code="EntityNotExist.User.AccessKey", status=404)


def test_access_key_limit_and_bad_status(ram):
    user = _user(ram)
    k1 = ram.call("CreateAccessKey", {"UserName": user})["AccessKey"]
    k2 = ram.call("CreateAccessKey", {"UserName": user})["AccessKey"]
    assert k1["AccessKeyId"] != k2["AccessKeyId"]
    h.expect_error(lambda: ram.call("CreateAccessKey", {"UserName": user}),
                   code="LimitExceeded.User.AccessKey", status=409)
    h.expect_error(lambda: ram.call("UpdateAccessKey", {"UserName": user,
                                                        "UserAccessKeyId": k1["AccessKeyId"],
                                                        "Status": "Sleeping"}),
                   code_prefix="InvalidParameter", status=400)


def test_root_lists_its_own_access_keys(root_api, root, api_for):
    """ListAccessKeys without UserName lists the caller's own keys — for the account's root too
    (its keys, made through CreateAccessKey without UserName, were never listed); a user's keys
    are not among them, and a deleted root key leaves the list."""
    def listed():
        return {k["AccessKeyId"]: k["Status"] for k in
                h.wrapped_list(root_api.call("ListAccessKeys", {}), "AccessKeys", "AccessKey")}
    before = listed()
    assert before.get(root["AccessKeyId"]) == "Active"
    user = _user(root_api)
    user_key = root_api.call("CreateAccessKey", {"UserName": user})["AccessKey"]["AccessKeyId"]
    new = root_api.call("CreateAccessKey", {})["AccessKey"]
    try:
        root_api.call("UpdateAccessKey", {"UserAccessKeyId": new["AccessKeyId"], "Status": "Inactive"})
        after = listed()
        assert after == {**before, new["AccessKeyId"]: "Inactive"} and user_key not in after
    finally:
        root_api.call("DeleteAccessKey", {"UserAccessKeyId": new["AccessKeyId"]})
    assert listed() == before


def test_access_key_of_another_user(ram):
    a, b = _user(ram), _user(ram)
    k = ram.call("CreateAccessKey", {"UserName": a})["AccessKey"]
    h.expect_error(lambda: ram.call("DeleteAccessKey", {"UserName": b, "UserAccessKeyId": k["AccessKeyId"]}),
                   code="EntityNotExist.User.AccessKey", status=404)


# -- DeleteUser conflicts --------------------------------------------------------------------

def test_delete_user_conflicts(ram):
    user = _user(ram)
    grp = h.unique_name("dgrp")
    ram.call("CreateGroup", {"GroupName": grp})
    try:
        key = ram.call("CreateAccessKey", {"UserName": user})["AccessKey"]
        ram.call("AttachPolicyToUser", {"PolicyType": "System", "PolicyName": "AliyunOSSReadOnlyAccess",
                                        "UserName": user})
        ram.call("AddUserToGroup", {"GroupName": grp, "UserName": user})

        seen = set()
        err = h.expect_error(lambda: ram.call("DeleteUser", {"UserName": user}),
                             code_prefix="DeleteConflict.User.", status=409)
        seen.add(err.code)
        ram.call("DeleteAccessKey", {"UserName": user, "UserAccessKeyId": key["AccessKeyId"]})
        err = h.expect_error(lambda: ram.call("DeleteUser", {"UserName": user}),
                             code={"DeleteConflict.User.Policy", "DeleteConflict.User.Group"}, status=409)
        seen.add(err.code)
        ram.call("DetachPolicyFromUser", {"PolicyType": "System", "PolicyName": "AliyunOSSReadOnlyAccess",
                                          "UserName": user})
        h.expect_error(lambda: ram.call("DeleteUser", {"UserName": user}),
                       code="DeleteConflict.User.Group", status=409)
        assert seen <= {"DeleteConflict.User.AccessKey", "DeleteConflict.User.Policy",
                        "DeleteConflict.User.Group"}
        ram.call("RemoveUserFromGroup", {"GroupName": grp, "UserName": user})
        h.assert_request_id(ram.call("DeleteUser", {"UserName": user}))
    finally:
        ram.call("DeleteGroup", {"GroupName": grp})


@pytest.mark.parametrize("what", ["AccessKey", "Policy", "Group"])
def test_delete_user_each_conflict(root_api, what):
    user = _user(root_api)
    grp = None
    if what == "AccessKey":
        root_api.call("CreateAccessKey", {"UserName": user})
    elif what == "Policy":
        root_api.call("AttachPolicyToUser", {"PolicyType": "System", "PolicyName": "AliyunOSSReadOnlyAccess",
                                             "UserName": user})
    else:
        grp = h.unique_name("cgrp")
        root_api.call("CreateGroup", {"GroupName": grp})
        root_api.call("AddUserToGroup", {"GroupName": grp, "UserName": user})
    try:
        h.expect_error(lambda: root_api.call("DeleteUser", {"UserName": user}),
                       code=f"DeleteConflict.User.{what}", status=409)
    finally:
        if grp:
            root_api.call("RemoveUserFromGroup", {"GroupName": grp, "UserName": user})
            root_api.call("DeleteGroup", {"GroupName": grp})


# -- groups --------------------------------------------------------------------------------

def test_group_lifecycle_and_membership(ram):
    grp = h.unique_name("grp")
    ram.call("CreateGroup", {"GroupName": grp, "Comments": "c1"})
    u1, u2 = _user(ram), _user(ram)
    renamed = None
    try:
        h.expect_error(lambda: ram.call("CreateGroup", {"GroupName": grp}),
                       code="EntityAlreadyExists.Group", status=409)
        h.assert_request_id(ram.call("AddUserToGroup", {"GroupName": grp, "UserName": u1}))
        ram.call("AddUserToGroup", {"GroupName": grp, "UserName": u2})
        h.expect_error(lambda: ram.call("AddUserToGroup", {"GroupName": grp, "UserName": u1}),
                       code="EntityAlreadyExists.User.Group", status=409)
        h.expect_error(lambda: ram.call("AddUserToGroup", {"GroupName": grp,
                                                           "UserName": h.unique_name("nosuch")}),
                       code="EntityNotExist.User", status=404)

        members = h.wrapped_list(ram.call("ListUsersForGroup", {"GroupName": grp}), "Users", "User")
        assert sorted(m["UserName"] for m in members) == sorted([u1, u2])
        for m in members:
            h.assert_date(m["JoinDate"], "JoinDate")
        groups = h.wrapped_list(ram.call("ListGroupsForUser", {"UserName": u1}), "Groups", "Group")
        assert [g["GroupName"] for g in groups] == [grp]
        h.assert_date(groups[0]["JoinDate"], "JoinDate")

        h.expect_error(lambda: ram.call("DeleteGroup", {"GroupName": grp}),
                       code="DeleteConflict.Group.User", status=409)

        renamed = h.unique_name("grp2")
        ram.call("UpdateGroup", {"GroupName": grp, "NewGroupName": renamed, "NewComments": "c2"})
        h.expect_error(lambda: ram.call("GetGroup", {"GroupName": grp}),
                       code="EntityNotExist.Group", status=404)
        got = ram.call("GetGroup", {"GroupName": renamed})["Group"]
        assert got["Comments"] == "c2"
        # membership follows the rename
        groups = h.wrapped_list(ram.call("ListGroupsForUser", {"UserName": u2}), "Groups", "Group")
        assert [g["GroupName"] for g in groups] == [renamed]

        ram.call("RemoveUserFromGroup", {"GroupName": renamed, "UserName": u1})
        h.expect_error(lambda: ram.call("RemoveUserFromGroup", {"GroupName": renamed, "UserName": u1}),
                       code="EntityNotExist.User.Group", status=404)
        ram.call("RemoveUserFromGroup", {"GroupName": renamed, "UserName": u2})

        ram.call("AttachPolicyToGroup", {"PolicyType": "System", "PolicyName": "AliyunOSSReadOnlyAccess",
                                         "GroupName": renamed})
        h.expect_error(lambda: ram.call("DeleteGroup", {"GroupName": renamed}),
                       code="DeleteConflict.Group.Policy", status=409)
        ram.call("DetachPolicyFromGroup", {"PolicyType": "System", "PolicyName": "AliyunOSSReadOnlyAccess",
                                           "GroupName": renamed})
        h.assert_request_id(ram.call("DeleteGroup", {"GroupName": renamed}))
        renamed = "deleted"
        h.expect_error(lambda: ram.call("GetGroup", {"GroupName": grp}), code="EntityNotExist.Group",
                       status=404)
    finally:
        if renamed != "deleted":
            for g in (grp, renamed):
                if not g:
                    continue
                try:
                    for u in (u1, u2):
                        try:
                            ram.call("RemoveUserFromGroup", {"GroupName": g, "UserName": u})
                        except h.ApiError:
                            pass
                    try:
                        ram.call("DetachPolicyFromGroup", {"PolicyType": "System",
                                                           "PolicyName": "AliyunOSSReadOnlyAccess",
                                                           "GroupName": g})
                    except h.ApiError:
                        pass
                    ram.call("DeleteGroup", {"GroupName": g})
                except h.ApiError:
                    pass


@pytest.mark.parametrize("action", ["GetGroup", "DeleteGroup", "ListUsersForGroup",
                                    "ListPoliciesForGroup"])
def test_missing_group(ram, action):
    h.expect_error(lambda: ram.call(action, {"GroupName": h.unique_name("nosuch")}),
                   code="EntityNotExist.Group", status=404)


def test_group_name_invalid(ram):
    h.expect_error(lambda: ram.call("CreateGroup", {"GroupName": "bad name"}),
                   code="InvalidParameter.GroupName.InvalidChars", status=400)
    h.expect_error(lambda: ram.call("CreateGroup", {"GroupName": "g" * 65}),
                   code="InvalidParameter.GroupName.Length", status=400)


# -- account alias -------------------------------------------------------------------------

def test_account_alias(ram, kind):
    body = ram.call("GetAccountAlias")
    h.assert_request_id(body)
    assert "AccountAlias" in body
    alias = f"rolestack-{kind}-{h.unique_name('a')[-6:]}".lower()
    h.assert_request_id(ram.call("SetAccountAlias", {"AccountAlias": alias}))
    assert ram.call("GetAccountAlias")["AccountAlias"] == alias


@pytest.mark.parametrize("bad,code", [
    ("Upper-Case", "InvalidParameter.AccountAlias.Format"),
    ("under_score", "InvalidParameter.AccountAlias.Format"),
    ("-leading", "InvalidParameter.AccountAlias.Format"),
    ("trailing-", "InvalidParameter.AccountAlias.Format"),
    ("double--dash", "InvalidParameter.AccountAlias.Format"),
    ("ab", "InvalidParameter.AccountAlias.Length"),
    ("a" * 65, "InvalidParameter.AccountAlias.Length"),
])
def test_account_alias_invalid(root_api, bad, code):
    before = root_api.call("GetAccountAlias")["AccountAlias"]
    h.expect_error(lambda: root_api.call("SetAccountAlias", {"AccountAlias": bad}), code=code, status=400)
    assert root_api.call("GetAccountAlias")["AccountAlias"] == before


# -- paging --------------------------------------------------------------------------------

@pytest.mark.parametrize("what", ["Roles", "Users", "Policies"])
def test_paging(ram, what):
    prefix = h.unique_name(f"page{what[:3]}")
    names = [f"{prefix}-{i}" for i in range(5)]
    for n in names:
        if what == "Roles":
            ram.call("CreateRole", {"RoleName": n, "AssumeRolePolicyDocument": h.ecs_trust_policy()})
        elif what == "Users":
            ram.call("CreateUser", {"UserName": n})
        else:
            ram.call("CreatePolicy", {"PolicyName": n, "PolicyDocument": h.policy_doc([h.allow("oss:Get*")])})
    action = f"List{what}"
    inner = {"Roles": "Role", "Users": "User", "Policies": "Policy"}[what]
    name_key = {"Roles": "RoleName", "Users": "UserName", "Policies": "PolicyName"}[what]
    extra = {"PolicyType": "Custom"} if what == "Policies" else {}

    first = ram.call(action, dict(extra, MaxItems=2))
    assert len(h.wrapped_list(first, what, inner)) == 2
    assert first["IsTruncated"] is True and first["Marker"]

    items = h.list_all(ram, action, what, inner, max_items=2, extra=extra)
    seen = [i[name_key] for i in items]
    assert len(seen) == len(set(seen)), f"{action} paging returned duplicates"
    for n in names:
        assert seen.count(n) == 1, f"{n} missing from paged {action}"
    # one page with everything gives the same set
    everything = h.list_all(ram, action, what, inner, max_items=1000, extra=extra)
    assert sorted(seen) == sorted(i[name_key] for i in everything)


@pytest.mark.parametrize("action", ["ListRoles", "ListUsers", "ListPolicies"])
@pytest.mark.parametrize("value", [0, 1001, "abc"])
def test_paging_bad_max_items(ram, action, value):
    h.expect_error(lambda: ram.call(action, {"MaxItems": value}), code_prefix="InvalidParameter",
                   status=400)


# -- account-wide quotas (docs/ram-errors.md) -----------------------------------------------

@pytest.mark.parametrize("value", [0, 101])
def test_list_groups_pages_of_at_most_100(ram, value):
    h.expect_error(lambda: ram.call("ListGroups", {"MaxItems": value}), code="InvalidParameter.MaxItems", status=400)
    assert ram.call("ListGroups", {"MaxItems": 100})["IsTruncated"] in (True, False)


@pytest.mark.parametrize("action", ["ListUsers", "ListRoles", "ListPolicies", "ListGroups"])
@pytest.mark.parametrize("marker", ["bogus", "zzzz", "pg-user-0"])
def test_a_marker_this_service_did_not_return_is_refused(ram, action, marker):
    """Markers are opaque, as RAM's are: a name or any other made-up value is not one."""
    h.expect_error(lambda: ram.call(action, {"Marker": marker}), code="InvalidParameter.Marker", status=400)


def test_list_users_for_group_pages(ram):
    group = h.unique_name("pg")
    ram.call("CreateGroup", {"GroupName": group})
    members = sorted(h.unique_name(f"m{i}") for i in range(3))
    for m in members:
        ram.call("CreateUser", {"UserName": m})
        ram.call("AddUserToGroup", {"UserName": m, "GroupName": group})
    first = ram.call("ListUsersForGroup", {"GroupName": group, "MaxItems": 2})
    assert first["IsTruncated"] is True and len(h.wrapped_list(first, "Users", "User")) == 2
    seen = [u["UserName"] for u in h.list_all(ram, "ListUsersForGroup", "Users", "User", max_items=1,
                                               extra={"GroupName": group})]
    assert seen == members
    h.expect_error(lambda: ram.call("ListUsersForGroup", {"GroupName": group, "MaxItems": 1001}),
                   code="InvalidParameter.MaxItems", status=400)


def test_a_rename_that_changes_only_the_case(ram):
    """Names are compared without case, so a case-only rename is the entity's own name, not a conflict."""
    user, group = h.unique_name("Case"), h.unique_name("Grp")
    ram.call("CreateUser", {"UserName": user})
    ram.call("CreateGroup", {"GroupName": group})
    ram.call("AddUserToGroup", {"UserName": user, "GroupName": group})
    ram.call("CreateAccessKey", {"UserName": user})
    assert ram.call("UpdateUser", {"UserName": user, "NewUserName": user.lower()})["User"]["UserName"] == user.lower()
    assert ram.call("UpdateGroup", {"GroupName": group, "NewGroupName": group.lower()})["Group"]["GroupName"] == group.lower()
    assert ram.call("GetUser", {"UserName": user})["User"]["UserName"] == user.lower()
    assert [u["UserName"] for u in h.wrapped_list(ram.call("ListUsersForGroup", {"GroupName": group}), "Users", "User")] == [user.lower()]
    assert len(h.wrapped_list(ram.call("ListAccessKeys", {"UserName": user.lower()}), "AccessKeys", "AccessKey")) == 1


def test_update_checks_its_parameters_before_the_entity(ram):
    missing = h.unique_name("nobody")
    for params, code in [
        ({"NewMaxSessionDuration": 1}, "InvalidParameter.NewMaxSessionDuration"),
        ({"NewDescription": "d" * 1025}, "InvalidParameter.NewDescription.Length"),
        ({"NewAssumeRolePolicyDocument": "nope"}, "MalformedPolicyDocument"),
    ]:
        h.expect_error(lambda: ram.call("UpdateRole", dict(params, RoleName=missing)), code_prefix=code, status=400)
    h.expect_error(lambda: ram.call("UpdateUser", {"UserName": missing, "NewUserName": "a b"}),
                   code_prefix="InvalidParameter.NewUserName", status=400)
    h.expect_error(lambda: ram.call("UpdateGroup", {"GroupName": missing, "NewGroupName": "a b"}),
                   code_prefix="InvalidParameter.NewGroupName", status=400)
    h.expect_error(lambda: ram.call("UpdateRole", {"RoleName": missing, "NewDescription": "fine"}),
                   code="EntityNotExist.Role", status=404)


def test_account_holds_at_most_300_groups(fresh_server):
    """CreateGroup past 300 groups: LimitExceeded.Group (409), however many creates run at once
    (aliyun-python-sdk-core CommonRequest on eight threads)."""
    r = fresh_server.root
    api = h.RpcApi("core", fresh_server.endpoint, r["AccessKeyId"], r["AccessKeySecret"])
    held = h.count_listed(api, "ListGroups", "Groups", "Group")
    h.assert_account_quota(api, "CreateGroup", lambda i: {"GroupName": f"quota-g{i}"}, 300, held,
                           "LimitExceeded.Group", lambda p: api.call("DeleteGroup", p))


def test_account_holds_at_most_5000_users(fresh_server):
    """CreateUser past 5000 users: LimitExceeded.User (409), with the tea V3 client on eight threads
    racing for the last 50 places (the account filled to 4950 through `h.fill_account`)."""
    r = fresh_server.root
    api = h.RpcApi("v3", fresh_server.endpoint, r["AccessKeyId"], r["AccessKeySecret"])
    seed = lambda i: {"UserName": f"quota-seed{i}"}  # noqa: E731
    api = h.fill_account(fresh_server, api, "CreateUser", seed, h.count_listed(api, "ListUsers", "Users", "User"),
                         4950, "user", "UserName")
    held = h.count_listed(api, "ListUsers", "Users", "User")
    assert held == 4950
    h.assert_account_quota(api, "CreateUser", lambda i: {"UserName": f"quota-u{i}"}, 5000, held,
                           "LimitExceeded.User", lambda p: api.call("DeleteUser", p))
