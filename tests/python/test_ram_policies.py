"""Policies: validation, attach/detach, versions, system policies, entities."""

import json

import pytest

import rshelpers as h

OSS_READ = h.policy_doc([h.allow(["oss:Get*", "oss:List*"])])


def _policy(api, doc=OSS_READ, name=None):
    name = name or h.unique_name("pol")
    api.call("CreatePolicy", {"PolicyName": name, "PolicyDocument": doc})
    return name


def _role(api):
    name = h.unique_name("prole")
    api.call("CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": h.ecs_trust_policy()})
    return name


def _user(api):
    name = h.unique_name("puser")
    api.call("CreateUser", {"UserName": name})
    return name


def _group(api):
    name = h.unique_name("pgrp")
    api.call("CreateGroup", {"GroupName": name})
    return name


def _drop_group(api, name):
    """Groups are limited per account (50): tests that create one remove it."""
    for u in h.wrapped_list(api.call("ListUsersForGroup", {"GroupName": name}), "Users", "User"):
        api.call("RemoveUserFromGroup", {"GroupName": name, "UserName": u["UserName"]})
    for p in h.wrapped_list(api.call("ListPoliciesForGroup", {"GroupName": name}), "Policies", "Policy"):
        api.call("DetachPolicyFromGroup", {"GroupName": name, "PolicyName": p["PolicyName"],
                                           "PolicyType": p["PolicyType"]})
    api.call("DeleteGroup", {"GroupName": name})


# -- document validation -----------------------------------------------------------------

MALFORMED = {
    "not-json": "{not json",
    "json-string": json.dumps("policy"),
    "version-2016-10-17": h.policy_doc([h.allow("oss:GetObject")], version="2016-10-17"),
    "no-version": json.dumps({"Statement": [h.allow("oss:GetObject")]}),
    "no-statement": json.dumps({"Version": "1"}),
    "bad-effect": h.policy_doc([{"Effect": "Maybe", "Action": "oss:GetObject", "Resource": "*"}]),
    "no-effect": h.policy_doc([{"Action": "oss:GetObject", "Resource": "*"}]),
    "no-action": h.policy_doc([{"Effect": "Allow", "Resource": "*"}]),
    "no-resource": h.policy_doc([{"Effect": "Allow", "Action": "oss:GetObject"}]),
    "resource-trailing-space": h.SEED_003_BAD_POLICY,
    "unknown-key": h.policy_doc([{"Effect": "Allow", "Action": "oss:GetObject", "Resource": "*",
                                  "Sid2": "x"}]),
    "action-not-string": h.policy_doc([{"Effect": "Allow", "Action": 42, "Resource": "*"}]),
    "bad-condition-operator": h.policy_doc([{"Effect": "Allow", "Action": "oss:GetObject",
                                             "Resource": "*",
                                             "Condition": {"StringSortOfEquals": {"oss:Prefix": "a"}}}]),
}


@pytest.mark.parametrize("doc", list(MALFORMED.values()), ids=list(MALFORMED))
def test_create_policy_malformed(ram, doc):
    h.expect_error(lambda: _policy(ram, doc), code="MalformedPolicyDocument", status=400)


def test_create_policy_version_malformed(ram):
    name = _policy(ram)
    h.expect_error(lambda: ram.call("CreatePolicyVersion", {"PolicyName": name,
                                                            "PolicyDocument": h.SEED_BAD_VERSION_POLICY}),
                   code="MalformedPolicyDocument", status=400)


def _doc_of_length(n):
    base = h.policy_doc([h.allow("oss:GetObject", ["acs:oss:*:*:b/"])])
    pad = n - len(base)
    assert pad > 0
    doc = h.policy_doc([h.allow("oss:GetObject", ["acs:oss:*:*:b/" + "x" * pad])])
    assert len(doc) == n
    return doc


