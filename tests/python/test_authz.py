"""RAM authorization of RAM users: implicit deny, system/custom policies, groups,
explicit Deny, resource scoping, default-version switches."""

import pytest

import rshelpers as h


def _denied(api, action, params=None):
    err = h.expect_error(lambda: api.call(action, params or {}), code="NoPermission", status=403)
    assert f"ram:{action}" in err.message, f"NoPermission message should name ram:{action}: {err.message!r}"
    return err


def test_user_without_policies_is_denied(kind, ram_user, api_for):
    _, ak, sk = ram_user()
    api = api_for(ak, sk, kind)
    _denied(api, "ListRoles")
    _denied(api, "CreateRole", {"RoleName": h.unique_name("r"),
                                "AssumeRolePolicyDocument": h.ecs_trust_policy()})


def test_read_only_policy_on_user(kind, ram_user, api_for, root_api):
    user, ak, sk = ram_user()
    api = api_for(ak, sk, kind)
    _denied(api, "ListRoles")
    root_api.call("AttachPolicyToUser", {"PolicyType": "System", "PolicyName": "AliyunRAMReadOnlyAccess",
                                         "UserName": user})
    body = api.call("ListRoles", {"MaxItems": 5})
    h.wrapped_list(body, "Roles", "Role")
    assert api.call("GetUser", {"UserName": user})["User"]["UserName"] == user
    role = h.unique_name("denied")
    _denied(api, "CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.ecs_trust_policy()})
    h.expect_error(lambda: root_api.call("GetRole", {"RoleName": role}), code="EntityNotExist.Role")
    # detaching takes effect at once
    root_api.call("DetachPolicyFromUser", {"PolicyType": "System", "PolicyName": "AliyunRAMReadOnlyAccess",
                                           "UserName": user})
    _denied(api, "ListRoles")


def test_policy_via_group(kind, ram_user, api_for, root_api):
    grp = h.unique_name("readers")
    root_api.call("CreateGroup", {"GroupName": grp})
    user, ak, sk = ram_user()
    try:
        api = api_for(ak, sk, kind)
        root_api.call("AttachPolicyToGroup", {"PolicyType": "System", "PolicyName": "AliyunRAMReadOnlyAccess",
                                              "GroupName": grp})
        _denied(api, "ListRoles")
        root_api.call("AddUserToGroup", {"GroupName": grp, "UserName": user})
        h.wrapped_list(api.call("ListRoles", {"MaxItems": 5}), "Roles", "Role")
        _denied(api, "CreateUser", {"UserName": h.unique_name("nope")})
        root_api.call("RemoveUserFromGroup", {"GroupName": grp, "UserName": user})
        _denied(api, "ListRoles")
    finally:
        root_api.call("DetachPolicyFromGroup", {"PolicyType": "System",
                                                "PolicyName": "AliyunRAMReadOnlyAccess", "GroupName": grp})
        root_api.call("DeleteGroup", {"GroupName": grp})


def test_explicit_deny_beats_allow(kind, ram_user, api_for, root_api):
    pol = h.unique_name("deny-listroles")
    root_api.call("CreatePolicy", {"PolicyName": pol,
                                   "PolicyDocument": h.policy_doc([h.deny("ram:ListRoles")])})
    user, ak, sk = ram_user(policies=["AliyunRAMFullAccess", pol])
    api = api_for(ak, sk, kind)
    err = _denied(api, "ListRoles")
    assert err.status == 403
    # everything else the Allow grants still works
    h.wrapped_list(api.call("ListUsers", {"MaxItems": 5}), "Users", "User")
    name = h.unique_name("allowed")
    api.call("CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": h.ecs_trust_policy()})
    assert root_api.call("GetRole", {"RoleName": name})["Role"]["RoleName"] == name


def test_deny_via_group_beats_user_allow(ram_user, api_for, root_api):
    grp = h.unique_name("deniers")
    pol = h.unique_name("deny-ram-get")
    root_api.call("CreatePolicy", {"PolicyName": pol, "PolicyDocument": h.policy_doc([h.deny("ram:Get*")])})
    root_api.call("CreateGroup", {"GroupName": grp})
    try:
        root_api.call("AttachPolicyToGroup", {"PolicyType": "Custom", "PolicyName": pol, "GroupName": grp})
        user, ak, sk = ram_user(policies=["AdministratorAccess"], groups=[grp])
        api = api_for(ak, sk)
        _denied(api, "GetUser", {"UserName": user})
        h.wrapped_list(api.call("ListUsers", {"MaxItems": 5}), "Users", "User")
        root_api.call("RemoveUserFromGroup", {"GroupName": grp, "UserName": user})
        assert api.call("GetUser", {"UserName": user})["User"]["UserName"] == user
    finally:
        root_api.call("DetachPolicyFromGroup", {"PolicyType": "Custom", "PolicyName": pol, "GroupName": grp})
        root_api.call("DeleteGroup", {"GroupName": grp})


