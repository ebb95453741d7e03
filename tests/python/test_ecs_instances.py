"""ECS 2014-05-26 instances: CreateInstance (Stopped) / RunInstances (Running), the full Instance
shape DescribeInstances returns (typed model), lifecycle and IncorrectInstanceStatus, Force delete,
classic vs VPC networking, parameter errors, paging (PageNumber/PageSize and NextToken/MaxResults),
metadata options, DryRun — through the typed client (V3/V1), aliyunsdkecs request classes and the
generic caller."""

import ipaddress
import json
import re

import pytest

import rshelpers as h

REGION = h.ECS_REGION
IMAGE = "centos_7_03_64_40G_alibase_20170503.vhd"
ITYPE = "ecs.xn4.small"


@pytest.fixture(scope="module")
def net(root_ecs):
    """(vpc_id, vswitch_id) with a /24 in cn-hangzhou-h, shared by the module."""
    return h.ecs_network(root_ecs, "172.20.0.0/16", "172.20.5.0/24", "cn-hangzhou-h")


def create(api, vswitch=None, **extra):
    return h.ecs_instance(api, vswitch, **extra)


# -- create and describe ----------------------------------------------------------------------

def test_create_instance_typed_v3_full_shape(typed, net):
    from alibabacloud_ecs20140526 import models as m
    vpc, vsw = net
    c = typed["v3"]
    resp = h.tea_call(lambda: c.create_instance(m.CreateInstanceRequest(
        region_id=REGION, image_id=IMAGE, instance_type=ITYPE, v_switch_id=vsw, instance_name="web-1"))).body
    iid = resp.instance_id
    assert re.fullmatch(r"i-bp1[a-z0-9]{17}", iid), iid
    assert resp.request_id and resp.order_id.isdigit() and isinstance(resp.trade_price, float)
    d = h.tea_call(lambda: c.describe_instances(m.DescribeInstancesRequest(
        region_id=REGION, instance_ids=json.dumps([iid])))).body
    assert d.total_count == 1 and d.page_number == 1 and d.page_size == 10
    inst = d.instances.instance[0]
    assert inst.instance_id == iid and inst.instance_name == "web-1"
    assert inst.status == "Stopped", "CreateInstance leaves the instance Stopped"
    assert (inst.region_id, inst.zone_id, inst.image_id, inst.instance_type) == (REGION, "cn-hangzhou-h", IMAGE, ITYPE)
    assert inst.instance_network_type == "vpc"
    assert inst.vpc_attributes.vpc_id == vpc and inst.vpc_attributes.v_switch_id == vsw
    ip = inst.vpc_attributes.private_ip_address.ip_address[0]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("172.20.5.0/24")
    assert inst.inner_ip_address.ip_address == []
    assert inst.host_name == f"iZ{iid[2:]}Z"
    nic = inst.network_interfaces.network_interface[0]
    assert re.fullmatch(r"00:16:3e(:[0-9a-f]{2}){3}", nic.mac_address) and nic.primary_ip_address == ip
    assert inst.metadata_options.http_endpoint == "enabled" and inst.metadata_options.http_tokens == "optional"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", inst.creation_time), inst.creation_time
    assert inst.cpu == 1 and inst.memory == 1024 and inst.instance_type_family == "ecs.xn4"
    assert inst.osname and inst.ostype == "linux" and inst.instance_charge_type == "PostPaid"
    assert re.fullmatch(r"[0-9a-f-]{36}", inst.serial_number)
    h.tea_call(lambda: c.delete_instance(m.DeleteInstanceRequest(instance_id=iid)))


