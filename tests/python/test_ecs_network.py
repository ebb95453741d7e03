"""ECS 2014-05-26: the region/zone catalogue and VPCs/vSwitches (the ECS API's legacy forms), with
the typed alibabacloud_ecs20140526 client (V3 and V1 signing), aliyunsdkecs request classes (V1)
and the generic caller: CIDR rules, overlap, dependency errors, id shapes, paging."""

import ipaddress
import json
import re

import pytest

import rshelpers as h

REGION = h.ECS_REGION


# -- catalogue ------------------------------------------------------------------------------

@pytest.mark.parametrize("signature", ["v3", "v2sig"])
def test_describe_regions_typed(typed, signature):
    from alibabacloud_ecs20140526 import models as m
    c = typed[signature]
    zh = h.tea_call(lambda: c.describe_regions(m.DescribeRegionsRequest())).body
    assert zh.request_id
    by_id = {r.region_id: r for r in zh.regions.region}
    for rid in ("cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "ap-southeast-1", "us-west-1", "eu-central-1"):
        assert rid in by_id, rid
        assert by_id[rid].status == "available"
        assert by_id[rid].region_endpoint.endswith(".aliyuncs.com")
    assert by_id["cn-hangzhou"].local_name == "华东1（杭州）"
    en = h.tea_call(lambda: c.describe_regions(m.DescribeRegionsRequest(accept_language="en-US"))).body
    assert {r.region_id: r.local_name for r in en.regions.region}["cn-hangzhou"] == "China (Hangzhou)"


def test_describe_regions_v1_request_class(acs, endpoint):
    from aliyunsdkecs.request.v20140526.DescribeRegionsRequest import DescribeRegionsRequest
    req = DescribeRegionsRequest()
    req.set_AcceptLanguage("en-US")
    body = h.core_call(acs, req, endpoint)
    regions = h.wrapped_list(body, "Regions", "Region")
    assert {"RegionId": "eu-central-1", "LocalName": "Germany (Frankfurt)", "RegionEndpoint": "ecs.eu-central-1.aliyuncs.com",
            "Status": "available"} in regions
    bad = DescribeRegionsRequest()
    bad.set_AcceptLanguage("fr-FR")
    h.expect_error(lambda: h.core_call(acs, bad, endpoint), code="InvalidAcceptLanguage.NotFound", status=404)


def test_describe_zones(ecs):
    body = ecs.call("DescribeZones", {"RegionId": REGION, "AcceptLanguage": "en-US"})
    zones = h.wrapped_list(body, "Zones", "Zone")
    ids = [z["ZoneId"] for z in zones]
    for z in ("cn-hangzhou-g", "cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"):
        assert z in ids
    g = zones[ids.index("cn-hangzhou-g")]
    assert g["LocalName"] == "Hangzhou Zone G"
    assert "ecs.xn4.small" in g["AvailableInstanceTypes"]["InstanceTypes"]
    assert "ecs.g7.large" in g["AvailableResources"]["ResourcesInfo"][0]["InstanceTypes"]["supportedInstanceType"]
    assert set(g["AvailableResources"]["ResourcesInfo"][0]["NetworkTypes"]["supportedNetworkCategory"]) == {"vpc", "classic"}
    assert "VSwitch" in g["AvailableResourceCreation"]["ResourceTypes"]
    sg = h.wrapped_list(ecs.call("DescribeZones", {"RegionId": "ap-southeast-1", "Verbose": "false"}), "Zones", "Zone")
    assert [z["ZoneId"] for z in sg] == ["ap-southeast-1-a", "ap-southeast-1-b", "ap-southeast-1-c"]
    assert "AvailableResources" not in sg[0]


def test_describe_zones_typed_model(typed):
    from alibabacloud_ecs20140526 import models as m
    body = h.tea_call(lambda: typed["v3"].describe_zones(m.DescribeZonesRequest(region_id="cn-shanghai"))).body
    zone = body.zones.zone[0]
    assert zone.zone_id.startswith("cn-shanghai-") and zone.zone_type == "AvailabilityZone"
    assert "ecs.t6-c1m1.large" in zone.available_resources.resources_info[0].instance_types.supported_instance_type


@pytest.mark.parametrize("action", ["DescribeZones", "DescribeVpcs", "DescribeVSwitches", "DescribeInstances"])
def test_unknown_region(ecs, action):
    err = h.expect_error(lambda: ecs.call(action, {"RegionId": "cn-atlantis"}), code="InvalidRegionId.NotFound", status=404)
    assert "cn-atlantis" in err.message


def test_missing_region(ecs_apis):
    # tea clients send no RegionId unless asked (core-v1 always adds its own, so it is skipped here)
    for kind in ("v3", "v2sig"):
        err = h.expect_error(lambda: ecs_apis[kind].call("DescribeZones"), code="MissingParameter", status=400)
        assert '"RegionId"' in err.message


# -- VPCs and vSwitches -----------------------------------------------------------------------

def test_vpc_vswitch_lifecycle(ecs):
    name = h.unique_name("vpc")
    created = ecs.call("CreateVpc", {"RegionId": REGION, "CidrBlock": "10.0.0.0/8", "VpcName": name, "Description": "test vpc"})
    vpc = created["VpcId"]
    assert re.fullmatch(r"vpc-bp1[a-z0-9]{18}", vpc), vpc
    assert created["VRouterId"].startswith("vrt-bp1") and created["RouteTableId"].startswith("vtb-bp1")
    h.assert_request_id(created)
    vpcs = h.wrapped_list(ecs.call("DescribeVpcs", {"RegionId": REGION, "VpcId": vpc}), "Vpcs", "Vpc")
    assert len(vpcs) == 1
    v = vpcs[0]
    assert (v["VpcId"], v["VpcName"], v["CidrBlock"], v["Status"], v["RegionId"]) == (vpc, name, "10.0.0.0/8", "Available", REGION)
    assert v["Description"] == "test vpc" and v["VSwitchIds"]["VSwitchId"] == [] and v["IsDefault"] is False
    h.assert_date(v["CreationTime"])

    vsw = ecs.call("CreateVSwitch", {"RegionId": REGION, "VpcId": vpc, "ZoneId": "cn-hangzhou-i",
                                     "CidrBlock": "10.1.0.0/24", "VSwitchName": "sw-1"})["VSwitchId"]
    assert re.fullmatch(r"vsw-bp1[a-z0-9]{18}", vsw), vsw
    switches = h.wrapped_list(ecs.call("DescribeVSwitches", {"RegionId": REGION, "VpcId": vpc}), "VSwitches", "VSwitch")
    assert [(s["VSwitchId"], s["ZoneId"], s["CidrBlock"], s["VSwitchName"], s["Status"]) for s in switches] == \
        [(vsw, "cn-hangzhou-i", "10.1.0.0/24", "sw-1", "Available")]
    assert switches[0]["AvailableIpAddressCount"] == 256 - 4
    v = h.wrapped_list(ecs.call("DescribeVpcs", {"RegionId": REGION, "VpcId": vpc}), "Vpcs", "Vpc")[0]
    assert v["VSwitchIds"]["VSwitchId"] == [vsw]

    h.expect_error(lambda: ecs.call("DeleteVpc", {"RegionId": REGION, "VpcId": vpc}), code="DependencyViolation.VSwitch", status=400)
    ecs.call("DeleteVSwitch", {"RegionId": REGION, "VSwitchId": vsw})
    assert h.wrapped_list(ecs.call("DescribeVSwitches", {"RegionId": REGION, "VpcId": vpc}), "VSwitches", "VSwitch") == []
    ecs.call("DeleteVpc", {"RegionId": REGION, "VpcId": vpc})
    body = ecs.call("DescribeVpcs", {"RegionId": REGION, "VpcId": vpc})
    assert body["TotalCount"] == 0 and h.wrapped_list(body, "Vpcs", "Vpc") == []
    h.expect_error(lambda: ecs.call("DeleteVpc", {"RegionId": REGION, "VpcId": vpc}), code="InvalidVpcId.NotFound", status=404)
    h.expect_error(lambda: ecs.call("DeleteVSwitch", {"RegionId": REGION, "VSwitchId": vsw}), code="InvalidVSwitchId.NotFound", status=404)


def test_vpc_typed_models(typed):
    from alibabacloud_ecs20140526 import models as m
    c = typed["v2sig"]
    vpc = h.tea_call(lambda: c.create_vpc(m.CreateVpcRequest(region_id=REGION, cidr_block="172.16.0.0/16"))).body.vpc_id
    vsw = h.tea_call(lambda: c.create_vswitch(m.CreateVSwitchRequest(
        region_id=REGION, vpc_id=vpc, zone_id="cn-hangzhou-j", cidr_block="172.16.8.0/21", v_switch_name="typed-sw"))).body.v_switch_id
    vpcs = h.tea_call(lambda: c.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, vpc_id=vpc))).body
    assert vpcs.total_count == 1 and vpcs.vpcs.vpc[0].v_switch_ids.v_switch_id == [vsw]
    sws = h.tea_call(lambda: c.describe_vswitches(m.DescribeVSwitchesRequest(region_id=REGION, v_switch_id=vsw))).body
    s = sws.v_switches.v_switch[0]
    assert (s.v_switch_name, s.zone_id, s.cidr_block, s.available_ip_address_count) == ("typed-sw", "cn-hangzhou-j", "172.16.8.0/21", 2048 - 4)
    h.tea_call(lambda: c.delete_vswitch(m.DeleteVSwitchRequest(region_id=REGION, v_switch_id=vsw)))
    h.tea_call(lambda: c.delete_vpc(m.DeleteVpcRequest(region_id=REGION, vpc_id=vpc)))