def test_policy_document_length_limit(ram):
    assert _policy(ram, _doc_of_length(6144))
    err = h.expect_error(lambda: _policy(ram, _doc_of_length(6145)), status=400,
                         code={"InvalidParameter.PolicyDocument.Length", "LimitExceeded.Policy.Length"})
    assert err.code.endswith("Length")


def test_valid_policy_forms_accepted(ram):
    docs = [
        # single statement object, string action/resource, NotAction/NotResource, conditions
        h.policy_doc([{"Effect": "Deny", "NotAction": "oss:*", "NotResource": ["acs:oss:*:*:b"]}]),
        h.policy_doc([{"Effect": "Allow", "Action": ["ecs:Describe*", "ram:Get*"], "Resource": ["*"],
                       "Condition": {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]},
                                     "Bool": {"acs:SecureTransport": "true"}}}]),
        h.SEED_OSS_READ_POLICY,
    ]
    for d in docs:
        name = _policy(ram, d)
        got = ram.call("GetPolicy", {"PolicyName": name, "PolicyType": "Custom"})["Policy"]
        assert json.loads(got["PolicyDocument"]) == json.loads(d)


def test_duplicate_policy(ram):
    name = _policy(ram)
    h.expect_error(lambda: _policy(ram, name=name), code="EntityAlreadyExists.Policy", status=409)


@pytest.mark.parametrize("bad", ["bad_name", "bad.name", "bad name"], ids=["underscore", "dot", "space"])
def test_policy_name_invalid_chars(ram, bad):
    h.expect_error(lambda: _policy(ram, name=bad), code="InvalidParameter.PolicyName.InvalidChars",
                   status=400)


def test_policy_name_length(ram):
    ok = ("p" + h.unique_name("l").replace("-", "") + "x" * 128)[:128]
    assert _policy(ram, name=ok) == ok
    h.expect_error(lambda: _policy(ram, name=ok + "y"), code="InvalidParameter.PolicyName.Length",
                   status=400)


def test_create_policy_missing_document(ram):
    err = h.expect_error(lambda: ram.call("CreatePolicy", {"PolicyName": h.unique_name("p")}),
                         code_prefix="Missing", status=400)
    assert "PolicyDocument" in err.code or "PolicyDocument" in err.message


def test_get_missing_policy(ram):
    h.expect_error(lambda: ram.call("GetPolicy", {"PolicyName": h.unique_name("nosuch"),
                                                  "PolicyType": "Custom"}),
                   code="EntityNotExist.Policy", status=404)
    h.expect_error(lambda: ram.call("DeletePolicy", {"PolicyName": h.unique_name("nosuch")}),
                   code="EntityNotExist.Policy", status=404)


def test_invalid_policy_type(ram):
    role = _role(ram)
    h.expect_error(lambda: ram.call("AttachPolicyToRole", {"PolicyType": "Builtin",
                                                           "PolicyName": "AdministratorAccess",
                                                           "RoleName": role}),
                   code="InvalidParameter.PolicyType", status=400)
    h.expect_error(lambda: ram.call("GetPolicy", {"PolicyType": "Builtin",
                                                  "PolicyName": "AdministratorAccess"}),
                   code="InvalidParameter.PolicyType", status=400)


# -- attach / detach -----------------------------------------------------------------------

def test_attach_detach_role(ram):
    role, pol = _role(ram), _policy(ram)
    h.assert_request_id(ram.call("AttachPolicyToRole", {"PolicyType": "Custom", "PolicyName": pol,
                                                        "RoleName": role}))
    h.expect_error(lambda: ram.call("AttachPolicyToRole", {"PolicyType": "Custom", "PolicyName": pol,
                                                           "RoleName": role}),
                   code="EntityAlreadyExists.Role.Policy", status=409)
    h.assert_request_id(ram.call("DetachPolicyFromRole", {"PolicyType": "Custom", "PolicyName": pol,
                                                          "RoleName": role}))
    h.expect_error(lambda: ram.call("DetachPolicyFromRole", {"PolicyType": "Custom", "PolicyName": pol,
                                                             "RoleName": role}),
                   code="EntityNotExist.Role.Policy", status=404)
    assert h.wrapped_list(ram.call("ListPoliciesForRole", {"RoleName": role}), "Policies", "Policy") == []


