"""Instance RAM roles (seeds 000/001/003): create the role and its policy with the RAM SDK, then give
it to a VPC instance both ways (CreateInstance with RamRoleName, AttachInstanceRamRole to an existing
instance), describe and detach it — with the typed alibabacloud_ecs20140526 client (V3 and V1
signing), aliyunsdkecs request classes and the generic caller. ECS's rules: VPC instances only, one
role per instance, the role must exist and trust ecs.aliyuncs.com, instances must exist, InstanceIds
is a JSON array; and the PassRole rule for RAM users and role sessions."""

import json

import pytest

import rshelpers as h

REGION = h.ECS_REGION

# Seed 000 step 6 / seed 003 step 2, corrected: Version "1", no space after "ecs:", the
# "[ECS RAM Action]" placeholder dropped.
SEED_PASSROLE_POLICY = json.dumps({
    "Version": "1",
    "Statement": [
        {"Effect": "Allow", "Action": ["ecs:CreateInstance", "ecs:AttachInstanceRamRole", "ecs:DetachInstanceRAMRole"], "Resource": "*"},
        {"Effect": "Allow", "Action": "ram:PassRole", "Resource": "*"},
    ],
})


@pytest.fixture(scope="module")
def vsw(root_ecs):
    return h.ecs_network(root_ecs, "192.168.0.0/16", "192.168.10.0/24", "cn-hangzhou-g")[1]


def _make_role(root_api, trust=h.SEED_TRUST_POLICY, prefix="EcsRamRoleTest"):
    """Seed 000/003 step 1: CreateRole + CreatePolicy + AttachPolicyToRole (RAM SDK)."""
    name = h.unique_name(prefix)
    policy = name + "Policy"
    root_api.call("CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": trust})
    root_api.call("CreatePolicy", {"PolicyName": policy, "PolicyDocument": h.SEED_OSS_READ_POLICY})
    root_api.call("AttachPolicyToRole", {"PolicyType": "Custom", "PolicyName": policy, "RoleName": name})
    return name, policy


def _drop_role(root_api, name, policy):
    for action, params in (("DetachPolicyFromRole", {"PolicyType": "Custom", "PolicyName": policy, "RoleName": name}),
                           ("DeletePolicy", {"PolicyName": policy}), ("DeleteRole", {"RoleName": name})):
        try:
            root_api.call(action, params)
        except h.ApiError:
            pass


@pytest.fixture
def role(root_api):
    name, policy = _make_role(root_api)
    yield name
    _drop_role(root_api, name, policy)


@pytest.fixture
def other_role(root_api):
    name, policy = _make_role(root_api, prefix="EcsOtherRole")
    yield name
    _drop_role(root_api, name, policy)


@pytest.fixture
def non_ecs_role(root_api, account_id):
    """A role that trusts the account, not ECS."""
    name, policy = _make_role(root_api, trust=h.account_trust_policy(account_id), prefix="NotEcsRole")
    yield name
    _drop_role(root_api, name, policy)


@pytest.fixture
def instance(root_ecs, vsw):
    iid = h.ecs_instance(root_ecs, vsw)
    yield iid
    try:
        root_ecs.call("DeleteInstance", {"InstanceId": iid, "Force": True})
    except h.ApiError:
        pass


@pytest.fixture
def classic_instance(root_ecs):
    iid = h.ecs_instance(root_ecs)
    yield iid
    root_ecs.call("DeleteInstance", {"InstanceId": iid, "Force": True})


def ids(*instance_ids):
    return json.dumps(list(instance_ids))


def roles_of(api, *instance_ids, **extra):
    params = {"RegionId": REGION, "InstanceIds": ids(*instance_ids)} if instance_ids else {"RegionId": REGION}
    params.update(extra)
    body = api.call("DescribeInstanceRamRole", params)
    sets = h.wrapped_list(body, "InstanceRamRoleSets", "InstanceRamRoleSet")
    assert body["RegionId"] == REGION and body["TotalCount"] >= len(sets)
    return {s["InstanceId"]: s["RamRoleName"] for s in sets}


