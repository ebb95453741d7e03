"""VPC 2016-04-28 as its own product: the typed alibabacloud_vpc20160428 client (V3 and V1 signing),
aliyunsdkvpc request classes (V1, aliyun-python-sdk-vpc) and the generic caller over all three
client kinds. The VPCs and vSwitches are the ones ECS 2014-05-26 sees; errors name vpc.aliyuncs.com."""

import json
import re

import pytest

import rshelpers as h

REGION = h.ECS_REGION


@pytest.mark.parametrize("signature", ["v3", "v2sig"])
def test_typed_client_lifecycle(vpc_typed, root_ecs, signature):
    from alibabacloud_vpc20160428 import models as m
    c = vpc_typed[signature]
    name = h.unique_name("vpc")
    created = h.tea_call(lambda: c.create_vpc(m.CreateVpcRequest(region_id=REGION, cidr_block="10.20.0.0/16", vpc_name=name,
                                                                 description="made by VPC"))).body
    vpc = created.vpc_id
    assert re.fullmatch(r"vpc-bp1[a-z0-9]{18}", vpc) and created.request_id
    assert created.vrouter_id.startswith("vrt-") and created.route_table_id.startswith("vtb-")
    listed = h.tea_call(lambda: c.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, vpc_id=vpc))).body
    assert listed.total_count == 1
    v = listed.vpcs.vpc[0]
    assert (v.vpc_id, v.vpc_name, v.cidr_block, v.status, v.description) == (vpc, name, "10.20.0.0/16", "Available", "made by VPC")
    assert v.router_table_ids.router_table_ids == [created.route_table_id]
    attr = h.tea_call(lambda: c.describe_vpc_attribute(m.DescribeVpcAttributeRequest(region_id=REGION, vpc_id=vpc))).body
    assert (attr.vpc_id, attr.vrouter_id, attr.is_default) == (vpc, created.vrouter_id, False)
    h.tea_call(lambda: c.modify_vpc_attribute(m.ModifyVpcAttributeRequest(region_id=REGION, vpc_id=vpc, vpc_name="renamed",
                                                                          description="changed")))
    sw = h.tea_call(lambda: c.create_vswitch(m.CreateVSwitchRequest(region_id=REGION, vpc_id=vpc, zone_id="cn-hangzhou-i",
                                                                    cidr_block="10.20.1.0/24", v_switch_name="sw1"))).body.v_switch_id
    assert re.fullmatch(r"vsw-bp1[a-z0-9]{18}", sw)
    sws = h.tea_call(lambda: c.describe_vswitches(m.DescribeVSwitchesRequest(region_id=REGION, vpc_id=vpc))).body
    assert [(s.v_switch_id, s.v_switch_name, s.zone_id, s.available_ip_address_count) for s in sws.v_switches.v_switch] == \
        [(sw, "sw1", "cn-hangzhou-i", 252)]
    assert sws.v_switches.v_switch[0].route_table.route_table_id == created.route_table_id
    one = h.tea_call(lambda: c.describe_vswitch_attributes(m.DescribeVSwitchAttributesRequest(region_id=REGION, v_switch_id=sw))).body
    assert (one.v_switch_id, one.vpc_id, one.cidr_block, one.status) == (sw, vpc, "10.20.1.0/24", "Available")
    # ECS sees the same network, renamed
    ecs_vpc = h.wrapped_list(root_ecs.call("DescribeVpcs", {"RegionId": REGION, "VpcId": vpc}), "Vpcs", "Vpc")[0]
    assert (ecs_vpc["VpcName"], ecs_vpc["Description"], ecs_vpc["VSwitchIds"]["VSwitchId"]) == ("renamed", "changed", [sw])
    inst = h.ecs_instance(root_ecs, sw)
    err = h.expect_error(lambda: h.tea_call(lambda: c.delete_vswitch(m.DeleteVSwitchRequest(region_id=REGION, v_switch_id=sw))),
                         code="DependencyViolation", status=400)
    assert err.data["HostId"] == "vpc.aliyuncs.com"
    root_ecs.call("DeleteInstance", {"InstanceId": inst, "Force": "true"})
    h.expect_error(lambda: h.tea_call(lambda: c.delete_vpc(m.DeleteVpcRequest(region_id=REGION, vpc_id=vpc))),
                   code="DependencyViolation.VSwitch", status=400)
    h.tea_call(lambda: c.delete_vswitch(m.DeleteVSwitchRequest(region_id=REGION, v_switch_id=sw)))
    h.tea_call(lambda: c.delete_vpc(m.DeleteVpcRequest(region_id=REGION, vpc_id=vpc)))
    h.expect_error(lambda: h.tea_call(lambda: c.describe_vpc_attribute(m.DescribeVpcAttributeRequest(region_id=REGION, vpc_id=vpc))),
                   code="InvalidVpcId.NotFound", status=404)