def test_vpc_field_order(root_ecs):
    """The legacy CreateVpc/DescribeVpcs/DescribeVSwitches answers list their fields in the order of
    the reference tables (alphabetical, as the alibabacloud_ecs20140526 models); RequestId first."""
    created = root_ecs.call("CreateVpc", {"RegionId": REGION, "CidrBlock": "10.77.0.0/16"})
    assert list(created) == ["RequestId", "RouteTableId", "VRouterId", "VpcId"], list(created)
    vpc = created["VpcId"]
    vsw = root_ecs.call("CreateVSwitch", {"RegionId": REGION, "VpcId": vpc, "ZoneId": "cn-hangzhou-h",
                                          "CidrBlock": "10.77.1.0/24"})["VSwitchId"]
    for action, outer, inner in (("DescribeVpcs", "Vpcs", "Vpc"), ("DescribeVSwitches", "VSwitches", "VSwitch")):
        body = root_ecs.call(action, {"RegionId": REGION, "VpcId": vpc})
        assert list(body) == ["RequestId", "PageNumber", "PageSize", "TotalCount", outer], list(body)
        item = h.wrapped_list(body, outer, inner)[0]
        assert list(item) == sorted(item), list(item)
    root_ecs.call("DeleteVSwitch", {"RegionId": REGION, "VSwitchId": vsw})
    root_ecs.call("DeleteVpc", {"RegionId": REGION, "VpcId": vpc})