def attach(api, role_name, *instance_ids, **extra):
    return api.call("AttachInstanceRamRole", dict({"RegionId": REGION, "RamRoleName": role_name, "InstanceIds": ids(*instance_ids)}, **extra))


# -- seed 003 step 2, both ways ---------------------------------------------------------------------

def test_seed_role_setup_with_typed_ram_sdk(ram_v3):
    """Step 1 exactly as the seeds do it, with the typed RAM client."""
    from alibabacloud_ram20150501 import models as rm
    name = h.unique_name("EcsRamRoleDocumentTesting")
    policy = name + "Policy"
    h.tea_call(lambda: ram_v3.create_role(rm.CreateRoleRequest(role_name=name, assume_role_policy_document=h.SEED_TRUST_POLICY)))
    h.tea_call(lambda: ram_v3.create_policy(rm.CreatePolicyRequest(policy_name=policy, policy_document=h.SEED_OSS_READ_POLICY)))
    h.tea_call(lambda: ram_v3.attach_policy_to_role(rm.AttachPolicyToRoleRequest(policy_type="Custom", policy_name=policy, role_name=name)))
    got = h.tea_call(lambda: ram_v3.get_role(rm.GetRoleRequest(role_name=name))).body.role
    assert json.loads(got.assume_role_policy_document)["Statement"][0]["Principal"]["Service"] == ["ecs.aliyuncs.com"]
    h.tea_call(lambda: ram_v3.detach_policy_from_role(rm.DetachPolicyFromRoleRequest(policy_type="Custom", policy_name=policy, role_name=name)))
    h.tea_call(lambda: ram_v3.delete_policy(rm.DeletePolicyRequest(policy_name=policy)))
    h.tea_call(lambda: ram_v3.delete_role(rm.DeleteRoleRequest(role_name=name)))


@pytest.mark.parametrize("signature", ["v3", "v2sig"])
def test_create_instance_with_role_typed(typed, root_ecs, vsw, role, signature):
    from alibabacloud_ecs20140526 import models as m
    c = typed[signature]
    iid = h.tea_call(lambda: c.create_instance(m.CreateInstanceRequest(
        region_id=REGION, image_id="centos_7_03_64_40G_alibase_20170503.vhd", instance_type="ecs.xn4.small",
        v_switch_id=vsw, ram_role_name=role))).body.instance_id
    body = h.tea_call(lambda: c.describe_instance_ram_role(m.DescribeInstanceRamRoleRequest(region_id=REGION, instance_ids=ids(iid)))).body
    assert body.total_count == 1 and body.region_id == REGION
    assert [(s.instance_id, s.ram_role_name) for s in body.instance_ram_role_sets.instance_ram_role_set] == [(iid, role)]
    root_ecs.call("DeleteInstance", {"InstanceId": iid})


def test_create_and_run_instances_with_role_v1(acs, endpoint, root_ecs, vsw, role):
    from aliyunsdkecs.request.v20140526.CreateInstanceRequest import CreateInstanceRequest
    from aliyunsdkecs.request.v20140526.DescribeInstanceRamRoleRequest import DescribeInstanceRamRoleRequest
    from aliyunsdkecs.request.v20140526.RunInstancesRequest import RunInstancesRequest
    req = CreateInstanceRequest()
    req.set_ImageId("centos_7_03_64_40G_alibase_20170503.vhd")
    req.set_InstanceType("ecs.xn4.small")
    req.set_VSwitchId(vsw)
    req.set_RamRoleName(role)
    created = h.core_call(acs, req, endpoint)["InstanceId"]
    req = RunInstancesRequest()
    req.set_ImageId("ubuntu_22_04_x64_20G_alibase_20240530.vhd")
    req.set_InstanceType("ecs.t6-c1m1.large")
    req.set_VSwitchId(vsw)
    req.set_RamRoleName(role)
    req.set_Amount(2)
    ran = h.core_call(acs, req, endpoint)["InstanceIdSets"]["InstanceIdSet"]
    req = DescribeInstanceRamRoleRequest()
    req.set_RamRoleName(role)
    body = h.core_call(acs, req, endpoint)
    assert body["TotalCount"] == 3
    assert {s["InstanceId"]: s["RamRoleName"] for s in body["InstanceRamRoleSets"]["InstanceRamRoleSet"]} == {i: role for i in [created] + ran}
    for i in [created] + ran:
        root_ecs.call("DeleteInstance", {"InstanceId": i, "Force": True})