def test_attach_errors_role(ram):
    role, pol = _role(ram), _policy(ram)
    h.expect_error(lambda: ram.call("AttachPolicyToRole", {"PolicyType": "Custom",
                                                           "PolicyName": h.unique_name("nosuch"),
                                                           "RoleName": role}),
                   code="EntityNotExist.Policy", status=404)
    h.expect_error(lambda: ram.call("AttachPolicyToRole", {"PolicyType": "Custom", "PolicyName": pol,
                                                           "RoleName": h.unique_name("nosuch")}),
                   code="EntityNotExist.Role", status=404)
    # a System policy is not found under PolicyType=Custom
    h.expect_error(lambda: ram.call("AttachPolicyToRole", {"PolicyType": "Custom",
                                                           "PolicyName": "AdministratorAccess",
                                                           "RoleName": role}),
                   code="EntityNotExist.Policy", status=404)
    # and a Custom one is not found under PolicyType=System
    h.expect_error(lambda: ram.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": pol,
                                                           "RoleName": role}),
                   code="EntityNotExist.Policy", status=404)


@pytest.mark.parametrize("kind,make", [("Role", _role), ("User", _user), ("Group", _group)])
def test_attachment_limit(root_api, kind, make):
    """A role, a user or a group holds at most 10 custom policies (and 20 system ones): the 11th
    custom attach is LimitExceeded.<Kind>.Policy; one already held is still EntityAlreadyExists, and
    a System policy still attaches."""
    holder = make(root_api)
    pols = [_policy(root_api) for _ in range(11)]
    attach = lambda pol, ptype="Custom": root_api.call(  # noqa: E731
        f"AttachPolicyTo{kind}", {"PolicyType": ptype, "PolicyName": pol, f"{kind}Name": holder})
    for pol in pols[:10]:
        attach(pol)
    h.expect_error(lambda: attach(pols[10]), code=f"LimitExceeded.{kind}.Policy", status=409)
    h.expect_error(lambda: attach(pols[0]), code=f"EntityAlreadyExists.{kind}.Policy", status=409)
    attach("AliyunOSSReadOnlyAccess", "System")
    root_api.call(f"DetachPolicyFrom{kind}", {"PolicyType": "Custom", "PolicyName": pols[0], f"{kind}Name": holder})
    attach(pols[10])
    held = h.wrapped_list(root_api.call(f"ListPoliciesFor{kind}", {f"{kind}Name": holder}), "Policies", "Policy")
    assert len(held) == 11


def test_attach_detach_user(ram):
    user, pol = _user(ram), _policy(ram)
    ram.call("AttachPolicyToUser", {"PolicyType": "Custom", "PolicyName": pol, "UserName": user})
    h.expect_error(lambda: ram.call("AttachPolicyToUser", {"PolicyType": "Custom", "PolicyName": pol,
                                                           "UserName": user}),
                   code="EntityAlreadyExists.User.Policy", status=409)
    listed = h.wrapped_list(ram.call("ListPoliciesForUser", {"UserName": user}), "Policies", "Policy")
    assert [(p["PolicyName"], p["PolicyType"]) for p in listed] == [(pol, "Custom")]
    h.assert_date(listed[0]["AttachDate"])
    ram.call("DetachPolicyFromUser", {"PolicyType": "Custom", "PolicyName": pol, "UserName": user})
    h.expect_error(lambda: ram.call("DetachPolicyFromUser", {"PolicyType": "Custom", "PolicyName": pol,
                                                             "UserName": user}),
                   code="EntityNotExist.User.Policy", status=404)
    h.expect_error(lambda: ram.call("AttachPolicyToUser", {"PolicyType": "Custom", "PolicyName": pol,
                                                           "UserName": h.unique_name("nosuch")}),
                   code="EntityNotExist.User", status=404)


