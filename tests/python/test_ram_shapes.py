"""Response field presence and shapes (wire-protocols.md §2), over the three client kinds."""

import json

import rshelpers as h


def test_create_get_role_shape(ram, account_id):
    name = h.unique_name("shape-role")
    body = ram.call("CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": h.ecs_trust_policy(),
                                   "Description": "a role for shapes"})
    h.assert_request_id(body)
    role = body["Role"]
    for k in ("RoleId", "RoleName", "Arn", "Description", "AssumeRolePolicyDocument", "CreateDate",
              "MaxSessionDuration"):
        assert k in role, f"CreateRole.Role.{k} missing: {role}"
    assert isinstance(role["RoleId"], str) and role["RoleId"].isdigit()
    assert role["RoleName"] == name
    assert role["Description"] == "a role for shapes"
    assert role["Arn"].lower() == f"acs:ram::{account_id}:role/{name}".lower()
    assert isinstance(role["AssumeRolePolicyDocument"], str)
    assert json.loads(role["AssumeRolePolicyDocument"]) == json.loads(h.ecs_trust_policy())
    assert role["MaxSessionDuration"] == 3600
    h.assert_date(role["CreateDate"])

    got = ram.call("GetRole", {"RoleName": name})
    h.assert_request_id(got)
    g = got["Role"]
    for k in ("RoleId", "RoleName", "Arn", "Description", "AssumeRolePolicyDocument", "CreateDate",
              "UpdateDate", "MaxSessionDuration"):
        assert k in g, f"GetRole.Role.{k} missing: {g}"
    assert g["RoleId"] == role["RoleId"]
    h.assert_date(g["UpdateDate"])


def test_list_roles_double_wrapped(ram):
    name = h.unique_name("shape-list")
    ram.call("CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": h.ecs_trust_policy()})
    body = ram.call("ListRoles", {"MaxItems": 1000})
    h.assert_request_id(body)
    assert isinstance(body["IsTruncated"], bool)
    roles = h.wrapped_list(body, "Roles", "Role")
    assert roles, "ListRoles returned no roles"
    mine = [r for r in roles if r["RoleName"] == name] or [
        r for r in h.list_all(ram, "ListRoles", "Roles", "Role", 1000) if r["RoleName"] == name]
    assert len(mine) == 1
    for k in ("RoleId", "RoleName", "Arn", "CreateDate"):
        assert k in mine[0]
    h.assert_date(mine[0]["CreateDate"])


def test_empty_lists_are_wrapped_too(ram):
    name = h.unique_name("shape-empty")
    ram.call("CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": h.ecs_trust_policy()})
    body = ram.call("ListPoliciesForRole", {"RoleName": name})
    h.assert_request_id(body)
    assert h.wrapped_list(body, "Policies", "Policy") == []


def test_policy_shapes(ram):
    name = h.unique_name("shape-pol")
    doc = h.policy_doc([h.allow("oss:GetObject", "acs:oss:*:*:bucket/*")])
    body = ram.call("CreatePolicy", {"PolicyName": name, "PolicyDocument": doc,
                                     "Description": "desc with spaces"})
    h.assert_request_id(body)
    p = body["Policy"]
    assert p["PolicyName"] == name
    assert p["PolicyType"] == "Custom"
    assert p["DefaultVersion"] == "v1"
    assert p["Description"] == "desc with spaces"
    h.assert_date(p["CreateDate"])

    got = ram.call("GetPolicy", {"PolicyName": name, "PolicyType": "Custom"})
    h.assert_request_id(got)
    gp = got["Policy"]
    assert gp["PolicyName"] == name
    assert gp["PolicyType"] == "Custom"
    assert gp["DefaultVersion"] == "v1"
    assert isinstance(gp["PolicyDocument"], str)
    assert json.loads(gp["PolicyDocument"]) == json.loads(doc)
    assert isinstance(gp["AttachmentCount"], int) and gp["AttachmentCount"] == 0
    h.assert_date(gp["CreateDate"])
    h.assert_date(gp["UpdateDate"])
    dv = got["DefaultPolicyVersion"]
    assert dv["VersionId"] == "v1"
    assert dv["IsDefaultVersion"] is True

    ver = ram.call("GetPolicyVersion", {"PolicyName": name, "PolicyType": "Custom", "VersionId": "v1"})
    pv = ver["PolicyVersion"]
    assert pv["VersionId"] == "v1" and pv["IsDefaultVersion"] is True
    assert json.loads(pv["PolicyDocument"]) == json.loads(doc)
    h.assert_date(pv["CreateDate"])

    versions = h.wrapped_list(ram.call("ListPolicyVersions", {"PolicyName": name, "PolicyType": "Custom"}),
                              "PolicyVersions", "PolicyVersion")
    assert [v["VersionId"] for v in versions] == ["v1"]