@pytest.mark.parametrize("signature", ["v3", "v2sig"])
def test_attach_describe_detach_typed(typed, instance, role, signature):
    from alibabacloud_ecs20140526 import models as m
    c = typed[signature]
    body = h.tea_call(lambda: c.attach_instance_ram_role(m.AttachInstanceRamRoleRequest(
        region_id=REGION, instance_ids=ids(instance), ram_role_name=role))).body
    assert body.request_id and body.ram_role_name == role and body.total_count == 1 and body.fail_count == 0
    r = body.attach_instance_ram_role_results.attach_instance_ram_role_result[0]
    assert (r.instance_id, r.code, r.message, r.success) == (instance, "200", "success", True)
    by_role = h.tea_call(lambda: c.describe_instance_ram_role(m.DescribeInstanceRamRoleRequest(region_id=REGION, ram_role_name=role))).body
    assert [(s.instance_id, s.ram_role_name) for s in by_role.instance_ram_role_sets.instance_ram_role_set] == [(instance, role)]
    det = h.tea_call(lambda: c.detach_instance_ram_role(m.DetachInstanceRamRoleRequest(
        region_id=REGION, instance_ids=ids(instance), ram_role_name=role))).body
    assert det.ram_role_name == role and det.total_count == 1 and det.fail_count == 0
    d = det.detach_instance_ram_role_results.detach_instance_ram_role_result[0]
    assert (d.instance_id, d.code, d.success) == (instance, "200", True)
    assert [(s.instance_id, s.ram_role_name) for s in d.instance_ram_role_sets.instance_ram_role_set] == [(instance, role)]
    after = h.tea_call(lambda: c.describe_instance_ram_role(m.DescribeInstanceRamRoleRequest(region_id=REGION, instance_ids=ids(instance)))).body
    assert after.total_count == 0 and after.instance_ram_role_sets.instance_ram_role_set == []


def test_attach_describe_detach_v1(acs, endpoint, instance, role):
    from aliyunsdkecs.request.v20140526.AttachInstanceRamRoleRequest import AttachInstanceRamRoleRequest
    from aliyunsdkecs.request.v20140526.DescribeInstanceRamRoleRequest import DescribeInstanceRamRoleRequest
    from aliyunsdkecs.request.v20140526.DetachInstanceRamRoleRequest import DetachInstanceRamRoleRequest
    req = AttachInstanceRamRoleRequest()
    req.set_InstanceIds(ids(instance))
    req.set_RamRoleName(role)
    body = h.core_call(acs, req, endpoint)
    assert body["AttachInstanceRamRoleResults"]["AttachInstanceRamRoleResult"] == [
        {"InstanceId": instance, "Code": "200", "Message": "success", "Success": True}]
    assert (body["TotalCount"], body["FailCount"], body["RamRoleName"]) == (1, 0, role)
    req = DescribeInstanceRamRoleRequest()
    req.set_InstanceIds(ids(instance))
    got = h.core_call(acs, req, endpoint)
    assert got["InstanceRamRoleSets"]["InstanceRamRoleSet"] == [{"InstanceId": instance, "RamRoleName": role}]
    req = DetachInstanceRamRoleRequest()
    req.set_InstanceIds(ids(instance))  # no RamRoleName: whatever role the instance has
    det = h.core_call(acs, req, endpoint)
    assert det["RamRoleName"] == role and det["FailCount"] == 0
    assert det["DetachInstanceRamRoleResults"]["DetachInstanceRamRoleResult"][0]["InstanceRamRoleSets"]["InstanceRamRoleSet"] == [
        {"InstanceId": instance, "RamRoleName": role}]
    req = DescribeInstanceRamRoleRequest()
    req.set_InstanceIds(ids(instance))
    assert h.core_call(acs, req, endpoint)["TotalCount"] == 0