def test_resource_scoped_policy(ram_user, api_for, root_api, account_id):
    mine, other = h.unique_name("mine"), h.unique_name("other")
    for r in (mine, other):
        root_api.call("CreateRole", {"RoleName": r, "AssumeRolePolicyDocument": h.ecs_trust_policy()})
    pol = h.unique_name("get-one-role")
    root_api.call("CreatePolicy", {"PolicyName": pol, "PolicyDocument": h.policy_doc(
        [h.allow("ram:GetRole", f"acs:ram:*:{account_id}:role/{mine}")])})
    _, ak, sk = ram_user(policies=[pol])
    api = api_for(ak, sk)
    assert api.call("GetRole", {"RoleName": mine})["Role"]["RoleName"] == mine
    _denied(api, "GetRole", {"RoleName": other})
    _denied(api, "ListRoles")


def test_wildcard_actions(ram_user, api_for, root_api):
    pol = h.unique_name("list-star")
    root_api.call("CreatePolicy", {"PolicyName": pol,
                                   "PolicyDocument": h.policy_doc([h.allow("ram:List*")])})
    user, ak, sk = ram_user(policies=[pol])
    api = api_for(ak, sk)
    h.wrapped_list(api.call("ListRoles", {"MaxItems": 1}), "Roles", "Role")
    h.wrapped_list(api.call("ListPolicies", {"MaxItems": 1}), "Policies", "Policy")
    _denied(api, "GetUser", {"UserName": user})


def test_default_version_switch_changes_authorization(ram_user, api_for, root_api):
    pol = h.unique_name("versioned")
    root_api.call("CreatePolicy", {"PolicyName": pol,
                                   "PolicyDocument": h.policy_doc([h.allow("ram:ListRoles")])})
    _, ak, sk = ram_user(policies=[pol])
    api = api_for(ak, sk)
    h.wrapped_list(api.call("ListRoles", {"MaxItems": 1}), "Roles", "Role")
    root_api.call("CreatePolicyVersion", {"PolicyName": pol, "SetAsDefault": True,
                                          "PolicyDocument": h.policy_doc([h.allow("ram:ListUsers")])})
    _denied(api, "ListRoles")
    h.wrapped_list(api.call("ListUsers", {"MaxItems": 1}), "Users", "User")
    root_api.call("SetDefaultPolicyVersion", {"PolicyName": pol, "VersionId": "v1"})
    h.wrapped_list(api.call("ListRoles", {"MaxItems": 1}), "Roles", "Role")
    _denied(api, "ListUsers")


def test_user_cannot_manage_own_keys_without_permission(ram_user, api_for):
    user, ak, sk = ram_user()
    api = api_for(ak, sk)
    _denied(api, "CreateAccessKey", {"UserName": user})
    _denied(api, "ListAccessKeys", {"UserName": user})


@pytest.mark.parametrize("policy", ["AliyunOSSFullAccess", "AliyunECSFullAccess", "AliyunSTSAssumeRoleAccess"])
def test_other_products_policies_grant_no_ram(ram_user, api_for, policy):
    _, ak, sk = ram_user(policies=[policy])
    _denied(api_for(ak, sk), "ListRoles")


def test_ram_full_access_allows_writes(ram_user, api_for, root_api):
    _, ak, sk = ram_user(policies=["AliyunRAMFullAccess"])
    api = api_for(ak, sk)
    name = h.unique_name("by-user")
    api.call("CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": h.ecs_trust_policy()})
    api.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunOSSReadOnlyAccess",
                                    "RoleName": name})
    listed = h.wrapped_list(root_api.call("ListPoliciesForRole", {"RoleName": name}), "Policies", "Policy")
    assert [p["PolicyName"] for p in listed] == ["AliyunOSSReadOnlyAccess"]