def test_client_token_create_calls(vpc_typed, typed, unique_name):
    """CreateVpc / CreateVSwitch (VPC 2016-04-28) and CreateSecurityGroup (ECS) sent again with the
    same ClientToken and parameters answer the first call's id and create nothing; ECS's legacy
    CreateVpc keeps its tokens apart from VPC's (its answer has other fields)."""
    from alibabacloud_ecs20140526 import models as em
    from alibabacloud_vpc20160428 import models as m
    c, e = vpc_typed["v3"], typed["v3"]
    token, name = unique_name("tok"), unique_name("vpc")

    def vpc():
        return h.tea_call(lambda: c.create_vpc(m.CreateVpcRequest(region_id=REGION, cidr_block="10.31.0.0/16", vpc_name=name,
                                                                  client_token=token))).body.vpc_id

    def vsw():
        return h.tea_call(lambda: c.create_vswitch(m.CreateVSwitchRequest(
            region_id=REGION, vpc_id=made, zone_id="cn-hangzhou-i", cidr_block="10.31.1.0/24", client_token=token))).body.v_switch_id

    def sg():
        return h.tea_call(lambda: e.create_security_group(em.CreateSecurityGroupRequest(
            region_id=REGION, vpc_id=made, client_token=token))).body.security_group_id

    made = vpc()
    assert vpc() == made
    listed = h.tea_call(lambda: c.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, vpc_name=name))).body
    assert listed.total_count == 1
    legacy = h.tea_call(lambda: e.create_vpc(em.CreateVpcRequest(region_id=REGION, cidr_block="10.31.0.0/16", vpc_name=name,
                                                                 client_token=token))).body.vpc_id
    assert legacy != made
    switch, group = vsw(), sg()
    assert (vsw(), sg()) == (switch, group)
    h.expect_error(lambda: h.tea_call(lambda: c.create_vswitch(m.CreateVSwitchRequest(
        region_id=REGION, vpc_id=made, zone_id="cn-hangzhou-i", cidr_block="10.31.2.0/24", client_token=token))),
        code="IdempotentParameterMismatch", status=400)
    h.tea_call(lambda: e.delete_security_group(em.DeleteSecurityGroupRequest(region_id=REGION, security_group_id=group)))
    h.tea_call(lambda: c.delete_vswitch(m.DeleteVSwitchRequest(region_id=REGION, v_switch_id=switch)))
    for v in (made, legacy):
        h.tea_call(lambda: c.delete_vpc(m.DeleteVpcRequest(region_id=REGION, vpc_id=v)))


def test_delete_vpc_with_security_group(vpc_typed, typed, root_ecs):
    """A VPC that still holds a security group cannot be deleted (DependencyViolation.SecurityGroup,
    400, as DeleteVpc's error table says), through VPC 2016-04-28 and ECS's legacy DeleteVpc alike;
    once the group is gone it can."""
    from alibabacloud_ecs20140526 import models as em
    from alibabacloud_vpc20160428 import models as m
    c, e = vpc_typed["v3"], typed["v3"]
    vpc = h.tea_call(lambda: c.create_vpc(m.CreateVpcRequest(region_id=REGION, cidr_block="10.30.0.0/16"))).body.vpc_id
    sg = h.tea_call(lambda: e.create_security_group(em.CreateSecurityGroupRequest(region_id=REGION, vpc_id=vpc))).body.security_group_id
    err = h.expect_error(lambda: h.tea_call(lambda: c.delete_vpc(m.DeleteVpcRequest(region_id=REGION, vpc_id=vpc))),
                         code="DependencyViolation.SecurityGroup", status=400)
    assert sg in err.message and err.data["HostId"] == "vpc.aliyuncs.com"
    h.expect_error(lambda: root_ecs.call("DeleteVpc", {"RegionId": REGION, "VpcId": vpc}),
                   code="DependencyViolation.SecurityGroup", status=400)
    groups = h.tea_call(lambda: e.describe_security_groups(em.DescribeSecurityGroupsRequest(region_id=REGION, vpc_id=vpc))).body
    assert [g.security_group_id for g in groups.security_groups.security_group] == [sg], "nothing was deleted"
    h.tea_call(lambda: e.delete_security_group(em.DeleteSecurityGroupRequest(region_id=REGION, security_group_id=sg)))
    h.tea_call(lambda: c.delete_vpc(m.DeleteVpcRequest(region_id=REGION, vpc_id=vpc)))
    h.expect_error(lambda: h.tea_call(lambda: c.describe_vpc_attribute(m.DescribeVpcAttributeRequest(region_id=REGION, vpc_id=vpc))),
                   code="InvalidVpcId.NotFound", status=404)