def test_attach_detach_group(ram):
    grp, pol = _group(ram), _policy(ram)
    try:
        ram.call("AttachPolicyToGroup", {"PolicyType": "Custom", "PolicyName": pol, "GroupName": grp})
        h.expect_error(lambda: ram.call("AttachPolicyToGroup", {"PolicyType": "Custom", "PolicyName": pol,
                                                                "GroupName": grp}),
                       code="EntityAlreadyExists.Group.Policy", status=409)
        listed = h.wrapped_list(ram.call("ListPoliciesForGroup", {"GroupName": grp}), "Policies", "Policy")
        assert [(p["PolicyName"], p["PolicyType"]) for p in listed] == [(pol, "Custom")]
        ram.call("DetachPolicyFromGroup", {"PolicyType": "Custom", "PolicyName": pol, "GroupName": grp})
        h.expect_error(lambda: ram.call("DetachPolicyFromGroup", {"PolicyType": "Custom",
                                                                  "PolicyName": pol, "GroupName": grp}),
                       code="EntityNotExist.Group.Policy", status=404)
        h.expect_error(lambda: ram.call("AttachPolicyToGroup", {"PolicyType": "Custom", "PolicyName": pol,
                                                                "GroupName": h.unique_name("nosuch")}),
                       code="EntityNotExist.Group", status=404)
    finally:
        _drop_group(ram, grp)


def test_list_entities_for_policy(ram):
    pol = _policy(ram)
    role, user, grp = _role(ram), _user(ram), _group(ram)
    try:
        ram.call("AttachPolicyToRole", {"PolicyType": "Custom", "PolicyName": pol, "RoleName": role})
        ram.call("AttachPolicyToUser", {"PolicyType": "Custom", "PolicyName": pol, "UserName": user})
        ram.call("AttachPolicyToGroup", {"PolicyType": "Custom", "PolicyName": pol, "GroupName": grp})
        body = ram.call("ListEntitiesForPolicy", {"PolicyType": "Custom", "PolicyName": pol})
        h.assert_request_id(body)
        roles = h.wrapped_list(body, "Roles", "Role")
        users = h.wrapped_list(body, "Users", "User")
        groups = h.wrapped_list(body, "Groups", "Group")
        assert [r["RoleName"] for r in roles] == [role]
        assert [u["UserName"] for u in users] == [user]
        assert [g["GroupName"] for g in groups] == [grp]
        assert roles[0]["Arn"].lower().endswith(f":role/{role}".lower())
        for e in roles + users + groups:
            h.assert_date(e["AttachDate"])
        assert ram.call("GetPolicy", {"PolicyName": pol, "PolicyType": "Custom"})["Policy"]["AttachmentCount"] == 3

        # DeletePolicy is refused while attached anywhere
        err = h.expect_error(lambda: ram.call("DeletePolicy", {"PolicyName": pol}),
                             code_prefix="DeleteConflict.Policy.", status=409)
        assert err.code in {"DeleteConflict.Policy.User", "DeleteConflict.Policy.Group",
                            "DeleteConflict.Policy.Role"}
    finally:
        _drop_group(ram, grp)
    h.expect_error(lambda: ram.call("ListEntitiesForPolicy", {"PolicyType": "Custom",
                                                              "PolicyName": h.unique_name("nosuch")}),
                   code="EntityNotExist.Policy", status=404)


@pytest.mark.parametrize("entity", ["User", "Group", "Role"])
def test_delete_policy_while_attached(ram, entity):
    pol = _policy(ram)
    make = {"User": _user, "Group": _group, "Role": _role}[entity]
    name = make(ram)
    try:
        ram.call(f"AttachPolicyTo{entity}", {"PolicyType": "Custom", "PolicyName": pol,
                                             f"{entity}Name": name})
        h.expect_error(lambda: ram.call("DeletePolicy", {"PolicyName": pol}),
                       code=f"DeleteConflict.Policy.{entity}", status=409)
        ram.call(f"DetachPolicyFrom{entity}", {"PolicyType": "Custom", "PolicyName": pol,
                                               f"{entity}Name": name})
        h.assert_request_id(ram.call("DeletePolicy", {"PolicyName": pol}))
        h.expect_error(lambda: ram.call("GetPolicy", {"PolicyName": pol, "PolicyType": "Custom"}),
                       code="EntityNotExist.Policy", status=404)
    finally:
        if entity == "Group":
            _drop_group(ram, name)