def test_vpc_v1_request_classes(acs, endpoint):
    from aliyunsdkecs.request.v20140526.CreateVpcRequest import CreateVpcRequest
    from aliyunsdkecs.request.v20140526.CreateVSwitchRequest import CreateVSwitchRequest
    from aliyunsdkecs.request.v20140526.DeleteVpcRequest import DeleteVpcRequest
    from aliyunsdkecs.request.v20140526.DeleteVSwitchRequest import DeleteVSwitchRequest
    from aliyunsdkecs.request.v20140526.DescribeVSwitchesRequest import DescribeVSwitchesRequest
    req = CreateVpcRequest()
    req.set_CidrBlock("192.168.0.0/16")
    vpc = h.core_call(acs, req, endpoint)["VpcId"]
    req = CreateVSwitchRequest()
    req.set_VpcId(vpc)
    req.set_ZoneId("cn-hangzhou-k")
    req.set_CidrBlock("192.168.3.0/24")
    vsw = h.core_call(acs, req, endpoint)["VSwitchId"]
    req = DescribeVSwitchesRequest()
    req.set_VpcId(vpc)
    assert [s["VSwitchId"] for s in h.wrapped_list(h.core_call(acs, req, endpoint), "VSwitches", "VSwitch")] == [vsw]
    req = DeleteVpcRequest()
    req.set_VpcId(vpc)
    h.expect_error(lambda: h.core_call(acs, req, endpoint), code="DependencyViolation.VSwitch", status=400)
    req = DeleteVSwitchRequest()
    req.set_VSwitchId(vsw)
    h.core_call(acs, req, endpoint)
    req = DeleteVpcRequest()
    req.set_VpcId(vpc)
    h.core_call(acs, req, endpoint)