def test_user_and_access_key_shapes(ram):
    name = h.unique_name("shape-user")
    body = ram.call("CreateUser", {"UserName": name, "DisplayName": "Shape User",
                                   "Comments": "c"})
    h.assert_request_id(body)
    u = body["User"]
    assert u["UserName"] == name
    assert u["DisplayName"] == "Shape User"
    assert u["Comments"] == "c"
    assert isinstance(u["UserId"], str) and u["UserId"].isdigit()
    h.assert_date(u["CreateDate"])

    g = ram.call("GetUser", {"UserName": name})["User"]
    assert g["UserId"] == u["UserId"]
    h.assert_date(g["UpdateDate"])

    key = ram.call("CreateAccessKey", {"UserName": name})
    h.assert_request_id(key)
    ak = key["AccessKey"]
    assert ak["Status"] == "Active"
    assert ak["AccessKeyId"] and ak["AccessKeySecret"]
    assert ak["AccessKeyId"] != ak["AccessKeySecret"]
    h.assert_date(ak["CreateDate"])

    keys = h.wrapped_list(ram.call("ListAccessKeys", {"UserName": name}), "AccessKeys", "AccessKey")
    assert [k["AccessKeyId"] for k in keys] == [ak["AccessKeyId"]]
    assert keys[0]["Status"] == "Active"
    assert "AccessKeySecret" not in keys[0], "ListAccessKeys must not reveal secrets"
    h.assert_date(keys[0]["CreateDate"])

    # clean up (DeleteUser needs the key gone first)
    ram.call("DeleteAccessKey", {"UserName": name, "UserAccessKeyId": ak["AccessKeyId"]})
    h.assert_request_id(ram.call("DeleteUser", {"UserName": name}))


def test_group_shapes(ram):
    name = h.unique_name("shape-grp")
    body = ram.call("CreateGroup", {"GroupName": name, "Comments": "team"})
    try:
        g = body["Group"]
        assert g["GroupName"] == name and g["Comments"] == "team"
        h.assert_date(g["CreateDate"])
        got = ram.call("GetGroup", {"GroupName": name})["Group"]
        assert got["GroupName"] == name
        h.assert_date(got["UpdateDate"])
        groups = h.list_all(ram, "ListGroups", "Groups", "Group", 100)
        assert [x["GroupName"] for x in groups].count(name) == 1
        assert h.wrapped_list(ram.call("ListUsersForGroup", {"GroupName": name}), "Users", "User") == []
        assert h.wrapped_list(ram.call("ListPoliciesForGroup", {"GroupName": name}),
                              "Policies", "Policy") == []
    finally:
        ram.call("DeleteGroup", {"GroupName": name})


def test_typed_list_models_parse(typed_clients, core_request):
    """The SDKs' own response models accept our bodies (typed ListRoles/ListPolicies)."""
    from alibabacloud_ram20150501 import models as m
    from aliyunsdkram.request.v20150501 import ListPoliciesRequest

    for kind in ("v3", "v2sig"):
        c = typed_clients[kind]
        lr = c.list_roles(m.ListRolesRequest(max_items=5))
        assert lr.body.request_id
        assert isinstance(lr.body.is_truncated, bool)
        assert len(lr.body.roles.role) <= 5
        lp = c.list_policies(m.ListPoliciesRequest(policy_type="System", max_items=1000))
        names = {p.policy_name for p in lp.body.policies.policy}
        assert set(h.SYSTEM_POLICIES) <= names
        assert all(p.policy_type == "System" for p in lp.body.policies.policy)
    req = ListPoliciesRequest.ListPoliciesRequest()
    req.set_PolicyType("System")
    req.set_MaxItems(1000)
    body = json.loads(typed_clients["core"].do_action_with_exception(core_request(req)))
    assert set(h.SYSTEM_POLICIES) <= {p["PolicyName"] for p in body["Policies"]["Policy"]}
