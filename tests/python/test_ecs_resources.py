"""ECS 2014-05-26 beyond the instance-role flow (issue 14): images, instance types and families,
instance attributes, reboot, security groups, disks and tags — through the typed
alibabacloud_ecs20140526 client (V3 and V1 signing), aliyunsdkecs request classes (V1) and the
generic caller; and DescribeInstances' fields in the API reference's order."""

import json

import pytest

import rshelpers as h

REGION = h.ECS_REGION
IMAGE = "centos_7_03_64_40G_alibase_20170503.vhd"


@pytest.fixture(scope="module")
def net(root_ecs):
    return h.ecs_network(root_ecs, "10.60.0.0/16", "10.60.1.0/24")


@pytest.fixture(scope="module")
def sg(root_ecs, net):
    return h.ecs_security_group(root_ecs, net[0])


# -- catalogue ------------------------------------------------------------------------------

@pytest.mark.parametrize("signature", ["v3", "v2sig"])
def test_describe_images_typed(typed, signature):
    from alibabacloud_ecs20140526 import models as m
    body = h.tea_call(lambda: typed[signature].describe_images(m.DescribeImagesRequest(region_id=REGION, page_size=100))).body
    ids = [i.image_id for i in body.images.image]
    assert IMAGE in ids and body.total_count == len(ids) and body.region_id == REGION
    centos = body.images.image[ids.index(IMAGE)]
    assert (centos.image_owner_alias, centos.ostype, centos.platform, centos.size, centos.status) == ("system", "linux", "CentOS", 40, "Available")
    assert centos.disk_device_mappings.disk_device_mapping[0].type == "system"
    one = h.tea_call(lambda: typed[signature].describe_images(m.DescribeImagesRequest(region_id=REGION, image_id=IMAGE))).body
    assert [i.image_id for i in one.images.image] == [IMAGE]
    win = h.tea_call(lambda: typed[signature].describe_images(m.DescribeImagesRequest(region_id=REGION, ostype="windows"))).body
    assert win.images.image and all(i.ostype == "windows" for i in win.images.image)
    own = h.tea_call(lambda: typed[signature].describe_images(m.DescribeImagesRequest(region_id=REGION, image_owner_alias="self"))).body
    assert own.total_count == 0


@pytest.mark.parametrize("params,code,status", [
    ({"OSType": "plan9"}, "InvalidOSType", 404),
    ({"Architecture": "mips"}, "InvalidArchitecture", 404),
    ({"ImageOwnerAlias": "nobody"}, "InvalidImageOwnerAlias.ValueNotSupported", 400),
    ({"Usage": "sometimes"}, "InvalidUsage", 404),
    ({"InstanceType": "ecs.nope.large"}, "InvalidInstanceType.ValueNotSupported", 400),
])
def test_describe_images_errors(ecs, params, code, status):
    h.expect_error(lambda: ecs.call("DescribeImages", dict({"RegionId": REGION}, **params)), code=code, status=status)


def test_instance_types_and_families(typed, acs, endpoint):
    from alibabacloud_ecs20140526 import models as m
    types = h.tea_call(lambda: typed["v3"].describe_instance_types(m.DescribeInstanceTypesRequest())).body.instance_types.instance_type
    by_id = {t.instance_type_id: t for t in types}
    assert by_id["ecs.xn4.small"].cpu_core_count == 1 and by_id["ecs.xn4.small"].memory_size == 1.0
    assert by_id["ecs.g7.large"].instance_type_family == "ecs.g7"
    fam = h.tea_call(lambda: typed["v2sig"].describe_instance_types(m.DescribeInstanceTypesRequest(instance_type_family="ecs.t6"))).body
    assert {t.instance_type_id for t in fam.instance_types.instance_type} == {"ecs.t6-c1m1.large", "ecs.t6-c1m2.large"}
    from aliyunsdkecs.request.v20140526.DescribeInstanceTypeFamiliesRequest import DescribeInstanceTypeFamiliesRequest
    req = DescribeInstanceTypeFamiliesRequest()
    req.set_Generation("ecs-4")
    fams = h.wrapped_list(h.core_call(acs, req, endpoint), "InstanceTypeFamilies", "InstanceTypeFamily")
    assert {"Generation": "ecs-4", "InstanceTypeFamilyId": "ecs.g7"} in fams and all(f["Generation"] == "ecs-4" for f in fams)