def test_default_vpc_cidr(root_ecs):
    vpc = root_ecs.call("CreateVpc", {"RegionId": REGION})["VpcId"]
    v = h.wrapped_list(root_ecs.call("DescribeVpcs", {"RegionId": REGION, "VpcId": vpc}), "Vpcs", "Vpc")[0]
    assert v["CidrBlock"] == "172.16.0.0/12"
    root_ecs.call("DeleteVpc", {"RegionId": REGION, "VpcId": vpc})


@pytest.mark.parametrize("cidr,code", [
    ("8.8.0.0/16", "InvalidParameter"),          # not a private range
    ("172.0.0.0/8", "InvalidParameter"),         # wider than 172.16.0.0/12
    ("192.168.0.0/25", "InvalidParameter"),      # mask longer than /24
    ("10.0.0.0/7", "InvalidParameter"),          # mask shorter than /8
    ("192.168.1.0/16", "InvalidCidrBlock.Malformed"),  # host bits set
    ("192.168.0.0", "InvalidCidrBlock.Malformed"),
    ("not-a-cidr", "InvalidCidrBlock.Malformed"),
    ("192.168.0.0/33", "InvalidCidrBlock.Malformed"),
])
def test_vpc_cidr_rules(ecs, cidr, code):
    err = h.expect_error(lambda: ecs.call("CreateVpc", {"RegionId": REGION, "CidrBlock": cidr}), code=code, status=400)
    assert cidr in err.message


def test_vswitch_cidr_rules(ecs):
    vpc = ecs.call("CreateVpc", {"RegionId": REGION, "CidrBlock": "10.20.0.0/16"})["VpcId"]
    base = {"RegionId": REGION, "VpcId": vpc, "ZoneId": "cn-hangzhou-g"}
    try:
        h.expect_error(lambda: ecs.call("CreateVSwitch", dict(base, CidrBlock="10.21.0.0/24")),
                       code="InvalidParameter", status=400, message_contains="not valid in VPC")
        h.expect_error(lambda: ecs.call("CreateVSwitch", dict(base, CidrBlock="10.20.0.0/30")), code="InvalidCidrBlock.Malformed", status=400)
        h.expect_error(lambda: ecs.call("CreateVSwitch", dict(base, CidrBlock="10.20.0.0/15")), code="InvalidCidrBlock.Malformed", status=400)
        h.expect_error(lambda: ecs.call("CreateVSwitch", dict(base, CidrBlock="10.20.0.1/24")), code="InvalidCidrBlock.Malformed", status=400)
        first = ecs.call("CreateVSwitch", dict(base, CidrBlock="10.20.0.0/20"))["VSwitchId"]
        for overlapping in ("10.20.0.0/20", "10.20.4.0/24", "10.20.0.0/16"):
            err = h.expect_error(lambda: ecs.call("CreateVSwitch", dict(base, CidrBlock=overlapping)), code="InvalidCidrBlock.Overlapped", status=400)
            assert first in err.message
        # adjacent block in another zone is fine; exact VPC bounds are fine
        second = ecs.call("CreateVSwitch", dict(base, ZoneId="cn-hangzhou-h", CidrBlock="10.20.16.0/29"))["VSwitchId"]
        sw = h.wrapped_list(ecs.call("DescribeVSwitches", {"RegionId": REGION, "VSwitchId": second}), "VSwitches", "VSwitch")[0]
        assert sw["AvailableIpAddressCount"] == 4
        h.expect_error(lambda: ecs.call("CreateVSwitch", dict(base, ZoneId="cn-hangzhou-z", CidrBlock="10.20.32.0/24")),
                       code="InvalidZoneId.NotFound", status=404)
        h.expect_error(lambda: ecs.call("CreateVSwitch", dict(base, ZoneId="cn-shanghai-b", CidrBlock="10.20.32.0/24")),
                       code="InvalidZoneId.NotFound", status=404)
        h.expect_error(lambda: ecs.call("CreateVSwitch", dict(base, VpcId="vpc-bp1doesnotexist000000", CidrBlock="10.20.32.0/24")),
                       code="InvalidVpcId.NotFound", status=404)
        # the VPC is not in another region
        h.expect_error(lambda: ecs.call("CreateVSwitch", dict(base, RegionId="cn-shanghai", ZoneId="cn-shanghai-b", CidrBlock="10.20.32.0/24")),
                       code="InvalidVpcId.NotFound", status=404)
        err = h.expect_error(lambda: ecs.call("CreateVSwitch", {"RegionId": REGION, "VpcId": vpc, "CidrBlock": "10.20.64.0/24"}),
                             code="MissingParameter", status=400)
        assert '"ZoneId"' in err.message
        for sw_id in (first, second):
            ecs.call("DeleteVSwitch", {"RegionId": REGION, "VSwitchId": sw_id})
    finally:
        for s in h.wrapped_list(ecs.call("DescribeVSwitches", {"RegionId": REGION, "VpcId": vpc, "PageSize": 50}), "VSwitches", "VSwitch"):
            ecs.call("DeleteVSwitch", {"RegionId": REGION, "VSwitchId": s["VSwitchId"]})
        ecs.call("DeleteVpc", {"RegionId": REGION, "VpcId": vpc})