def test_v1_request_classes(acs, endpoint, root_ecs):
    from aliyunsdkvpc.request.v20160428 import (CreateVpcRequest, CreateVSwitchRequest, DeleteVpcRequest,
                                                DeleteVSwitchRequest, DescribeVpcAttributeRequest, DescribeVpcsRequest,
                                                DescribeVSwitchAttributesRequest, DescribeVSwitchesRequest,
                                                ModifyVpcAttributeRequest)
    req = CreateVpcRequest.CreateVpcRequest()
    req.set_CidrBlock("172.18.0.0/16")
    req.set_VpcName("v1-vpc")
    vpc = h.core_call(acs, req, endpoint)["VpcId"]
    req = ModifyVpcAttributeRequest.ModifyVpcAttributeRequest()
    req.set_VpcId(vpc)
    req.set_Description("v1 described")
    h.core_call(acs, req, endpoint)
    req = DescribeVpcAttributeRequest.DescribeVpcAttributeRequest()
    req.set_VpcId(vpc)
    attr = h.core_call(acs, req, endpoint)
    assert (attr["VpcName"], attr["Description"], attr["CidrBlock"]) == ("v1-vpc", "v1 described", "172.18.0.0/16")
    assert attr["RegionId"] == REGION  # AcsClient's region is sent as RegionId
    req = CreateVSwitchRequest.CreateVSwitchRequest()
    req.set_VpcId(vpc)
    req.set_ZoneId("cn-hangzhou-h")
    req.set_CidrBlock("172.18.3.0/24")
    sw = h.core_call(acs, req, endpoint)["VSwitchId"]
    req = DescribeVSwitchesRequest.DescribeVSwitchesRequest()
    req.set_VpcId(vpc)
    assert [s["VSwitchId"] for s in h.wrapped_list(h.core_call(acs, req, endpoint), "VSwitches", "VSwitch")] == [sw]
    req = DescribeVSwitchAttributesRequest.DescribeVSwitchAttributesRequest()
    req.set_VSwitchId(sw)
    assert h.core_call(acs, req, endpoint)["ZoneId"] == "cn-hangzhou-h"
    req = DescribeVpcsRequest.DescribeVpcsRequest()
    req.set_VpcId(vpc)
    assert h.core_call(acs, req, endpoint)["TotalCount"] == 1
    req = DeleteVSwitchRequest.DeleteVSwitchRequest()
    req.set_VSwitchId(sw)
    h.core_call(acs, req, endpoint)
    req = DeleteVpcRequest.DeleteVpcRequest()
    req.set_VpcId(vpc)
    h.core_call(acs, req, endpoint)


def test_field_order_follows_the_reference_tables(vpc_apis):
    api = vpc_apis["v3"]
    vpc = api.call("CreateVpc", {"RegionId": REGION, "CidrBlock": "10.21.0.0/16"})["VpcId"]
    try:
        v = h.wrapped_list(api.call("DescribeVpcs", {"RegionId": REGION, "VpcId": vpc}), "Vpcs", "Vpc")[0]
        assert list(v) == sorted(v), list(v)
        attr = api.call("DescribeVpcAttribute", {"RegionId": REGION, "VpcId": vpc})
        fields = [k for k in attr if k != "RequestId"]
        assert fields == sorted(fields)
    finally:
        api.call("DeleteVpc", {"RegionId": REGION, "VpcId": vpc})


def test_describe_vswitches_by_vpc_without_region(vpc_apis, root_ecs):
    vpc, sw = h.ecs_network(root_ecs, "10.22.0.0/16", "10.22.1.0/24")
    body = vpc_apis["v3"].call("DescribeVSwitches", {"VpcId": vpc})
    assert [s["VSwitchId"] for s in h.wrapped_list(body, "VSwitches", "VSwitch")] == [sw]