# -- instances ------------------------------------------------------------------------------

def test_describe_instances_field_order(root_ecs, net, sg):
    inst = h.ecs_instance(root_ecs, net[1], SecurityGroupId=sg)
    body = root_ecs.call("DescribeInstances", {"RegionId": REGION, "InstanceIds": json.dumps([inst])})
    assert [k for k in body if k != "RequestId"] == ["Instances", "NextToken", "PageNumber", "PageSize", "TotalCount"]
    i = body["Instances"]["Instance"][0]
    assert list(i) == sorted(i), list(i)
    assert list(i).index("EipAddress") < list(i).index("PublicIpAddress")
    assert list(i["VpcAttributes"]) == sorted(i["VpcAttributes"])
    assert i["SecurityGroupIds"]["SecurityGroupId"] == [sg]


@pytest.mark.parametrize("signature", ["v3", "v2sig"])
def test_instance_attribute_modify_reboot_typed(typed, root_ecs, net, sg, signature):
    from alibabacloud_ecs20140526 import models as m
    c = typed[signature]
    inst = h.ecs_instance(root_ecs, net[1], SecurityGroupId=sg, InstanceName="before")
    attr = h.tea_call(lambda: c.describe_instance_attribute(m.DescribeInstanceAttributeRequest(instance_id=inst))).body
    assert (attr.instance_id, attr.instance_name, attr.status, attr.vpc_attributes.vpc_id) == (inst, "before", "Stopped", net[0])
    assert attr.security_group_ids.security_group_id == [sg]
    h.tea_call(lambda: c.modify_instance_attribute(m.ModifyInstanceAttributeRequest(
        instance_id=inst, instance_name="after", description="changed", host_name="web-1")))
    attr = h.tea_call(lambda: c.describe_instance_attribute(m.DescribeInstanceAttributeRequest(instance_id=inst))).body
    assert (attr.instance_name, attr.description, attr.host_name) == ("after", "changed", "web-1")
    h.expect_error(lambda: h.tea_call(lambda: c.reboot_instance(m.RebootInstanceRequest(instance_id=inst))),
                   code="IncorrectInstanceStatus", status=403)
    root_ecs.call("StartInstance", {"InstanceId": inst})
    h.tea_call(lambda: c.reboot_instance(m.RebootInstanceRequest(instance_id=inst, force_stop=True)))
    assert h.ecs_describe(root_ecs, inst)["Status"] == "Running"
    h.expect_error(lambda: h.tea_call(lambda: c.modify_instance_attribute(m.ModifyInstanceAttributeRequest(instance_id=inst, password="weak"))),
                   code="InvalidPassword.Malformed", status=400)
    h.expect_error(lambda: h.tea_call(lambda: c.describe_instance_attribute(m.DescribeInstanceAttributeRequest(instance_id="i-bp1nothere"))),
                   code="InvalidInstanceId.NotFound", status=404)


# -- security groups ------------------------------------------------------------------------