# -- versions ------------------------------------------------------------------------------

def _version_doc(i):
    return h.policy_doc([h.allow("oss:GetObject", f"acs:oss:*:*:bucket{i}/*")])


def test_policy_versions_lifecycle(ram):
    name = _policy(ram, _version_doc(1))
    for i in range(2, 6):
        body = ram.call("CreatePolicyVersion", {"PolicyName": name, "PolicyDocument": _version_doc(i)})
        h.assert_request_id(body)
        v = body["PolicyVersion"]
        assert v["VersionId"] == f"v{i}"
        assert v["IsDefaultVersion"] is False
        h.assert_date(v["CreateDate"])
    h.expect_error(lambda: ram.call("CreatePolicyVersion", {"PolicyName": name,
                                                            "PolicyDocument": _version_doc(6)}),
                   code="LimitExceeded.Policy.Version", status=409)
    versions = h.wrapped_list(ram.call("ListPolicyVersions", {"PolicyName": name, "PolicyType": "Custom"}),
                              "PolicyVersions", "PolicyVersion")
    assert sorted(v["VersionId"] for v in versions) == ["v1", "v2", "v3", "v4", "v5"]
    assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v1"]

    h.assert_request_id(ram.call("SetDefaultPolicyVersion", {"PolicyName": name, "VersionId": "v3"}))
    got = ram.call("GetPolicy", {"PolicyName": name, "PolicyType": "Custom"})
    assert got["Policy"]["DefaultVersion"] == "v3"
    assert json.loads(got["Policy"]["PolicyDocument"]) == json.loads(_version_doc(3))
    assert ram.call("GetPolicyVersion", {"PolicyName": name, "PolicyType": "Custom",
                                         "VersionId": "v3"})["PolicyVersion"]["IsDefaultVersion"] is True
    assert ram.call("GetPolicyVersion", {"PolicyName": name, "PolicyType": "Custom",
                                         "VersionId": "v1"})["PolicyVersion"]["IsDefaultVersion"] is False

    h.expect_error(lambda: ram.call("DeletePolicyVersion", {"PolicyName": name, "VersionId": "v3"}),
                   code="DeleteConflict.Policy.Version.Default", status=409)
    h.expect_error(lambda: ram.call("DeletePolicy", {"PolicyName": name}),
                   code="DeleteConflict.Policy.Version", status=409)

    h.assert_request_id(ram.call("DeletePolicyVersion", {"PolicyName": name, "VersionId": "v2"}))
    h.expect_error(lambda: ram.call("GetPolicyVersion", {"PolicyName": name, "PolicyType": "Custom",
                                                         "VersionId": "v2"}),
                   code="EntityNotExist.Policy.Version", status=404)
    h.expect_error(lambda: ram.call("SetDefaultPolicyVersion", {"PolicyName": name, "VersionId": "v2"}),
                   code="EntityNotExist.Policy.Version", status=404)
    h.expect_error(lambda: ram.call("DeletePolicyVersion", {"PolicyName": name, "VersionId": "v2"}),
                   code="EntityNotExist.Policy.Version", status=404)

    # room again: a new version (never reusing v2), set as default on creation
    body = ram.call("CreatePolicyVersion", {"PolicyName": name, "PolicyDocument": _version_doc(7),
                                            "SetAsDefault": True})
    new_id = body["PolicyVersion"]["VersionId"]
    assert new_id not in {"v1", "v3", "v4", "v5"}
    assert body["PolicyVersion"]["IsDefaultVersion"] is True
    assert ram.call("GetPolicy", {"PolicyName": name, "PolicyType": "Custom"})["Policy"]["DefaultVersion"] == new_id

    # only the default version left -> DeletePolicy works
    for v in ("v1", "v3", "v4", "v5"):
        ram.call("DeletePolicyVersion", {"PolicyName": name, "VersionId": v})
    h.assert_request_id(ram.call("DeletePolicy", {"PolicyName": name}))


