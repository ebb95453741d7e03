"""Instance user data end to end: UserData on CreateInstance / RunInstances / ModifyInstanceAttribute
and DescribeUserData through the typed alibabacloud_ecs20140526 client, `/latest/user-data` read
from inside the instance (`rolestack instance exec`) and through its metadata service, the
network-interface items of the metadata tree (network-interface-id, netmask, gateway), and the
refusals (not Base64, too long, classic network, running instance) with ECS's codes and statuses."""

import base64
import json
import sys

import pytest
import requests

import rshelpers as h
from instancekit import cli, environment, exec_in, metadata

REGION = h.ECS_REGION
IMAGE = "centos_7_03_64_40G_alibase_20170503.vhd"
ITYPE = "ecs.xn4.small"
SCRIPT = b"#!/bin/sh\necho hello from user data\n\xff\x00binary tail\n"
LIMIT = 32 * 1024
# run inside the instance; prints the bytes as hex (the CLI helper reads text)
READ_USER_DATA = "import urllib.request; print(urllib.request.urlopen('http://100.100.100.200/latest/user-data', timeout=5).read().hex())"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.fixture(scope="module")
def net(root_ecs):
    """A VPC with a /22 vSwitch: netmask 255.255.252.0, gateway 10.62.7.253."""
    return h.ecs_network(root_ecs, "10.62.0.0/16", "10.62.4.0/22")


@pytest.fixture(scope="module")
def tea(typed):
    return typed["v3"]


def create(tea, vsw, **kw):
    from alibabacloud_ecs20140526 import models as m
    req = m.CreateInstanceRequest(region_id=REGION, image_id=IMAGE, instance_type=ITYPE, v_switch_id=vsw, **kw)
    return h.tea_call(lambda: tea.create_instance(req)).body.instance_id


def describe_user_data(tea, iid):
    from alibabacloud_ecs20140526 import models as m
    return h.tea_call(lambda: tea.describe_user_data(m.DescribeUserDataRequest(region_id=REGION, instance_id=iid))).body


def modify(tea, iid, user_data):
    from alibabacloud_ecs20140526 import models as m
    return h.tea_call(lambda: tea.modify_instance_attribute(m.ModifyInstanceAttributeRequest(instance_id=iid, user_data=user_data)))


def latest(env, path):
    return requests.get(f"http://{env['Proxy']}/latest/{path}", timeout=5)


def test_create_describe_serve_modify(server, tea, root_ecs, net):
    iid = create(tea, net[1], user_data=b64(SCRIPT))
    body = describe_user_data(tea, iid)
    assert (body.instance_id, body.region_id, body.user_data) == (iid, REGION, b64(SCRIPT))
    # CreateInstance leaves it Stopped, and nothing runs on a stopped instance
    root_ecs.call("StartInstance", {"InstanceId": iid})
    # inside the instance: the raw (decoded) bytes, exactly
    p = exec_in(server, iid, sys.executable, "-c", READ_USER_DATA)
    assert p.returncode == 0, p.stderr
    assert bytes.fromhex(p.stdout.strip()) == SCRIPT
    env = environment(server, iid)
    got = latest(env, "user-data")
    assert got.status_code == 200 and got.content == SCRIPT
    assert "user-data" in latest(env, "").text.split("\n")
    # a Stopped instance's user data may change, and once it runs again its metadata service serves it
    root_ecs.call("StopInstance", {"InstanceId": iid})
    modify(tea, iid, b64(b"#cloud-config\nruncmd: [true]\n"))
    assert describe_user_data(tea, iid).user_data == b64(b"#cloud-config\nruncmd: [true]\n")
    root_ecs.call("StartInstance", {"InstanceId": iid})
    env = environment(server, iid)
    assert latest(env, "user-data").content == b"#cloud-config\nruncmd: [true]\n"
    # a running one's may not
    h.expect_error(lambda: modify(tea, iid, b64(b"late")), code="IncorrectInstanceStatus", status=403)
    assert latest(env, "user-data").content == b"#cloud-config\nruncmd: [true]\n"
    # other attributes of a running instance still change (UserData is what needs Stopped)
    from alibabacloud_ecs20140526 import models as m
    h.tea_call(lambda: tea.modify_instance_attribute(m.ModifyInstanceAttributeRequest(instance_id=iid, description="ud")))


def test_run_instances_and_none(server, tea, root_ecs, net):
    from alibabacloud_ecs20140526 import models as m
    req = m.RunInstancesRequest(region_id=REGION, image_id=IMAGE, instance_type=ITYPE, v_switch_id=net[1], amount=2,
                                user_data=b64(b"#!/bin/sh\ntrue\n"))
    ids = h.tea_call(lambda: tea.run_instances(req)).body.instance_id_sets.instance_id_set
    assert len(ids) == 2
    for iid in ids:
        assert describe_user_data(tea, iid).user_data == b64(b"#!/bin/sh\ntrue\n")
        assert latest(environment(server, iid), "user-data").content == b"#!/bin/sh\ntrue\n"
    # an instance without user data: an empty string from the API, 404 from the metadata service
    bare = create(tea, net[1])
    assert describe_user_data(tea, bare).user_data == ""
    root_ecs.call("StartInstance", {"InstanceId": bare})
    env = environment(server, bare)
    assert latest(env, "user-data").status_code == 404
    assert "user-data" not in latest(env, "").text.split("\n")