def test_security_group_lifecycle(ecs, root_ecs, net):
    name = h.unique_name("sg")
    sg = ecs.call("CreateSecurityGroup", {"RegionId": REGION, "VpcId": net[0], "SecurityGroupName": name, "Description": "web tier",
                                          "Tag.1.Key": "team", "Tag.1.Value": "blue"})["SecurityGroupId"]
    assert sg.startswith("sg-bp1")
    groups = h.wrapped_list(ecs.call("DescribeSecurityGroups", {"RegionId": REGION, "SecurityGroupIds": json.dumps([sg])}),
                            "SecurityGroups", "SecurityGroup")
    assert [(g["SecurityGroupId"], g["SecurityGroupName"], g["VpcId"], g["Description"]) for g in groups] == [(sg, name, net[0], "web tier")]
    assert groups[0]["Tags"]["Tag"] == [{"TagKey": "team", "TagValue": "blue"}]
    rule = {"RegionId": REGION, "SecurityGroupId": sg, "IpProtocol": "tcp", "PortRange": "22/22", "SourceCidrIp": "0.0.0.0/0"}
    ecs.call("AuthorizeSecurityGroup", rule)
    ecs.call("AuthorizeSecurityGroup", rule)  # the same rule again changes nothing
    ecs.call("AuthorizeSecurityGroupEgress", {"RegionId": REGION, "SecurityGroupId": sg, "IpProtocol": "all", "PortRange": "-1/-1",
                                              "DestCidrIp": "10.0.0.0/8", "Policy": "drop"})
    attr = ecs.call("DescribeSecurityGroupAttribute", {"RegionId": REGION, "SecurityGroupId": sg})
    perms = h.wrapped_list(attr, "Permissions", "Permission")
    assert [(p["Direction"], p["IpProtocol"], p["PortRange"], p["SourceCidrIp"], p["DestCidrIp"], p["Policy"]) for p in perms] == [
        ("ingress", "TCP", "22/22", "0.0.0.0/0", "", "Accept"), ("egress", "ALL", "-1/-1", "", "10.0.0.0/8", "Drop")]
    assert attr["VpcId"] == net[0] and list(perms[0]) == sorted(perms[0])
    inst = h.ecs_instance(root_ecs, net[1], SecurityGroupId=sg)
    h.expect_error(lambda: ecs.call("DeleteSecurityGroup", {"RegionId": REGION, "SecurityGroupId": sg}), code="DependencyViolation", status=403)
    root_ecs.call("DeleteInstance", {"InstanceId": inst, "Force": "true"})
    ecs.call("RevokeSecurityGroup", rule)
    h.expect_error(lambda: ecs.call("RevokeSecurityGroup", rule), code="InvalidGroupAuthItem.NotFound", status=403)
    ecs.call("DeleteSecurityGroup", {"RegionId": REGION, "SecurityGroupId": sg})
    h.expect_error(lambda: ecs.call("DescribeSecurityGroupAttribute", {"RegionId": REGION, "SecurityGroupId": sg}),
                   code="InvalidSecurityGroupId.NotFound", status=404)


@pytest.mark.parametrize("extra,code,status", [
    ({"IpProtocol": "sctp"}, "InvalidIpProtocol.ValueNotSupported", 400),
    ({"PortRange": "22"}, "InvalidIpProtocol.Malformed", 400),
    ({"IpProtocol": "icmp", "PortRange": "22/22"}, "OperationDenied", 400),
    ({"SourceCidrIp": None}, "MissingParameter.Source", 400),
    ({"SourceCidrIp": "10.0.0.1/8"}, "InvalidSourceCidrIp.Malformed", 400),
    ({"Policy": "maybe"}, "InvalidPolicy.Malformed", 400),
    ({"Priority": "101"}, "InvalidPriority.Malformed", 400),
    ({"NicType": "wifi"}, "InvalidNicType.ValueNotSupported", 400),
    ({"SecurityGroupId": "sg-bp1nothere"}, "InvalidSecurityGroupId.NotFound", 404),
    ({"SourceCidrIp": None, "SourceGroupId": "sg-bp1nothere"}, "InvalidSourceGroupId.NotFound", 404),
])
def test_authorize_errors(root_ecs, sg, extra, code, status):
    params = {"RegionId": REGION, "SecurityGroupId": sg, "IpProtocol": "tcp", "PortRange": "80/80", "SourceCidrIp": "0.0.0.0/0"}
    params.update(extra)
    h.expect_error(lambda: root_ecs.call("AuthorizeSecurityGroup", params), code=code, status=status)


def test_create_instance_checks_security_group(ecs, root_ecs, net):
    other_vpc, _ = h.ecs_network(root_ecs, "10.61.0.0/16", "10.61.1.0/24")
    foreign = h.ecs_security_group(root_ecs, other_vpc)
    h.expect_error(lambda: h.ecs_instance(ecs, net[1], SecurityGroupId=foreign), code="InvalidParameter.Mismatch", status=400)
    h.expect_error(lambda: h.ecs_instance(ecs, net[1], SecurityGroupId="sg-bp1nothere"), code="InvalidSecurityGroupId.NotFound", status=404)