@pytest.mark.parametrize("action,params,code,status", [
    ("CreateVpc", {"CidrBlock": "8.8.0.0/16"}, "InvalidParameter", 400),
    ("CreateVpc", {"CidrBlock": "10.0.0.0/33"}, "InvalidCidrBlock.Malformed", 400),
    ("CreateVpc", {"VpcName": "1bad"}, "InvalidVpcName.Malformed", 400),
    ("DescribeVpcAttribute", {"VpcId": "vpc-nothere"}, "InvalidVpcId.NotFound", 404),
    ("DescribeVpcAttribute", {}, "MissingParameter", 400),
    ("ModifyVpcAttribute", {"VpcId": "vpc-nothere"}, "InvalidVpcId.NotFound", 404),
    ("DescribeVSwitchAttributes", {"VSwitchId": "vsw-nothere"}, "InvalidVSwitchId.NotFound", 404),
    ("CreateVSwitch", {"VpcId": "vpc-nothere", "ZoneId": "cn-hangzhou-h", "CidrBlock": "10.0.0.0/24"}, "InvalidVpcId.NotFound", 404),
    ("DescribeVpcs", {"RegionId": "cn-atlantis"}, "InvalidRegionId.NotFound", 404),
])
def test_errors_are_vpcs_own(vpc, action, params, code, status):
    params = dict({"RegionId": REGION}, **params)
    err = h.expect_error(lambda: vpc.call(action, params), code=code, status=status)
    if err.data:
        assert err.data["HostId"] == "vpc.aliyuncs.com"


def test_modify_cidr_must_hold_vswitches(vpc_apis, root_ecs):
    vpc, _ = h.ecs_network(root_ecs, "10.23.0.0/16", "10.23.200.0/24")
    api = vpc_apis["v3"]
    h.expect_error(lambda: api.call("ModifyVpcAttribute", {"RegionId": REGION, "VpcId": vpc, "CidrBlock": "10.23.0.0/20"}),
                   code="InvalidCidrBlock.Malformed", status=400)
    api.call("ModifyVpcAttribute", {"RegionId": REGION, "VpcId": vpc, "CidrBlock": "10.0.0.0/8"})
    assert api.call("DescribeVpcAttribute", {"RegionId": REGION, "VpcId": vpc})["CidrBlock"] == "10.0.0.0/8"


def test_vpc_version_error_names_vpc_host(server, root):
    r = h.raw_v1(server.endpoint, root["AccessKeyId"], root["AccessKeySecret"], "NoSuchVpcAction", version=h.VPC_VERSION)
    body = r.json()
    assert (r.status_code, body["Code"], body["HostId"]) == (404, "InvalidApi.NotFound", "vpc.aliyuncs.com")


def test_ram_user_needs_vpc_actions(ram_user, api_for, server):
    _, ak, sk = ram_user(policies=["AliyunECSFullAccess"])
    api = h.vpc_api("v3", server.endpoint, ak, sk)
    # AliyunECSFullAccess grants vpc:DescribeVpcs and vpc:DescribeVSwitches only
    api.call("DescribeVpcs", {"RegionId": REGION})
    err = h.expect_error(lambda: api.call("CreateVpc", {"RegionId": REGION}), code="Forbidden.RAM", status=403)
    assert "vpc:CreateVpc" in err.message and f"acs:vpc:{REGION}:" in err.message
    assert json.loads(json.dumps(err.data or {})).get("HostId", "vpc.aliyuncs.com") == "vpc.aliyuncs.com"


def test_cli_api_vpc(server):
    """`rolestack api vpc ...` signs with V1 like any SDK and reaches VPC 2016-04-28."""
    base = ["--endpoint", f"http://{server.endpoint}", "--data-dir", str(server.data_dir)]
    p = server.cli("api", "vpc", "CreateVpc", *base, f"RegionId={REGION}", "CidrBlock=10.24.0.0/16", "VpcName=cli-vpc")
    assert p.returncode == 0, p.stderr + p.stdout
    vpc = json.loads(p.stdout)["VpcId"]
    p = server.cli("api", "VPC", "DescribeVpcAttribute", *base, f"RegionId={REGION}", f"VpcId={vpc}")
    assert p.returncode == 0 and json.loads(p.stdout)["VpcName"] == "cli-vpc", p.stdout
    p = server.cli("api", "vpc", "DescribeVpcAttribute", *base, f"RegionId={REGION}", "VpcId=vpc-nothere")
    assert p.returncode != 0 and "InvalidVpcId.NotFound" in p.stdout + p.stderr
    p = server.cli("api", "nosuch", "X", *base)
    assert p.returncode != 0 and "vpc" in p.stderr