def test_policy_version_rotate_strategy(ram):
    name = _policy(ram, _version_doc(1))
    for i in range(2, 6):
        ram.call("CreatePolicyVersion", {"PolicyName": name, "PolicyDocument": _version_doc(i)})
    ram.call("SetDefaultPolicyVersion", {"PolicyName": name, "VersionId": "v2"})
    body = ram.call("CreatePolicyVersion", {
        "PolicyName": name, "PolicyDocument": _version_doc(6),
        "RotateStrategy": "DeleteOldestNonDefaultVersionWhenLimitExceeded"})
    assert body["PolicyVersion"]["VersionId"] == "v6"
    versions = h.wrapped_list(ram.call("ListPolicyVersions", {"PolicyName": name, "PolicyType": "Custom"}),
                              "PolicyVersions", "PolicyVersion")
    # v1 was the oldest non-default version
    assert sorted(v["VersionId"] for v in versions) == ["v2", "v3", "v4", "v5", "v6"]
    body = ram.call("CreatePolicyVersion", {
        "PolicyName": name, "PolicyDocument": _version_doc(7),
        "RotateStrategy": "DeleteOldestNonDefaultVersionWhenLimitExceeded"})
    versions = h.wrapped_list(ram.call("ListPolicyVersions", {"PolicyName": name, "PolicyType": "Custom"}),
                              "PolicyVersions", "PolicyVersion")
    # v2 is the default, so v3 went
    assert sorted(v["VersionId"] for v in versions) == ["v2", "v4", "v5", "v6", "v7"]


def test_policy_version_id_format(ram):
    name = _policy(ram)
    for bad in ("1", "x1", "v", "v1a"):
        h.expect_error(lambda: ram.call("GetPolicyVersion", {"PolicyName": name, "PolicyType": "Custom",
                                                             "VersionId": bad}),
                       code="InvalidParameter.VersionId.Format", status=400)


def test_policy_version_on_missing_policy(ram):
    h.expect_error(lambda: ram.call("CreatePolicyVersion", {"PolicyName": h.unique_name("nosuch"),
                                                            "PolicyDocument": OSS_READ}),
                   code="EntityNotExist.Policy", status=404)


# -- system policies -----------------------------------------------------------------------

@pytest.mark.parametrize("name", h.SYSTEM_POLICIES)
def test_system_policy_exists(root_api, name):
    body = root_api.call("GetPolicy", {"PolicyName": name, "PolicyType": "System"})
    p = body["Policy"]
    assert p["PolicyName"] == name
    assert p["PolicyType"] == "System"
    assert p["DefaultVersion"]
    doc = json.loads(p["PolicyDocument"])
    assert doc["Version"] == "1" and doc["Statement"]


def test_system_policy_documents(root_api):
    def actions(name):
        doc = json.loads(root_api.call("GetPolicy", {"PolicyName": name,
                                                      "PolicyType": "System"})["Policy"]["PolicyDocument"])
        out = set()
        for st in doc["Statement"]:
            if st["Effect"] == "Allow":
                a = st["Action"]
                out |= set([a] if isinstance(a, str) else a)
        return out

    assert "*" in actions("AdministratorAccess")
    assert "oss:*" in actions("AliyunOSSFullAccess")
    assert {"oss:Get*", "oss:List*"} <= actions("AliyunOSSReadOnlyAccess")
    assert "oss:*" not in actions("AliyunOSSReadOnlyAccess")
    assert "ecs:*" in actions("AliyunECSFullAccess")
    assert "ram:*" in actions("AliyunRAMFullAccess")
    assert {"ram:Get*", "ram:List*"} <= actions("AliyunRAMReadOnlyAccess")
    assert "sts:AssumeRole" in actions("AliyunSTSAssumeRoleAccess")