def test_network_interface_items(server, tea, root_ecs, net):
    iid = create(tea, net[1])
    root_ecs.call("StartInstance", {"InstanceId": iid})
    inst = root_ecs.call("DescribeInstances", {"RegionId": REGION, "InstanceIds": json.dumps([iid])})["Instances"]["Instance"][0]
    eni = inst["NetworkInterfaces"]["NetworkInterface"][0]
    mac = eni["MacAddress"]
    env = environment(server, iid)
    base = f"network/interfaces/macs/{mac}/"
    assert metadata(env, base + "network-interface-id").text == eni["NetworkInterfaceId"]
    assert metadata(env, base + "netmask").text == "255.255.252.0"
    assert metadata(env, base + "gateway").text == "10.62.7.253"
    listing = metadata(env, base).text.split("\n")
    for item in ("network-interface-id", "netmask", "gateway", "vswitch-cidr-block", "primary-ip-address"):
        assert item in listing, listing


@pytest.mark.parametrize("action,raw,code,status", [
    ("CreateInstance", "not base64!", "InvalidUserData.Base64FormatInvalid", 403),
    ("RunInstances", "not base64!", "InvalidUserData.Base64FormatInvalid", 400),
    ("ModifyInstanceAttribute", "not base64!", "InvalidUserData.Base64FormatInvalid", 403),
    ("CreateInstance", b64(b"x" * (LIMIT + 1)), "InvalidUserData.SizeExceeded", 400),
    ("RunInstances", b64(b"x" * (LIMIT + 1)), "InvalidUserData.SizeExceeded", 400),
    ("ModifyInstanceAttribute", b64(b"x" * (LIMIT + 1)), "InvalidUserData.SizeExceeded", 400),
])
def test_bad_user_data(tea, root_ecs, net, action, raw, code, status):
    from alibabacloud_ecs20140526 import models as m
    if action == "ModifyInstanceAttribute":
        iid = create(tea, net[1], user_data=b64(b"keep"))
        h.expect_error(lambda: modify(tea, iid, raw), code=code, status=status)
        assert describe_user_data(tea, iid).user_data == b64(b"keep")
        return
    before = root_ecs.call("DescribeInstances", {"RegionId": REGION, "VSwitchId": net[1], "PageSize": 100})["TotalCount"]
    if action == "CreateInstance":
        h.expect_error(lambda: create(tea, net[1], user_data=raw), code=code, status=status)
    else:
        req = m.RunInstancesRequest(region_id=REGION, image_id=IMAGE, instance_type=ITYPE, v_switch_id=net[1], user_data=raw)
        h.expect_error(lambda: h.tea_call(lambda: tea.run_instances(req)), code=code, status=status)
    assert root_ecs.call("DescribeInstances", {"RegionId": REGION, "VSwitchId": net[1], "PageSize": 100})["TotalCount"] == before


def test_limit_and_other_refusals(server, tea, ecs_apis, root_ecs, net):
    # exactly 32 KiB is accepted, also signed V1 by aliyun-python-sdk-core
    iid = create(tea, net[1], user_data=b64(b"y" * LIMIT))
    assert describe_user_data(tea, iid).user_data == b64(b"y" * LIMIT)
    v1 = ecs_apis["core"].call("CreateInstance", {"RegionId": REGION, "ImageId": IMAGE, "InstanceType": ITYPE, "VSwitchId": net[1],
                                                  "UserData": b64(b"z" * LIMIT)})["InstanceId"]
    assert ecs_apis["core"].call("DescribeUserData", {"RegionId": REGION, "InstanceId": v1})["UserData"] == b64(b"z" * LIMIT)
    # hardened mode guards user data like every other item
    root_ecs.call("ModifyInstanceMetadataOptions", {"RegionId": REGION, "InstanceId": iid, "HttpTokens": "required"})
    root_ecs.call("StartInstance", {"InstanceId": iid})
    env = environment(server, iid)
    assert latest(env, "user-data").status_code == 401
    token = requests.put(f"http://{env['Proxy']}/latest/api/token", headers={"X-aliyun-ecs-metadata-token-ttl-seconds": "60"},
                         timeout=5).text
    got = requests.get(f"http://{env['Proxy']}/latest/user-data", headers={"X-aliyun-ecs-metadata-token": token}, timeout=5)
    assert got.status_code == 200 and got.content == b"y" * LIMIT
    # user data is for VPC instances only (cn-hangzhou still offers classic ones)
    h.expect_error(lambda: root_ecs.call("CreateInstance", {"RegionId": REGION, "ImageId": IMAGE, "InstanceType": ITYPE,
                                                            "UserData": b64(b"x")}),
                   code="InvalidUserData.NotSupported", status=400)
    h.expect_error(lambda: describe_user_data(tea, "i-bp1nosuchinstance00"), code="InvalidInstanceId.NotFound", status=404)
    h.expect_error(lambda: root_ecs.call("DescribeUserData", {"InstanceId": iid}), code="MissingParameter", status=400)
    # the instance is in cn-hangzhou: another region does not know it
    h.expect_error(lambda: root_ecs.call("DescribeUserData", {"RegionId": "cn-shanghai", "InstanceId": iid}),
                   code="InvalidInstanceId.NotFound", status=404)


def test_cli_create_with_user_data(server, tea, net, tmp_path):
    """`rolestack instance create --user-data FILE`: the file's bytes, Base64-encoded by the CLI."""
    script = tmp_path / "init.sh"
    script.write_bytes(SCRIPT * 100)
    p = cli(server, "instance", "create", "--vswitch-id", net[1], "--user-data", str(script))
    assert p.returncode == 0, p.stderr
    iid = p.stdout.strip()
    assert describe_user_data(tea, iid).user_data == b64(SCRIPT * 100)
    assert latest(environment(server, iid), "user-data").content == SCRIPT * 100
    p = cli(server, "instance", "create", "--vswitch-id", net[1], "--user-data", str(tmp_path / "missing"))
    assert p.returncode != 0 and "reading the user data" in p.stderr
