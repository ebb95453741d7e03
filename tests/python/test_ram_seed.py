"""Seed docs 000/003, steps 1-2, through each official client's *typed* API
(request/response model classes), exactly as a user of the SDK would write it."""

import json

import pytest

import rshelpers as h


def _typed_seed_flow(kind, typed_clients, core_request, role, policy):
    """CreateRole + CreatePolicy + AttachPolicyToRole + ListRoles + ListPoliciesForRole +
    GetRole via the typed SDK API; returns plain dicts for the assertions."""
    if kind in ("v3", "v2sig"):
        from alibabacloud_ram20150501 import models as m

        c = typed_clients[kind]
        cr = c.create_role(m.CreateRoleRequest(role_name=role,
                                               assume_role_policy_document=h.SEED_TRUST_POLICY))
        cp = c.create_policy(m.CreatePolicyRequest(policy_name=policy,
                                                   policy_document=h.SEED_OSS_READ_POLICY))
        ap = c.attach_policy_to_role(m.AttachPolicyToRoleRequest(
            policy_type="Custom", policy_name=policy, role_name=role))
        roles = []
        marker = None
        while True:
            lr = c.list_roles(m.ListRolesRequest(max_items=1000, marker=marker))
            roles += [r.role_name for r in lr.body.roles.role]
            if not lr.body.is_truncated:
                break
            marker = lr.body.marker
        lp = c.list_policies_for_role(m.ListPoliciesForRoleRequest(role_name=role))
        gr = c.get_role(m.GetRoleRequest(role_name=role))
        assert cr.status_code == 200 and ap.status_code == 200
        for resp in (cr, cp, ap, lp, gr):
            assert resp.body.request_id
        return {
            "created": cr.body.role.to_map(),
            "policy": cp.body.policy.to_map(),
            "roles": roles,
            "attached": [p.to_map() for p in lp.body.policies.policy],
            "role": gr.body.role.to_map(),
        }

    from aliyunsdkram.request.v20150501 import (AttachPolicyToRoleRequest, CreatePolicyRequest,
                                                CreateRoleRequest, GetRoleRequest,
                                                ListPoliciesForRoleRequest, ListRolesRequest)
    c = typed_clients["core"]

    def do(req):
        body = json.loads(c.do_action_with_exception(core_request(req)))
        assert body.get("RequestId")
        return body

    r = CreateRoleRequest.CreateRoleRequest()
    r.set_RoleName(role)
    r.set_AssumeRolePolicyDocument(h.SEED_TRUST_POLICY)
    cr = do(r)
    r = CreatePolicyRequest.CreatePolicyRequest()
    r.set_PolicyName(policy)
    r.set_PolicyDocument(h.SEED_OSS_READ_POLICY)
    cp = do(r)
    r = AttachPolicyToRoleRequest.AttachPolicyToRoleRequest()
    r.set_PolicyType("Custom")
    r.set_PolicyName(policy)
    r.set_RoleName(role)
    do(r)
    roles = []
    marker = None
    while True:
        r = ListRolesRequest.ListRolesRequest()
        r.set_MaxItems(1000)
        if marker:
            r.set_Marker(marker)
        lr = do(r)
        roles += [x["RoleName"] for x in lr["Roles"]["Role"]]
        if not lr["IsTruncated"]:
            break
        marker = lr["Marker"]
    r = ListPoliciesForRoleRequest.ListPoliciesForRoleRequest()
    r.set_RoleName(role)
    lp = do(r)
    r = GetRoleRequest.GetRoleRequest()
    r.set_RoleName(role)
    gr = do(r)
    return {"created": cr["Role"], "policy": cp["Policy"], "roles": roles,
            "attached": lp["Policies"]["Policy"], "role": gr["Role"]}


def test_seed_create_authorize_role(kind, typed_clients, core_request, account_id):
    role = h.unique_name(f"EcsRamRoleDocumentTesting-{kind}")
    policy = h.unique_name(f"EcsRamRoleDocumentTestingPolicy-{kind}")
    out = _typed_seed_flow(kind, typed_clients, core_request, role, policy)

    created = out["created"]
    assert created["RoleName"] == role
    assert created["Arn"].startswith(f"acs:ram::{account_id}:role/")
    assert created["Arn"].lower() == f"acs:ram::{account_id}:role/{role}".lower()
    assert created["RoleId"] and str(created["RoleId"]).isdigit()
    h.assert_date(created["CreateDate"], "Role.CreateDate")

    assert out["policy"]["PolicyName"] == policy
    assert out["policy"]["PolicyType"] == "Custom"
    assert out["policy"]["DefaultVersion"] == "v1"

    assert out["roles"].count(role) == 1, "ListRoles must list the new role exactly once"

    attached = [p for p in out["attached"] if p["PolicyName"] == policy]
    assert len(attached) == 1, out["attached"]
    assert attached[0]["PolicyType"] == "Custom"
    assert attached[0]["DefaultVersion"] == "v1"
    h.assert_date(attached[0]["AttachDate"], "AttachDate")

    got = out["role"]
    assert got["RoleName"] == role
    assert got["RoleId"] == created["RoleId"]
    assert got["Arn"] == created["Arn"]
    doc = got["AssumeRolePolicyDocument"]
    assert isinstance(doc, str), "AssumeRolePolicyDocument must be a JSON *string*"
    assert json.loads(doc) == json.loads(h.SEED_TRUST_POLICY)


def test_seed_trust_policy_allows_ecs(root_api):
    """The stored trust policy keeps the ECS service principal (what ECS checks later)."""
    role = h.unique_name("EcsRamRoleTest")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.SEED_TRUST_POLICY})
    doc = json.loads(root_api.call("GetRole", {"RoleName": role})["Role"]["AssumeRolePolicyDocument"])
    stmt = doc["Statement"][0]
    assert stmt["Action"] == "sts:AssumeRole"
    assert stmt["Effect"] == "Allow"
    assert stmt["Principal"]["Service"] == ["ecs.aliyuncs.com"]
    assert doc["Version"] == "1"


@pytest.mark.parametrize("doc", [h.SEED_003_BAD_POLICY], ids=["Resource-with-trailing-space"])
def test_seed_003_policy_typo_rejected(ram, doc):
    h.expect_error(lambda: ram.call("CreatePolicy", {"PolicyName": h.unique_name("EcsRamRolePolicyTest"),
                                                     "PolicyDocument": doc}),
                   code="MalformedPolicyDocument", status=400)


def test_seed_003_trust_policy_typo_rejected(ram):
    h.expect_error(lambda: ram.call("CreateRole", {"RoleName": h.unique_name("EcsRamRoleTest"),
                                                   "AssumeRolePolicyDocument": h.SEED_003_BAD_TRUST_POLICY}),
                   code="MalformedPolicyDocument", status=400)


def test_seed_000_step6_version_2016_rejected(ram):
    h.expect_error(lambda: ram.call("CreatePolicy", {"PolicyName": h.unique_name("PassRolePolicy"),
                                                     "PolicyDocument": h.SEED_BAD_VERSION_POLICY}),
                   code="MalformedPolicyDocument", status=400)