def test_create_instance_v1_request_class(acs, endpoint, net):
    from aliyunsdkecs.request.v20140526.CreateInstanceRequest import CreateInstanceRequest
    from aliyunsdkecs.request.v20140526.DeleteInstanceRequest import DeleteInstanceRequest
    from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
    from aliyunsdkecs.request.v20140526.StartInstanceRequest import StartInstanceRequest
    from aliyunsdkecs.request.v20140526.StopInstanceRequest import StopInstanceRequest
    req = CreateInstanceRequest()
    req.set_ImageId("ubuntu_22_04_x64_20G_alibase_20240530.vhd")
    req.set_InstanceType("ecs.g7.large")
    req.set_VSwitchId(net[1])
    req.set_HostName("app-server")
    iid = h.core_call(acs, req, endpoint)["InstanceId"]
    req = DescribeInstancesRequest()
    req.set_InstanceIds(json.dumps([iid]))
    inst = h.wrapped_list(h.core_call(acs, req, endpoint), "Instances", "Instance")[0]
    assert inst["Status"] == "Stopped" and inst["HostName"] == "app-server" and inst["Memory"] == 8192
    req = StartInstanceRequest()
    req.set_InstanceId(iid)
    h.core_call(acs, req, endpoint)
    req = DeleteInstanceRequest()
    req.set_InstanceId(iid)
    err = h.expect_error(lambda: h.core_call(acs, req, endpoint), code="IncorrectInstanceStatus", status=403)
    assert iid in err.message
    req = StopInstanceRequest()
    req.set_InstanceId(iid)
    h.core_call(acs, req, endpoint)
    req = DeleteInstanceRequest()
    req.set_InstanceId(iid)
    h.core_call(acs, req, endpoint)


def test_lifecycle(ecs, net):
    iid = create(ecs, net[1])
    status = lambda: h.ecs_describe(ecs, iid)["Status"]  # noqa: E731
    assert status() == "Stopped"
    h.expect_error(lambda: ecs.call("StopInstance", {"InstanceId": iid}), code="IncorrectInstanceStatus", status=403)
    ecs.call("StartInstance", {"InstanceId": iid})
    assert status() == "Running"
    h.expect_error(lambda: ecs.call("StartInstance", {"InstanceId": iid}), code="IncorrectInstanceStatus", status=403)
    ecs.call("StopInstance", {"InstanceId": iid})
    assert status() == "Stopped"
    ecs.call("StartInstance", {"InstanceId": iid})
    h.expect_error(lambda: ecs.call("DeleteInstance", {"InstanceId": iid}), code="IncorrectInstanceStatus", status=403)
    h.expect_error(lambda: ecs.call("DeleteInstance", {"InstanceId": iid, "Force": "false"}), code="IncorrectInstanceStatus", status=403)
    assert status() == "Running"
    ecs.call("DeleteInstance", {"InstanceId": iid, "Force": "true"})
    body = ecs.call("DescribeInstances", {"RegionId": REGION, "InstanceIds": json.dumps([iid])})
    assert body["TotalCount"] == 0 and h.wrapped_list(body, "Instances", "Instance") == []
    for action in ("StartInstance", "StopInstance", "DeleteInstance"):
        h.expect_error(lambda: ecs.call(action, {"InstanceId": iid}), code="InvalidInstanceId.NotFound", status=404)