def test_join_and_leave(root_ecs, net, sg):
    second = h.ecs_security_group(root_ecs, net[0])
    classic = h.ecs_security_group(root_ecs)
    inst = h.ecs_instance(root_ecs, net[1], SecurityGroupId=sg)
    root_ecs.call("JoinSecurityGroup", {"InstanceId": inst, "SecurityGroupId": second})
    assert h.ecs_describe(root_ecs, inst)["SecurityGroupIds"]["SecurityGroupId"] == [sg, second]
    h.expect_error(lambda: root_ecs.call("JoinSecurityGroup", {"InstanceId": inst, "SecurityGroupId": second}),
                   code="InvalidInstanceId.AlreadyExists", status=403)
    h.expect_error(lambda: root_ecs.call("JoinSecurityGroup", {"InstanceId": inst, "SecurityGroupId": classic}),
                   code="InvalidInstanceId.Mismatch", status=400)
    root_ecs.call("LeaveSecurityGroup", {"InstanceId": inst, "SecurityGroupId": sg})
    h.expect_error(lambda: root_ecs.call("LeaveSecurityGroup", {"InstanceId": inst, "SecurityGroupId": sg}),
                   code="InstanceNotInSecurityGroup", status=403)
    h.expect_error(lambda: root_ecs.call("LeaveSecurityGroup", {"InstanceId": inst, "SecurityGroupId": second}),
                   code="InstanceLastSecurityGroup", status=403)
    by_group = h.wrapped_list(root_ecs.call("DescribeInstances", {"RegionId": REGION, "SecurityGroupId": second}), "Instances", "Instance")
    assert inst in [i["InstanceId"] for i in by_group]


def test_security_group_v1_request_classes(acs, endpoint, net):
    from aliyunsdkecs.request.v20140526.CreateSecurityGroupRequest import CreateSecurityGroupRequest
    from aliyunsdkecs.request.v20140526.DescribeSecurityGroupsRequest import DescribeSecurityGroupsRequest
    req = CreateSecurityGroupRequest()
    req.set_VpcId(net[0])
    req.set_SecurityGroupName("v1-group")
    sg = h.core_call(acs, req, endpoint)["SecurityGroupId"]
    req = DescribeSecurityGroupsRequest()
    req.set_VpcId(net[0])
    assert sg in [g["SecurityGroupId"] for g in h.wrapped_list(h.core_call(acs, req, endpoint), "SecurityGroups", "SecurityGroup")]


# -- disks and tags -------------------------------------------------------------------------

@pytest.mark.parametrize("signature", ["v3", "v2sig"])
def test_describe_disks_typed(typed, root_ecs, net, signature):
    from alibabacloud_ecs20140526 import models as m
    inst = h.ecs_instance(root_ecs, net[1], **{"SystemDisk.Category": "cloud_essd", "SystemDisk.Size": "60"})
    body = h.tea_call(lambda: typed[signature].describe_disks(m.DescribeDisksRequest(region_id=REGION, instance_id=inst))).body
    (d,) = body.disks.disk
    assert (d.disk_id, d.instance_id, d.type, d.category, d.size, d.status, d.device) == \
        ("d-" + inst[2:], inst, "system", "cloud_essd", 60, "In_use", "/dev/xvda")
    assert body.total_count == 1
    none = h.tea_call(lambda: typed[signature].describe_disks(m.DescribeDisksRequest(region_id=REGION, instance_id=inst, disk_type="data"))).body
    assert none.total_count == 0
    h.expect_error(lambda: h.tea_call(lambda: typed[signature].describe_disks(m.DescribeDisksRequest(region_id=REGION, disk_type="floppy"))),
                   code="InvalidDiskType.ValueNotSupported", status=400)