def test_attach_with_session_policy(ecs, instance, role):
    body = attach(ecs, role, instance, Policy=h.policy_doc([h.allow("oss:GetObject", "acs:oss:*:*:bucket/*")]))
    assert body["FailCount"] == 0
    assert roles_of(ecs, instance) == {instance: role}
    ecs.call("DetachInstanceRamRole", {"RegionId": REGION, "InstanceIds": ids(instance)})
    h.expect_error(lambda: attach(ecs, role, instance, Policy="x" * 1025), code="InvalidParameter.Policy", status=400)
    h.expect_error(lambda: attach(ecs, role, instance, Policy='{"Version":"1","Statement":[{"Effect":"Allow"}]}'),
                   code="InvalidParameter.Policy", status=400)
    assert roles_of(ecs, instance) == {}


# -- ECS's rules ---------------------------------------------------------------------------------

def test_classic_instance_cannot_hold_a_role(ecs, classic_instance, role, vsw):
    err = h.expect_error(lambda: attach(ecs, role, classic_instance), code="InvalidNetworkType.MismatchRamRole", status=403)
    assert classic_instance in err.message
    h.expect_error(lambda: ecs.call("DescribeInstanceRamRole", {"RegionId": REGION, "InstanceIds": ids(classic_instance)}),
                   code="InvalidNetworkType.MismatchRamRole", status=403)
    h.expect_error(lambda: ecs.call("DetachInstanceRamRole", {"RegionId": REGION, "InstanceIds": ids(classic_instance)}),
                   code="InvalidNetworkType.MismatchRamRole", status=403)
    # creating a classic instance with a role fails the same way, and creates nothing
    before = ecs.call("DescribeInstances", {"RegionId": REGION, "InstanceNetworkType": "classic", "PageSize": 100})["TotalCount"]
    h.expect_error(lambda: h.ecs_instance(ecs, None, RamRoleName=role), code="InvalidNetworkType.MismatchRamRole", status=403)
    assert ecs.call("DescribeInstances", {"RegionId": REGION, "InstanceNetworkType": "classic", "PageSize": 100})["TotalCount"] == before


def test_one_role_per_instance(ecs, instance, role, other_role):
    assert attach(ecs, role, instance)["FailCount"] == 0
    for again in (other_role, role):
        body = attach(ecs, again, instance)
        assert (body["TotalCount"], body["FailCount"]) == (1, 1)
        r = body["AttachInstanceRamRoleResults"]["AttachInstanceRamRoleResult"][0]
        assert r["InstanceId"] == instance and r["Success"] is False and r["Code"] == "InvalidRamRole.Attached"
        assert role in r["Message"]
    assert roles_of(ecs, instance) == {instance: role}


def test_attach_many_reports_each_instance(root_ecs, vsw, role, other_role):
    a, b, c = (h.ecs_instance(root_ecs, vsw) for _ in range(3))
    try:
        attach(root_ecs, other_role, b)
        body = attach(root_ecs, role, a, b, c, a)  # duplicates count once
        results = body["AttachInstanceRamRoleResults"]["AttachInstanceRamRoleResult"]
        assert [(r["InstanceId"], r["Code"], r["Success"]) for r in results] == [
            (a, "200", True), (b, "InvalidRamRole.Attached", False), (c, "200", True)]
        assert (body["TotalCount"], body["FailCount"]) == (3, 1)
        assert roles_of(root_ecs, a, b, c) == {a: role, b: other_role, c: role}
        # detaching by role name only touches instances holding that role
        det = root_ecs.call("DetachInstanceRamRole", {"RegionId": REGION, "InstanceIds": ids(a, b, c), "RamRoleName": role})
        got = [(r["InstanceId"], r["Code"]) for r in det["DetachInstanceRamRoleResults"]["DetachInstanceRamRoleResult"]]
        assert got == [(a, "200"), (b, "InvalidRamRole.NotAttached"), (c, "200")]
        assert det["FailCount"] == 1
        assert roles_of(root_ecs, a, b, c) == {b: other_role}
    finally:
        for i in (a, b, c):
            root_ecs.call("DeleteInstance", {"InstanceId": i, "Force": True})