def test_run_instances(typed, root_ecs, net):
    from alibabacloud_ecs20140526 import models as m
    c = typed["v2sig"]
    body = h.tea_call(lambda: c.run_instances(m.RunInstancesRequest(
        region_id=REGION, image_id="aliyun_3_x64_20G_alibase_20240528.vhd", instance_type="ecs.t6-c1m1.large",
        v_switch_id=net[1], amount=3, instance_name="batch-", host_name="node-", unique_suffix=True))).body
    ids = body.instance_id_sets.instance_id_set
    assert len(ids) == 3 and len(set(ids)) == 3 and body.order_id
    insts = h.wrapped_list(root_ecs.call("DescribeInstances", {"RegionId": REGION, "InstanceIds": json.dumps(ids)}), "Instances", "Instance")
    assert {i["Status"] for i in insts} == {"Running"}, "RunInstances starts the instances"
    assert sorted(i["InstanceName"] for i in insts) == ["batch-001", "batch-002", "batch-003"]
    assert sorted(i["HostName"] for i in insts) == ["node-001", "node-002", "node-003"]
    ips = [i["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0] for i in insts]
    assert len(set(ips)) == 3
    macs = [i["NetworkInterfaces"]["NetworkInterface"][0]["MacAddress"] for i in insts]
    assert len(set(macs)) == 3
    for i in ids:
        root_ecs.call("DeleteInstance", {"InstanceId": i, "Force": True})


@pytest.mark.parametrize("amount", ["0", "101", "abc"])
def test_run_instances_amount(root_ecs, net, amount):
    h.expect_error(lambda: root_ecs.call("RunInstances", {"RegionId": REGION, "ImageId": IMAGE, "InstanceType": ITYPE,
                                                          "VSwitchId": net[1], "Amount": amount}), code="InvalidParam.Amount", status=403)


def test_run_instances_min_amount(typed, root_ecs):
    """MinAmount: with fewer free addresses than Amount (the vSwitch is the only "inventory" here),
    as many instances as there are addresses, if that is at least MinAmount; without MinAmount, or
    with fewer than MinAmount, none."""
    from alibabacloud_ecs20140526 import models as m
    vpc, vsw = h.ecs_network(root_ecs, "172.21.0.0/16", "172.21.0.0/29", "cn-hangzhou-h")  # 4 usable
    c = typed["v3"]

    def run(amount, min_amount=None):
        return h.tea_call(lambda: c.run_instances(m.RunInstancesRequest(
            region_id=REGION, image_id=IMAGE, instance_type=ITYPE, v_switch_id=vsw, amount=amount,
            min_amount=min_amount))).body

    h.expect_error(lambda: run(6), code="QuotaExceeded.PrivateIpAddress", status=400)
    h.expect_error(lambda: run(6, 5), code="QuotaExceeded.PrivateIpAddress", status=400)
    h.expect_error(lambda: run(2, 3), code="InvalidMinAmount.Malformed", status=400)
    three = run(3, 3)
    first = three.instance_id_sets.instance_id_set
    assert len(first) == 3
    rest = run(6, 1)
    assert len(rest.instance_id_sets.instance_id_set) == 1, "only one address was left"
    assert rest.trade_price == pytest.approx(three.trade_price / 3), "priced for what was created"
    h.expect_error(lambda: run(2, 1), code="QuotaExceeded.PrivateIpAddress", status=400)
    ids = first + rest.instance_id_sets.instance_id_set
    listed = h.wrapped_list(root_ecs.call("DescribeInstances", {"RegionId": REGION, "VSwitchId": vsw}), "Instances", "Instance")
    assert sorted(i["InstanceId"] for i in listed) == sorted(ids)
    for i in ids:
        root_ecs.call("DeleteInstance", {"InstanceId": i, "Force": True})
    root_ecs.call("DeleteVSwitch", {"RegionId": REGION, "VSwitchId": vsw})
    root_ecs.call("DeleteVpc", {"RegionId": REGION, "VpcId": vpc})


def test_client_token_idempotence(typed, root_ecs, net, unique_name):
    """ClientToken: a CreateInstance/RunInstances sent again with a used token and the same
    parameters answers the same instance ids and creates nothing; other parameters are
    IdempotentParameterMismatch; a refused call (DryRun) does not use the token up."""
    from alibabacloud_ecs20140526 import models as m
    c = typed["v3"]
    token = unique_name("tok")

    def create(name, dry_run=None):
        return h.tea_call(lambda: c.create_instance(m.CreateInstanceRequest(
            region_id=REGION, image_id=IMAGE, instance_type=ITYPE, v_switch_id=net[1], instance_name=name,
            client_token=token, dry_run=dry_run))).body

    h.expect_error(lambda: create(token + "a", dry_run=True), code="DryRunOperation", status=400)
    first, again = create(token + "a"), create(token + "a")
    assert again.instance_id == first.instance_id and again.order_id == first.order_id
    assert again.request_id != first.request_id
    named = h.wrapped_list(root_ecs.call("DescribeInstances", {"RegionId": REGION, "InstanceName": token + "a"}), "Instances", "Instance")
    assert [i["InstanceId"] for i in named] == [first.instance_id], "the repeat created nothing"
    h.expect_error(lambda: create(token + "b"), code="IdempotentParameterMismatch", status=400)

    def run():
        return h.tea_call(lambda: c.run_instances(m.RunInstancesRequest(
            region_id=REGION, image_id=IMAGE, instance_type=ITYPE, v_switch_id=net[1], amount=2,
            client_token=token))).body.instance_id_sets.instance_id_set

    ids = run()  # the same token for another action is another request
    assert len(ids) == 2 and first.instance_id not in ids and run() == ids
    h.expect_error(lambda: root_ecs.call("CreateInstance", {"RegionId": REGION, "ImageId": IMAGE, "InstanceType": ITYPE,
                                                           "VSwitchId": net[1], "ClientToken": "t" * 65}),
                   code="InvalidParameter", status=400)
    for i in ids + [first.instance_id]:
        root_ecs.call("DeleteInstance", {"InstanceId": i, "Force": True})


def test_classic_instance(ecs):
    iid = create(ecs)  # no VSwitchId: classic network (cn-hangzhou still offers it)
    inst = h.ecs_describe(ecs, iid)
    assert inst["InstanceNetworkType"] == "classic"
    assert inst["VpcAttributes"]["VpcId"] == "" and inst["VpcAttributes"]["PrivateIpAddress"]["IpAddress"] == []
    inner = inst["InnerIpAddress"]["IpAddress"]
    assert len(inner) == 1 and ipaddress.ip_address(inner[0]) in ipaddress.ip_network("10.0.0.0/8")
    assert inst["ZoneId"].startswith("cn-hangzhou-")
    classic = h.wrapped_list(ecs.call("DescribeInstances", {"RegionId": REGION, "InstanceNetworkType": "classic",
                                                            "InnerIpAddresses": json.dumps(inner)}), "Instances", "Instance")
    assert [i["InstanceId"] for i in classic] == [iid]
    ecs.call("DeleteInstance", {"InstanceId": iid})


def test_vpc_only_region_needs_vswitch(ecs):
    err = h.expect_error(lambda: create(ecs, region="ap-southeast-1"), code="InvalidVSwitchId.Necessary", status=400)
    assert "ap-southeast-1" in err.message


def test_instance_ids_follow_the_region(root_ecs):
    vpc, vsw = h.ecs_network(root_ecs, "10.50.0.0/16", "10.50.1.0/24", "cn-shanghai-l", region="cn-shanghai")
    iid = create(root_ecs, vsw, region="cn-shanghai")
    assert re.fullmatch(r"i-uf6[a-z0-9]{17}", iid) and vpc.startswith("vpc-uf6")
    # not visible from another region
    body = root_ecs.call("DescribeInstances", {"RegionId": REGION, "InstanceIds": json.dumps([iid])})
    assert body["TotalCount"] == 0
    # and a vSwitch of cn-shanghai cannot be used in cn-hangzhou
    h.expect_error(lambda: create(root_ecs, vsw), code="InvalidVSwitchId.NotFound", status=404)
    root_ecs.call("DeleteInstance", {"InstanceId": iid})
    root_ecs.call("DeleteVSwitch", {"RegionId": "cn-shanghai", "VSwitchId": vsw})
    root_ecs.call("DeleteVpc", {"RegionId": "cn-shanghai", "VpcId": vpc})


@pytest.mark.parametrize("extra,code,status", [
    ({"ImageId": "no_such_image.vhd"}, "InvalidImageId.NotFound", 404),
    ({"InstanceType": "ecs.nope.large"}, "InvalidInstanceType.ValueNotSupported", 400),
    ({"ZoneId": "cn-hangzhou-g"}, "InvalidParameter.Mismatch", 400),  # the vSwitch is in cn-hangzhou-h
    ({"ZoneId": "cn-hangzhou-q"}, "InvalidZoneId.NotFound", 404),
    ({"VSwitchId": "vsw-bp1nosuchvswitch00000"}, "InvalidVSwitchId.NotFound", 404),
    ({"HttpTokens": "always"}, "InvalidHttpTokens.NotSupported", 400),
    ({"HttpEndpoint": "on"}, "InvalidHttpEndpoint.NotSupported", 400),
    ({"HttpPutResponseHopLimit": "65"}, "InvalidHttpPutResponseHopLimit.NotSupported", 400),
    ({"InstanceName": "9lives"}, "InvalidInstanceName.Malformed", 400),
    ({"HostName": "-bad-"}, "InvalidHostName.Malformed", 400),
    ({"Password": "password"}, "InvalidPassword.Malformed", 400),
    ({"SystemDisk.Category": "floppy"}, "InvalidSystemDiskCategory.ValueNotSupported", 400),
    ({"PrivateIpAddress": "10.9.9.9"}, "InvalidPrivateIpAddress", 400),
])
def test_create_instance_errors(ecs, net, extra, code, status):
    h.expect_error(lambda: create(ecs, net[1], **extra), code=code, status=status)


def test_metadata_hop_limit_reads_back(root_ecs, net):
    """HttpPutResponseHopLimit is kept as asked (1 when never asked) and shown by DescribeInstances."""
    iid = create(root_ecs, net[1], HttpPutResponseHopLimit="10")
    options = lambda: h.ecs_describe(root_ecs, iid)["MetadataOptions"]  # noqa: E731
    assert options()["HttpPutResponseHopLimit"] == 10
    root_ecs.call("ModifyInstanceMetadataOptions", {"InstanceId": iid, "HttpTokens": "required"})
    assert options() == {"HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 10, "HttpTokens": "required"}
    root_ecs.call("ModifyInstanceMetadataOptions", {"InstanceId": iid, "HttpPutResponseHopLimit": "64"})
    assert options()["HttpPutResponseHopLimit"] == 64 and options()["HttpTokens"] == "required"
    plain = create(root_ecs, net[1])
    assert h.ecs_describe(root_ecs, plain)["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    for i in (iid, plain):
        root_ecs.call("DeleteInstance", {"InstanceId": i})


def test_instance_name_characters(root_ecs, net):
    """InstanceName may hold ':' and ',' (besides '.', '_', '-'); the error for a bad one says so."""
    iid = create(root_ecs, net[1], InstanceName="web:1,blue")
    assert h.ecs_describe(root_ecs, iid)["InstanceName"] == "web:1,blue"
    err = h.expect_error(lambda: create(root_ecs, net[1], InstanceName="web 1"), code="InvalidInstanceName.Malformed", status=400)
    assert "':'" in err.message and "','" in err.message, err.message
    root_ecs.call("DeleteInstance", {"InstanceId": iid})


@pytest.mark.parametrize("missing", ["ImageId", "InstanceType", "RegionId"])
def test_create_instance_missing_parameter(ecs_apis, net, missing):
    params = {"RegionId": REGION, "ImageId": IMAGE, "InstanceType": ITYPE, "VSwitchId": net[1]}
    del params[missing]
    for kind in ("v3", "v2sig"):
        err = h.expect_error(lambda: ecs_apis[kind].call("CreateInstance", params), code="MissingParameter", status=400)
        assert f'"{missing}"' in err.message


def test_chosen_private_ip(root_ecs, net):
    iid = create(root_ecs, net[1], PrivateIpAddress="172.20.5.200")
    assert h.ecs_describe(root_ecs, iid)["VpcAttributes"]["PrivateIpAddress"]["IpAddress"] == ["172.20.5.200"]
    h.expect_error(lambda: create(root_ecs, net[1], PrivateIpAddress="172.20.5.200"), code="InvalidPrivateIpAddress.Duplicated", status=400)
    h.expect_error(lambda: create(root_ecs, net[1], PrivateIpAddress="172.20.5.255"), code="InvalidPrivateIpAddress", status=400)
    root_ecs.call("DeleteInstance", {"InstanceId": iid})


def test_dry_run(ecs, net):
    h.expect_error(lambda: create(ecs, net[1], DryRun="true"), code="DryRunOperation", status=400)
    assert h.wrapped_list(ecs.call("DescribeInstances", {"RegionId": REGION, "VSwitchId": net[1], "InstanceName": "dry-*"}), "Instances", "Instance") == []
    iid = create(ecs, net[1])
    h.expect_error(lambda: ecs.call("StartInstance", {"InstanceId": iid, "DryRun": "true"}), code="DryRunOperation", status=400)
    assert h.ecs_describe(ecs, iid)["Status"] == "Stopped"
    ecs.call("DeleteInstance", {"InstanceId": iid})


# -- DescribeInstances filters and paging ---------------------------------------------------------

@pytest.fixture(scope="module")
def five(root_ecs):
    """Five instances in their own vSwitch (names p-0..p-4); two of them running."""
    vpc, vsw = h.ecs_network(root_ecs, "10.60.0.0/16", "10.60.1.0/24", "cn-hangzhou-i")
    ids = [create(root_ecs, vsw, InstanceName=f"p-{n}") for n in range(5)]
    for iid in ids[:2]:
        root_ecs.call("StartInstance", {"InstanceId": iid})
    yield vsw, ids
    for iid in ids:
        root_ecs.call("DeleteInstance", {"InstanceId": iid, "Force": True})
    root_ecs.call("DeleteVSwitch", {"RegionId": REGION, "VSwitchId": vsw})
    root_ecs.call("DeleteVpc", {"RegionId": REGION, "VpcId": vpc})


def test_page_number_paging(ecs, five):
    vsw, ids = five
    pages = []
    for n in (1, 2, 3, 4):
        body = ecs.call("DescribeInstances", {"RegionId": REGION, "VSwitchId": vsw, "PageSize": 2, "PageNumber": n})
        assert body["TotalCount"] == 5 and body["PageNumber"] == n and body["PageSize"] == 2
        pages.append([i["InstanceId"] for i in h.wrapped_list(body, "Instances", "Instance")])
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    flat = [i for p in pages for i in p]
    assert sorted(flat) == sorted(ids)


def test_next_token_paging(ecs, five):
    vsw, ids = five
    seen, token, rounds = [], None, 0
    while True:
        params = {"RegionId": REGION, "VSwitchId": vsw, "MaxResults": 2}
        if token:
            params["NextToken"] = token
        body = ecs.call("DescribeInstances", params)
        items = h.wrapped_list(body, "Instances", "Instance")
        assert len(items) <= 2
        seen += [i["InstanceId"] for i in items]
        token = body.get("NextToken")
        rounds += 1
        if not token:
            break
    assert rounds == 3 and sorted(seen) == sorted(ids) and len(seen) == 5
    h.expect_error(lambda: ecs.call("DescribeInstances", {"RegionId": REGION, "NextToken": "not-a-token"}),
                   code="InvalidParameter.NextToken", status=400)


def test_next_token_typed(typed, five):
    from alibabacloud_ecs20140526 import models as m
    vsw, ids = five
    c = typed["v3"]
    first = h.tea_call(lambda: c.describe_instances(m.DescribeInstancesRequest(region_id=REGION, v_switch_id=vsw, max_results=4))).body
    assert len(first.instances.instance) == 4 and first.next_token
    rest = h.tea_call(lambda: c.describe_instances(m.DescribeInstancesRequest(
        region_id=REGION, v_switch_id=vsw, max_results=4, next_token=first.next_token))).body
    assert len(rest.instances.instance) == 1 and not rest.next_token
    assert sorted([i.instance_id for i in first.instances.instance + rest.instances.instance]) == sorted(ids)


def test_describe_filters(ecs, five):
    vsw, ids = five
    def found(**f):
        return sorted(i["InstanceId"] for i in h.wrapped_list(ecs.call("DescribeInstances", dict({"RegionId": REGION, "VSwitchId": vsw}, **f)), "Instances", "Instance"))
    assert found(Status="Running") == sorted(ids[:2])
    assert found(Status="Stopped") == sorted(ids[2:])
    assert found(InstanceName="p-3") == [ids[3]]
    assert found(InstanceName="p-*") == sorted(ids)
    assert found(InstanceIds=json.dumps(ids[1:3])) == sorted(ids[1:3])
    assert found(InstanceIds="[]") == []
    assert found(InstanceType="ecs.g7.large") == []
    assert found(InstanceTypeFamily="ecs.xn4") == sorted(ids)
    assert found(ZoneId="cn-hangzhou-j") == []
    assert found(InstanceNetworkType="classic") == []
    h.expect_error(lambda: found(Status="Exploded"), code="InvalidStatus.NotFound", status=404)
    h.expect_error(lambda: found(InstanceNetworkType="mesh"), code="InvalidNetworkType.NotFound", status=404)
    h.expect_error(lambda: found(InstanceIds="i-abc"), code="InvalidInstanceIds.Malformed", status=400)
    h.expect_error(lambda: found(PageSize=101), code="InvalidParameter", status=400)


def test_describe_by_private_ip(root_ecs, five):
    vsw, ids = five
    inst = h.ecs_describe(root_ecs, ids[4])
    ip = inst["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
    body = root_ecs.call("DescribeInstances", {"RegionId": REGION, "PrivateIpAddresses": json.dumps([ip])})
    assert [i["InstanceId"] for i in h.wrapped_list(body, "Instances", "Instance")] == [ids[4]]


# -- metadata options -------------------------------------------------------------------------------

def test_metadata_options(ecs, net):
    iid = create(ecs, net[1], HttpTokens="required")
    assert h.ecs_describe(ecs, iid)["MetadataOptions"]["HttpTokens"] == "required"
    ecs.call("ModifyInstanceMetadataOptions", {"RegionId": REGION, "InstanceId": iid, "HttpTokens": "optional", "HttpEndpoint": "disabled"})
    opts = h.ecs_describe(ecs, iid)["MetadataOptions"]
    assert (opts["HttpTokens"], opts["HttpEndpoint"]) == ("optional", "disabled")
    ecs.call("ModifyInstanceMetadataOptions", {"RegionId": REGION, "InstanceId": iid, "HttpEndpoint": "enabled"})
    opts = h.ecs_describe(ecs, iid)["MetadataOptions"]
    assert (opts["HttpTokens"], opts["HttpEndpoint"]) == ("optional", "enabled"), "an absent option is left alone"
    h.expect_error(lambda: ecs.call("ModifyInstanceMetadataOptions", {"RegionId": REGION, "InstanceId": iid, "HttpTokens": "sometimes"}),
                   code="InvalidHttpTokens.NotSupported", status=400)
    h.expect_error(lambda: ecs.call("ModifyInstanceMetadataOptions", {"RegionId": REGION, "InstanceId": "i-bp1doesnotexist00000", "HttpTokens": "required"}),
                   code="InvalidInstanceId.NotFound", status=404)
    ecs.call("DeleteInstance", {"InstanceId": iid})


def test_metadata_options_typed_and_filter(typed, root_ecs, net):
    from alibabacloud_ecs20140526 import models as m
    c = typed["v3"]
    iid = create(root_ecs, net[1])
    h.tea_call(lambda: c.modify_instance_metadata_options(m.ModifyInstanceMetadataOptionsRequest(
        region_id=REGION, instance_id=iid, http_tokens="required")))
    body = h.tea_call(lambda: c.describe_instances(m.DescribeInstancesRequest(
        region_id=REGION, v_switch_id=net[1], http_tokens="required"))).body
    assert iid in [i.instance_id for i in body.instances.instance]
    assert all(i.metadata_options.http_tokens == "required" for i in body.instances.instance)
    root_ecs.call("DeleteInstance", {"InstanceId": iid})


def test_forbidden_without_ecs_permission(ram_user, api_for, server, net):
    _, ak, sk = ram_user()
    user = h.ecs_api("v3", server.endpoint, ak, sk)
    err = h.expect_error(lambda: user.call("DescribeInstances", {"RegionId": REGION}), code="Forbidden.RAM", status=403)
    assert "ecs:DescribeInstances" in err.message
    h.expect_error(lambda: create(user, net[1]), code="Forbidden.RAM", status=403)


def test_read_only_user(ram_user, server, root_ecs, net):
    _, ak, sk = ram_user(policies=["AliyunECSReadOnlyAccess"])
    user = h.ecs_api("core", server.endpoint, ak, sk)
    iid = create(root_ecs, net[1])
    assert h.ecs_describe(user, iid)["InstanceId"] == iid
    h.expect_error(lambda: user.call("StartInstance", {"InstanceId": iid}), code="Forbidden.RAM", status=403)
    root_ecs.call("DeleteInstance", {"InstanceId": iid})