def test_tags(ecs, root_ecs, net):
    inst = h.ecs_instance(root_ecs, net[1], **{"Tag.1.Key": "env", "Tag.1.Value": "test"})
    disk = "d-" + inst[2:]
    assert h.ecs_describe(root_ecs, inst)["Tags"]["Tag"] == [{"TagKey": "env", "TagValue": "test"}]
    ecs.call("TagResources", {"RegionId": REGION, "ResourceType": "instance", "ResourceId.1": inst,
                              "Tag.1.Key": "owner", "Tag.1.Value": "alice", "Tag.2.Key": "env", "Tag.2.Value": "prod"})
    ecs.call("TagResources", {"RegionId": REGION, "ResourceType": "disk", "ResourceId.1": disk, "Tag.1.Key": "backup"})
    listed = ecs.call("ListTagResources", {"RegionId": REGION, "ResourceType": "instance", "ResourceId.1": inst})
    assert h.wrapped_list(listed, "TagResources", "TagResource") == [
        {"ResourceId": inst, "ResourceType": "instance", "TagKey": "env", "TagValue": "prod"},
        {"ResourceId": inst, "ResourceType": "instance", "TagKey": "owner", "TagValue": "alice"}]
    by_tag = ecs.call("ListTagResources", {"RegionId": REGION, "ResourceType": "instance", "Tag.1.Key": "owner", "Tag.1.Value": "alice"})
    assert {t["ResourceId"] for t in h.wrapped_list(by_tag, "TagResources", "TagResource")} == {inst}
    filtered = root_ecs.call("DescribeInstances", {"RegionId": REGION, "Tag.1.Key": "owner", "Tag.1.Value": "alice"})
    assert [i["InstanceId"] for i in h.wrapped_list(filtered, "Instances", "Instance")] == [inst]
    disks = root_ecs.call("DescribeDisks", {"RegionId": REGION, "DiskIds": json.dumps([disk])})
    assert h.wrapped_list(disks, "Disks", "Disk")[0]["Tags"]["Tag"] == [{"TagKey": "backup", "TagValue": ""}]
    ecs.call("UntagResources", {"RegionId": REGION, "ResourceType": "instance", "ResourceId.1": inst, "TagKey.1": "env"})
    assert h.ecs_describe(root_ecs, inst)["Tags"]["Tag"] == [{"TagKey": "owner", "TagValue": "alice"}]
    ecs.call("UntagResources", {"RegionId": REGION, "ResourceType": "instance", "ResourceId.1": inst, "All": "true"})
    assert h.ecs_describe(root_ecs, inst)["Tags"]["Tag"] == []


@pytest.mark.parametrize("params,code,status", [
    ({"ResourceType": "bucket", "ResourceId.1": "x", "Tag.1.Key": "k"}, "InvalidResourceType.NotFound", 404),
    ({"ResourceType": "instance", "ResourceId.1": "i-bp1nothere", "Tag.1.Key": "k"}, "InvalidResourceId.NotFound", 404),
    ({"ResourceType": "instance", "ResourceId.1": "{inst}", "Tag.1.Key": "aliyun-x"}, "InvalidTagKey.Malformed", 400),
    ({"ResourceType": "instance", "ResourceId.1": "{inst}", "Tag.1.Key": "a", "Tag.2.Key": "a"}, "Duplicate.TagKey", 400),
])
def test_tag_errors(root_ecs, net, params, code, status):
    inst = h.ecs_instance(root_ecs, net[1])
    params = {k: v.replace("{inst}", inst) for k, v in params.items()}
    h.expect_error(lambda: root_ecs.call("TagResources", dict({"RegionId": REGION}, **params)), code=code, status=status)


def test_tag_typed(typed, root_ecs, net):
    from alibabacloud_ecs20140526 import models as m
    inst = h.ecs_instance(root_ecs, net[1])
    c = typed["v3"]
    h.tea_call(lambda: c.tag_resources(m.TagResourcesRequest(region_id=REGION, resource_type="instance", resource_id=[inst],
                                                             tag=[m.TagResourcesRequestTag(key="k", value="v")])))
    body = h.tea_call(lambda: c.list_tag_resources(m.ListTagResourcesRequest(region_id=REGION, resource_type="instance", resource_id=[inst]))).body
    assert [(t.resource_id, t.tag_key, t.tag_value) for t in body.tag_resources.tag_resource] == [(inst, "k", "v")]
    h.tea_call(lambda: c.untag_resources(m.UntagResourcesRequest(region_id=REGION, resource_type="instance", resource_id=[inst], tag_key=["k"])))
    body = h.tea_call(lambda: c.list_tag_resources(m.ListTagResourcesRequest(region_id=REGION, resource_type="instance", resource_id=[inst]))).body
    assert body.tag_resources.tag_resource == []