def test_detach_without_role(ecs, instance):
    body = ecs.call("DetachInstanceRamRole", {"RegionId": REGION, "InstanceIds": ids(instance)})
    r = body["DetachInstanceRamRoleResults"]["DetachInstanceRamRoleResult"][0]
    assert (r["Code"], r["Success"], body["FailCount"]) == ("InvalidRamRole.NotAttached", False, 1)


def test_role_must_trust_ecs(ecs, instance, non_ecs_role, vsw):
    err = h.expect_error(lambda: attach(ecs, non_ecs_role, instance), code="InvalidRamRole.NotEcsRole", status=404)
    assert "ecs.aliyuncs.com" in err.message
    h.expect_error(lambda: h.ecs_instance(ecs, vsw, RamRoleName=non_ecs_role), code="InvalidRamRole.NotEcsRole", status=401)
    h.expect_error(lambda: ecs.call("RunInstances", {"RegionId": REGION, "ImageId": "centos_7_03_64_40G_alibase_20170503.vhd",
                                                     "InstanceType": "ecs.xn4.small", "VSwitchId": vsw, "RamRoleName": non_ecs_role}),
                   code="InvalidRamRole.NotEcsRole", status=401)
    assert roles_of(ecs, instance) == {}


def test_unknown_role(ecs, instance, vsw):
    missing = h.unique_name("NoSuchRole")
    h.expect_error(lambda: attach(ecs, missing, instance), code="InvalidRamRole.NotFound", status=404)
    h.expect_error(lambda: h.ecs_instance(ecs, vsw, RamRoleName=missing), code="InvalidRamRole.NotFound", status=404)
    h.expect_error(lambda: ecs.call("DetachInstanceRamRole", {"RegionId": REGION, "InstanceIds": ids(instance), "RamRoleName": missing}),
                   code="InvalidRamRole.NotFound", status=404)
    h.expect_error(lambda: ecs.call("DescribeInstanceRamRole", {"RegionId": REGION, "RamRoleName": missing}),
                   code="InvalidRamRole.NotFound", status=404)


def test_unknown_instance(ecs, instance, role):
    ghost = "i-bp1nosuchinstance000"
    for action, extra in (("AttachInstanceRamRole", {"RamRoleName": role}), ("DetachInstanceRamRole", {}), ("DescribeInstanceRamRole", {})):
        err = h.expect_error(lambda: ecs.call(action, dict({"RegionId": REGION, "InstanceIds": ids(instance, ghost)}, **extra)),
                             code="InvalidInstanceId.NotFound", status=404)
        assert ghost in err.message
    assert roles_of(ecs, instance) == {}, "nothing is attached when one instance is unknown"
    # an instance of another region is not found either
    h.expect_error(lambda: ecs.call("AttachInstanceRamRole", {"RegionId": "cn-shanghai", "RamRoleName": role, "InstanceIds": ids(instance)}),
                   code="InvalidInstanceId.NotFound", status=404)