def test_list_policies_by_type(root_api):
    system = h.list_all(root_api, "ListPolicies", "Policies", "Policy", 100, {"PolicyType": "System"})
    names = [p["PolicyName"] for p in system]
    assert set(h.SYSTEM_POLICIES) <= set(names)
    assert all(p["PolicyType"] == "System" for p in system)
    custom_name = _policy(root_api)
    custom = h.list_all(root_api, "ListPolicies", "Policies", "Policy", 100, {"PolicyType": "Custom"})
    assert custom_name in {p["PolicyName"] for p in custom}
    assert not set(h.SYSTEM_POLICIES) & {p["PolicyName"] for p in custom}
    everything = {p["PolicyName"] for p in h.list_all(root_api, "ListPolicies", "Policies", "Policy", 1000)}
    assert custom_name in everything and set(h.SYSTEM_POLICIES) <= everything


@pytest.mark.parametrize("name", ["AdministratorAccess", "AliyunOSSReadOnlyAccess"])
def test_system_policy_cannot_be_changed(ram, name):
    before = ram.call("GetPolicy", {"PolicyName": name, "PolicyType": "System"})["Policy"]
    for action, params in [
        ("DeletePolicy", {"PolicyName": name}),
        ("CreatePolicyVersion", {"PolicyName": name, "PolicyDocument": OSS_READ}),
        ("SetDefaultPolicyVersion", {"PolicyName": name, "VersionId": before["DefaultVersion"]}),
        ("DeletePolicyVersion", {"PolicyName": name, "VersionId": before["DefaultVersion"]}),
        ("CreatePolicy", {"PolicyName": name, "PolicyDocument": OSS_READ}),
    ]:
        err = h.expect_error(lambda: ram.call(action, params))
        assert 400 <= err.status < 500, err
        assert err.code in {"EntityNotExist.Policy", "EntityAlreadyExists.Policy", "NoPermission",
                            "InvalidParameter.PolicyType"}, err
    after = ram.call("GetPolicy", {"PolicyName": name, "PolicyType": "System"})["Policy"]
    assert after["DefaultVersion"] == before["DefaultVersion"]
    assert json.loads(after["PolicyDocument"]) == json.loads(before["PolicyDocument"])


def test_account_holds_at_most_1500_custom_policies(fresh_server):
    """CreatePolicy past 1500 custom policies: LimitExceeded.Policy (409), however many creates run at
    once (tea V3 client on eight threads racing for the last 50 places; the account filled to 1450
    through `h.fill_account`); docs/ram-errors.md."""
    r = fresh_server.root
    api = h.RpcApi("v3", fresh_server.endpoint, r["AccessKeyId"], r["AccessKeySecret"])
    custom = lambda: h.count_listed(api, "ListPolicies", "Policies", "Policy", PolicyType="Custom")  # noqa: E731
    policy = lambda prefix: lambda i: {"PolicyName": f"{prefix}{i}", "PolicyDocument": OSS_READ}  # noqa: E731
    api = h.fill_account(fresh_server, api, "CreatePolicy", policy("quota-seed"), custom(), 1450, "policy", "PolicyName",
                         companion="policy_version")
    held = custom()
    assert held == 1450
    h.assert_account_quota(api, "CreatePolicy", policy("quota-p"), 1500, held, "LimitExceeded.Policy",
                           lambda p: api.call("DeletePolicy", {"PolicyName": p["PolicyName"]}))
    # a seeded policy is whole: its default version reads back
    assert api.call("GetPolicy", {"PolicyType": "Custom", "PolicyName": "quota-seed7"})["DefaultPolicyVersion"]["VersionId"] == "v1"
