"""Role lifecycle and every role error (docs/ram-errors.md), over the three client kinds."""

import json

import pytest

import rshelpers as h


def _create_role(api, name=None, **extra):
    name = name or h.unique_name("role")
    api.call("CreateRole", dict({"RoleName": name, "AssumeRolePolicyDocument": h.ecs_trust_policy()},
                                **extra))
    return name


def test_duplicate_role(ram):
    name = _create_role(ram)
    h.expect_error(lambda: _create_role(ram, name), code="EntityAlreadyExists.Role", status=409)


@pytest.mark.parametrize("action,extra", [
    ("GetRole", {}),
    ("DeleteRole", {}),
    ("UpdateRole", {"NewDescription": "x"}),
    ("ListPoliciesForRole", {}),
])
def test_missing_role(ram, action, extra):
    h.expect_error(lambda: ram.call(action, dict({"RoleName": h.unique_name("nosuchrole")}, **extra)),
                   code="EntityNotExist.Role", status=404)


def test_delete_role_with_attached_policy(ram):
    name = _create_role(ram)
    ram.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunOSSReadOnlyAccess",
                                    "RoleName": name})
    err = h.expect_error(lambda: ram.call("DeleteRole", {"RoleName": name}),
                         code="DeleteConflict.Role.Policy", status=409)
    assert err.message
    # still there
    assert ram.call("GetRole", {"RoleName": name})["Role"]["RoleName"] == name
    ram.call("DetachPolicyFromRole", {"PolicyType": "System", "PolicyName": "AliyunOSSReadOnlyAccess",
                                      "RoleName": name})
    h.assert_request_id(ram.call("DeleteRole", {"RoleName": name}))
    h.expect_error(lambda: ram.call("GetRole", {"RoleName": name}), code="EntityNotExist.Role", status=404)


@pytest.mark.parametrize("bad", ["bad name", "bad_name", "bad/name", "bad*name", "名字"],
                         ids=["space", "underscore", "slash", "star", "cjk"])
def test_role_name_invalid_chars(ram, bad):
    h.expect_error(lambda: _create_role(ram, bad), code="InvalidParameter.RoleName.InvalidChars", status=400)


def test_role_name_length(ram):
    ok = ("r" + h.unique_name("len").replace("-", "") + "x" * 64)[:64]
    assert len(ok) == 64
    assert _create_role(ram, ok) == ok
    h.expect_error(lambda: _create_role(ram, ok + "y"), code="InvalidParameter.RoleName.Length", status=400)


def test_role_name_with_dot_and_dash_is_valid(ram):
    name = h.unique_name("a.b-c")
    assert _create_role(ram, name) == name


@pytest.mark.parametrize("missing", ["RoleName", "AssumeRolePolicyDocument"])
def test_create_role_missing_parameter(ram, missing):
    params = {"RoleName": h.unique_name("r"), "AssumeRolePolicyDocument": h.ecs_trust_policy()}
    del params[missing]
    err = h.expect_error(lambda: ram.call("CreateRole", params), code_prefix="Missing", status=400)
    assert missing in err.code or missing in err.message, err


@pytest.mark.parametrize("doc", [
    "not json",
    "[]",
    json.dumps({"Version": "1"}),
    json.dumps({"Version": "2", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                                "Principal": {"Service": ["ecs.aliyuncs.com"]}}]}),
    json.dumps({"Version": "1", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow"}]}),
    json.dumps({"Version": "1", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Perhaps",
                                                "Principal": {"Service": ["ecs.aliyuncs.com"]}}]}),
], ids=["not-json", "array", "no-statement", "version-2", "no-principal", "bad-effect"])
def test_malformed_trust_policy(ram, doc):
    h.expect_error(lambda: ram.call("CreateRole", {"RoleName": h.unique_name("r"),
                                                   "AssumeRolePolicyDocument": doc}),
                   code="MalformedPolicyDocument", status=400)


def test_update_role(ram, account_id):
    name = _create_role(ram, Description="before")
    new_doc = h.account_trust_policy(account_id)
    body = ram.call("UpdateRole", {"RoleName": name, "NewDescription": "after",
                                   "NewAssumeRolePolicyDocument": new_doc,
                                   "NewMaxSessionDuration": 7200})
    h.assert_request_id(body)
    assert body["Role"]["RoleName"] == name
    got = ram.call("GetRole", {"RoleName": name})["Role"]
    assert got["Description"] == "after"
    assert got["MaxSessionDuration"] == 7200
    assert json.loads(got["AssumeRolePolicyDocument"]) == json.loads(new_doc)


def test_update_role_malformed_policy_keeps_old(ram):
    name = _create_role(ram)
    h.expect_error(lambda: ram.call("UpdateRole", {"RoleName": name,
                                                   "NewAssumeRolePolicyDocument": "{oops"}),
                   code="MalformedPolicyDocument", status=400)
    got = ram.call("GetRole", {"RoleName": name})["Role"]
    assert json.loads(got["AssumeRolePolicyDocument"]) == json.loads(h.ecs_trust_policy())


@pytest.mark.parametrize("value", [100, 3599, 43201])
def test_max_session_duration_range(ram, value):
    h.expect_error(lambda: _create_role(ram, MaxSessionDuration=value),
                   code_prefix="InvalidParameter", status=400)


def test_max_session_duration_bounds_accepted(ram):
    for value in (3600, 43200):
        name = _create_role(ram, MaxSessionDuration=value)
        assert ram.call("GetRole", {"RoleName": name})["Role"]["MaxSessionDuration"] == value


def test_description_roundtrip_unicode_and_spaces(ram):
    desc = "Ünïcødé + spaces & symbols: =?/*~'\" 中文"
    name = _create_role(ram, Description=desc)
    assert ram.call("GetRole", {"RoleName": name})["Role"]["Description"] == desc


def test_description_too_long(ram):
    h.expect_error(lambda: _create_role(ram, Description="d" * 1025),
                   code="InvalidParameter.Description.Length", status=400)


def test_account_holds_at_most_1000_roles(fresh_server):
    """CreateRole past 1000 roles: LimitExceeded.Role (409), however many creates run at once
    (tea V1-signed client on eight threads racing for the last 50 places; the account filled to 950
    through `h.fill_account`); docs/ram-errors.md."""
    r = fresh_server.root
    api = h.RpcApi("v2sig", fresh_server.endpoint, r["AccessKeyId"], r["AccessKeySecret"])
    trust = h.policy_doc([{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": ["ecs.aliyuncs.com"]}}])
    role = lambda prefix: lambda i: {"RoleName": f"{prefix}{i}", "AssumeRolePolicyDocument": trust}  # noqa: E731
    api = h.fill_account(fresh_server, api, "CreateRole", role("quota-seed"), h.count_listed(api, "ListRoles", "Roles", "Role"),
                         950, "role", "RoleName")
    held = h.count_listed(api, "ListRoles", "Roles", "Role")
    assert held == 950
    h.assert_account_quota(api, "CreateRole", role("quota-r"), 1000, held, "LimitExceeded.Role",
                           lambda p: api.call("DeleteRole", {"RoleName": p["RoleName"]}))