@pytest.mark.parametrize("bad", ["i-bp1abc", "[]", "[1, 2]", '["i-a",', "{}", json.dumps([f"i-{n}" for n in range(101)])])
def test_malformed_instance_ids(ecs, role, bad):
    for action, extra in (("AttachInstanceRamRole", {"RamRoleName": role}), ("DetachInstanceRamRole", {})):
        h.expect_error(lambda: ecs.call(action, dict({"RegionId": REGION, "InstanceIds": bad}, **extra)),
                       code="InvalidInstanceIds.Malformed", status=400)
    if bad != "[]":  # an empty list is a valid (empty) filter for Describe
        h.expect_error(lambda: ecs.call("DescribeInstanceRamRole", {"RegionId": REGION, "InstanceIds": bad}),
                       code="InvalidInstanceIds.Malformed", status=400)


def test_describe_takes_at_most_50_instance_ids(ecs):
    """DescribeInstanceRamRole takes up to 50 ids (Attach/Detach up to 100)."""
    many = json.dumps([f"i-{n}" for n in range(51)])
    h.expect_error(lambda: ecs.call("DescribeInstanceRamRole", {"RegionId": REGION, "InstanceIds": many}),
                   code="InvalidInstanceIds.Malformed", status=400)


def test_missing_parameters(ecs, instance, role):
    err = h.expect_error(lambda: ecs.call("AttachInstanceRamRole", {"RegionId": REGION, "InstanceIds": ids(instance)}),
                         code="MissingParameter", status=400)
    assert '"RamRoleName"' in err.message
    err = h.expect_error(lambda: ecs.call("AttachInstanceRamRole", {"RegionId": REGION, "RamRoleName": role}),
                         code="MissingParameter", status=400)
    assert '"InstanceIds"' in err.message
    h.expect_error(lambda: ecs.call("DescribeInstanceRamRole", {"RegionId": REGION}), code="InvalidParameter.AllEmpty", status=403)


def test_describe_paging_and_delete(root_ecs, vsw, role):
    made = [h.ecs_instance(root_ecs, vsw, RamRoleName=role) for _ in range(3)]
    p1 = root_ecs.call("DescribeInstanceRamRole", {"RegionId": REGION, "RamRoleName": role, "PageSize": 2})
    p2 = root_ecs.call("DescribeInstanceRamRole", {"RegionId": REGION, "RamRoleName": role, "PageSize": 2, "PageNumber": 2})
    assert p1["TotalCount"] == p2["TotalCount"] == 3
    got = [s["InstanceId"] for p in (p1, p2) for s in h.wrapped_list(p, "InstanceRamRoleSets", "InstanceRamRoleSet")]
    assert sorted(got) == sorted(made)
    # deleting an instance drops its role
    root_ecs.call("DeleteInstance", {"InstanceId": made[0]})
    assert set(roles_of(root_ecs, RamRoleName=role)) == set(made[1:])
    for i in made[1:]:
        root_ecs.call("DeleteInstance", {"InstanceId": i})
    assert roles_of(root_ecs, RamRoleName=role) == {}


# -- PassRole -----------------------------------------------------------------------------------------

def test_ecs_full_access_without_passrole(ram_user, server, instance, role, vsw, root_ecs):
    _, ak, sk = ram_user(policies=["AliyunECSFullAccess"])
    for kind in h.CLIENT_KINDS:
        user = h.ecs_api(kind, server.endpoint, ak, sk)
        err = h.expect_error(lambda: attach(user, role, instance), code="InvalidUser.PassRoleForbidden", status=403)
        assert "The RAM user does not have the privilege to pass a RAM role." in err.message
        assert "ram:PassRole" in err.message
    user = h.ecs_api("v3", server.endpoint, ak, sk)
    h.expect_error(lambda: h.ecs_instance(user, vsw, RamRoleName=role), code="InvalidUser.PassRoleForbidden", status=403)
    h.expect_error(lambda: user.call("RunInstances", {"RegionId": REGION, "ImageId": "centos_7_03_64_40G_alibase_20170503.vhd",
                                                      "InstanceType": "ecs.xn4.small", "VSwitchId": vsw, "RamRoleName": role}),
                   code="InvalidUser.PassRoleForbidden", status=403)
    assert roles_of(root_ecs, RamRoleName=role) == {}
    # without a role the same user creates instances; detaching needs no PassRole
    own = h.ecs_instance(user, vsw)
    attach(root_ecs, role, own)
    det = user.call("DetachInstanceRamRole", {"RegionId": REGION, "InstanceIds": ids(own)})
    assert det["FailCount"] == 0
    user.call("DeleteInstance", {"InstanceId": own})