def test_whole_vpc_block_as_one_vswitch(root_ecs):
    vpc = root_ecs.call("CreateVpc", {"RegionId": REGION, "CidrBlock": "192.168.0.0/24"})["VpcId"]
    sw = root_ecs.call("CreateVSwitch", {"RegionId": REGION, "VpcId": vpc, "ZoneId": "cn-hangzhou-k", "CidrBlock": "192.168.0.0/24"})["VSwitchId"]
    h.expect_error(lambda: root_ecs.call("CreateVSwitch", {"RegionId": REGION, "VpcId": vpc, "ZoneId": "cn-hangzhou-k", "CidrBlock": "192.168.0.128/25"}),
                   code="InvalidCidrBlock.Overlapped")
    root_ecs.call("DeleteVSwitch", {"RegionId": REGION, "VSwitchId": sw})
    root_ecs.call("DeleteVpc", {"RegionId": REGION, "VpcId": vpc})


def test_missing_vpc_id_is_ecs_style(ecs):
    """DeleteVpc's resource template needs VpcId: the gateway reports it the ECS way."""
    err = h.expect_error(lambda: ecs.call("DeleteVpc", {"RegionId": REGION}), code="MissingParameter", status=400)
    assert '"VpcId"' in err.message


def test_vpc_names_validated(ecs):
    for bad in ("1starts-with-digit", "x", "http://vpc", "has space"):
        h.expect_error(lambda: ecs.call("CreateVpc", {"RegionId": REGION, "VpcName": bad}), code="InvalidVpcName.Malformed", status=400)


def test_delete_vswitch_with_instance(root_ecs):
    vpc, vsw = h.ecs_network(root_ecs, "10.30.0.0/16", "10.30.1.0/24")
    inst = h.ecs_instance(root_ecs, vsw)
    h.expect_error(lambda: root_ecs.call("DeleteVSwitch", {"RegionId": REGION, "VSwitchId": vsw}), code="DependencyViolation", status=400)
    root_ecs.call("DeleteInstance", {"InstanceId": inst})
    root_ecs.call("DeleteVSwitch", {"RegionId": REGION, "VSwitchId": vsw})
    root_ecs.call("DeleteVpc", {"RegionId": REGION, "VpcId": vpc})