def test_seed_passrole_policy(root_api, ram_user, server, instance, role, vsw, root_ecs):
    # the doc's own text (Version "2016-10-17") is refused ...
    h.expect_error(lambda: root_api.call("CreatePolicy", {"PolicyName": h.unique_name("seed-bad"), "PolicyDocument": h.SEED_BAD_VERSION_POLICY}),
                   code_prefix="MalformedPolicyDocument")
    # ... the corrected one works
    pname = h.unique_name("EcsPassRole")
    root_api.call("CreatePolicy", {"PolicyName": pname, "PolicyDocument": SEED_PASSROLE_POLICY})
    _, ak, sk = ram_user(policies=[pname])
    try:
        for kind in ("v3", "core"):
            user = h.ecs_api(kind, server.endpoint, ak, sk)
            body = attach(user, role, instance)
            assert body["FailCount"] == 0
            # "ecs:DetachInstanceRAMRole" in the policy: action names are case-insensitive
            assert user.call("DetachInstanceRamRole", {"RegionId": REGION, "InstanceIds": ids(instance)})["FailCount"] == 0
        user = h.ecs_api("v2sig", server.endpoint, ak, sk)
        created = h.ecs_instance(user, vsw, RamRoleName=role)
        assert roles_of(root_ecs, created) == {created: role}
        # the policy grants nothing else
        h.expect_error(lambda: user.call("DescribeInstances", {"RegionId": REGION}), code="Forbidden.RAM", status=403)
        root_ecs.call("DeleteInstance", {"InstanceId": created})
    finally:
        users = root_api.call("ListEntitiesForPolicy", {"PolicyType": "Custom", "PolicyName": pname})["Users"]["User"]
        for u in users:
            root_api.call("DetachPolicyFromUser", {"PolicyType": "Custom", "PolicyName": pname, "UserName": u["UserName"]})
        root_api.call("DeletePolicy", {"PolicyName": pname})


def test_client_token_does_not_skip_passrole(ram_user, server, role, vsw, root_ecs, unique_name):
    """A ClientToken the root used to create an instance with a role does not hand that answer to
    a user without ram:PassRole sending the same request: tokens are per caller, so the user's
    call is checked like any other and refused."""
    _, ak, sk = ram_user(policies=["AliyunECSFullAccess"])
    params = {"RegionId": REGION, "ImageId": "centos_7_03_64_40G_alibase_20170503.vhd", "InstanceType": "ecs.xn4.small",
              "VSwitchId": vsw, "RamRoleName": role, "ClientToken": unique_name("tok")}
    made = root_ecs.call("CreateInstance", params)["InstanceId"]
    assert root_ecs.call("CreateInstance", params)["InstanceId"] == made
    user = h.ecs_api("v3", server.endpoint, ak, sk)
    h.expect_error(lambda: user.call("CreateInstance", params), code="InvalidUser.PassRoleForbidden", status=403)
    root_ecs.call("DeleteInstance", {"InstanceId": made})


def test_passrole_scoped_to_one_role(root_api, ram_user, server, account_id, instance, role, other_role):
    pname = h.unique_name("PassOne")
    doc = h.policy_doc([h.allow("ecs:*"), h.allow("ram:PassRole", f"acs:ram:*:{account_id}:role/{role}")])
    root_api.call("CreatePolicy", {"PolicyName": pname, "PolicyDocument": doc})
    _, ak, sk = ram_user(policies=[pname])
    user = h.ecs_api("v3", server.endpoint, ak, sk)
    h.expect_error(lambda: attach(user, other_role, instance), code="InvalidUser.PassRoleForbidden", status=403)
    assert attach(user, role, instance)["FailCount"] == 0