def test_vpcs_are_per_region_and_paged(root_ecs):
    made = [root_ecs.call("CreateVpc", {"RegionId": "eu-central-1", "CidrBlock": f"10.{i}.0.0/16"})["VpcId"] for i in range(3)]
    assert all(v.startswith("vpc-gw8") for v in made)
    seen = []
    page = 1
    while True:
        body = root_ecs.call("DescribeVpcs", {"RegionId": "eu-central-1", "PageSize": 2, "PageNumber": page})
        items = h.wrapped_list(body, "Vpcs", "Vpc")
        assert len(items) <= 2 and body["PageSize"] == 2 and body["PageNumber"] == page
        seen += [v["VpcId"] for v in items]
        if page * 2 >= body["TotalCount"]:
            break
        page += 1
    assert set(made) <= set(seen) and len(seen) == len(set(seen))
    hz = [v["VpcId"] for v in h.wrapped_list(root_ecs.call("DescribeVpcs", {"RegionId": REGION, "PageSize": 50}), "Vpcs", "Vpc")]
    assert not set(made) & set(hz)
    h.expect_error(lambda: root_ecs.call("DescribeVpcs", {"RegionId": "eu-central-1", "PageSize": 51}), code="InvalidParameter", status=400)
    for v in made:
        root_ecs.call("DeleteVpc", {"RegionId": "eu-central-1", "VpcId": v})


def test_private_ips_fill_the_vswitch(root_ecs):
    """A /29 has 4 usable addresses (first and last three reserved): they go in order, then run out."""
    vpc, vsw = h.ecs_network(root_ecs, "10.40.0.0/16", "10.40.7.0/29")
    body = root_ecs.call("RunInstances", {"RegionId": REGION, "ImageId": "aliyun_3_x64_20G_alibase_20240528.vhd",
                                          "InstanceType": "ecs.t6-c1m1.large", "VSwitchId": vsw, "Amount": 4})
    ids = body["InstanceIdSets"]["InstanceIdSet"]
    described = h.wrapped_list(root_ecs.call("DescribeInstances", {"RegionId": REGION, "VSwitchId": vsw}), "Instances", "Instance")
    ips = sorted(ipaddress.ip_address(i["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]) for i in described)
    assert [str(ip) for ip in ips] == ["10.40.7.1", "10.40.7.2", "10.40.7.3", "10.40.7.4"]
    err = h.expect_error(lambda: h.ecs_instance(root_ecs, vsw), code="QuotaExceeded.PrivateIpAddress", status=400)
    assert vsw in err.message
    sw = h.wrapped_list(root_ecs.call("DescribeVSwitches", {"RegionId": REGION, "VSwitchId": vsw}), "VSwitches", "VSwitch")[0]
    assert sw["AvailableIpAddressCount"] == 0
    root_ecs.call("DeleteInstance", {"InstanceId": ids[1], "Force": True})
    again = h.ecs_instance(root_ecs, vsw)
    assert h.ecs_describe(root_ecs, again)["VpcAttributes"]["PrivateIpAddress"]["IpAddress"] == ["10.40.7.2"]
    for i in ids[:1] + ids[2:] + [again]:
        root_ecs.call("DeleteInstance", {"InstanceId": i, "Force": True})
    root_ecs.call("DeleteVSwitch", {"RegionId": REGION, "VSwitchId": vsw})
    root_ecs.call("DeleteVpc", {"RegionId": REGION, "VpcId": vpc})


def test_xml_format(server, root):
    r = h.raw_v1(server.endpoint, root["AccessKeyId"], root["AccessKeySecret"], "DescribeRegions",
                 version=h.ECS_VERSION, fmt="XML")
    assert r.status_code == 200, r.text
    assert "<DescribeRegionsResponse>" in r.text and "<RegionId>cn-hangzhou</RegionId>" in r.text
    r = h.raw_v1(server.endpoint, root["AccessKeyId"], root["AccessKeySecret"], "DescribeVpcs",
                 version=h.ECS_VERSION, extra={"RegionId": "xx-nowhere-1"})
    assert r.status_code == 404 and json.loads(r.text)["Code"] == "InvalidRegionId.NotFound"
    assert json.loads(r.text)["HostId"] == "ecs.aliyuncs.com"