def test_explicit_deny_on_passrole(ram_user, root_api, server, instance, role):
    pname = h.unique_name("DenyPass")
    root_api.call("CreatePolicy", {"PolicyName": pname, "PolicyDocument": h.policy_doc([h.deny("ram:PassRole")])})
    _, ak, sk = ram_user(policies=["AdministratorAccess", pname])
    user = h.ecs_api("core", server.endpoint, ak, sk)
    h.expect_error(lambda: attach(user, role, instance), code="InvalidUser.PassRoleForbidden", status=403)


def test_ram_user_without_ecs_permission(ram_user, server, instance, role):
    _, ak, sk = ram_user(policies=["AliyunRAMFullAccess"])  # may pass roles, may not touch ECS
    for kind in h.CLIENT_KINDS:
        user = h.ecs_api(kind, server.endpoint, ak, sk)
        err = h.expect_error(lambda: attach(user, role, instance), code="Forbidden.RAM", status=403)
        assert "ecs:AttachInstanceRamRole" in err.message and instance in err.message
        h.expect_error(lambda: user.call("DescribeInstanceRamRole", {"RegionId": REGION, "RamRoleName": role}), code="Forbidden.RAM", status=403)


def test_ecs_action_scoped_to_an_instance(root_api, ram_user, server, account_id, root_ecs, vsw, role):
    mine = h.ecs_instance(root_ecs, vsw)
    theirs = h.ecs_instance(root_ecs, vsw)
    try:
        pname = h.unique_name("OneInstance")
        # The role is a resource of AttachInstanceRamRole too (its API reference lists both).
        doc = h.policy_doc([h.allow("ecs:AttachInstanceRamRole", [f"acs:ecs:{REGION}:{account_id}:instance/{mine}",
                                                                 f"acs:ram:*:{account_id}:role/*"]),
                            h.allow("ram:PassRole")])
        root_api.call("CreatePolicy", {"PolicyName": pname, "PolicyDocument": doc})
        _, ak, sk = ram_user(policies=[pname])
        user = h.ecs_api("v3", server.endpoint, ak, sk)
        err = h.expect_error(lambda: attach(user, role, mine, theirs), code="Forbidden.RAM", status=403)
        assert theirs in err.message
        assert roles_of(root_ecs, mine, theirs) == {}
        assert attach(user, role, mine)["FailCount"] == 0
    finally:
        for i in (mine, theirs):
            root_ecs.call("DeleteInstance", {"InstanceId": i})


def test_role_session_needs_passrole(root_api, api_for, root, account_id, server, instance, role):
    """An STS session of a role with AliyunECSFullAccess is a RAM identity too: PassRole applies."""
    operator = h.unique_name("ecs-operator")
    root_api.call("CreateRole", {"RoleName": operator, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    root_api.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunECSFullAccess", "RoleName": operator})
    try:
        user = h.assumer_for(api_for, root)
        sts = api_for(user["AccessKeyId"], user["AccessKeySecret"], "v3", version=h.STS_VERSION, product="Sts")
        creds = sts.call("AssumeRole", {"RoleArn": f"acs:ram::{account_id}:role/{operator}", "RoleSessionName": "ops"})["Credentials"]
        for kind in ("v3", "core"):
            session = h.ecs_api(kind, server.endpoint, creds["AccessKeyId"], creds["AccessKeySecret"], token=creds["SecurityToken"])
            assert session.call("DescribeInstanceRamRole", {"RegionId": REGION, "InstanceIds": ids(instance)})["TotalCount"] == 0
            h.expect_error(lambda: attach(session, role, instance), code="InvalidUser.PassRoleForbidden", status=403)
    finally:
        root_api.call("DetachPolicyFromRole", {"PolicyType": "System", "PolicyName": "AliyunECSFullAccess", "RoleName": operator})
        root_api.call("DeleteRole", {"RoleName": operator})
