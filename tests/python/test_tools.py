"""Real tools around the instance-role flow, unchanged apart from where they connect:
apache-libcloud's ECS driver (XML responses, V1 signing, GET) and footmark, the library behind
Ansible's alicloud modules (aliyun-python-sdk-core request classes; its Instance objects need
DescribeInstances' fields in the reference order). How each is pointed at the local server is in
tests/python/README.md."""

import pytest

import rshelpers as h

REGION = h.ECS_REGION
IMAGE = "centos_7_03_64_40G_alibase_20170503.vhd"


@pytest.fixture(scope="module")
def libcloud_driver(server):
    """libcloud's ECSDriver with the connection's host/port/secure given as arguments (the driver
    otherwise talks https to ecs.aliyuncs.com)."""
    from libcloud.compute.drivers.ecs import ECSDriver
    host, port = server.endpoint.rsplit(":", 1)
    return ECSDriver(server.root["AccessKeyId"], server.root["AccessKeySecret"], region=REGION,
                     secure=False, host=host, port=int(port))


def test_libcloud_catalogue(libcloud_driver):
    images = libcloud_driver.list_images()
    assert IMAGE in [i.id for i in images]
    centos = next(i for i in images if i.id == IMAGE)
    assert centos.extra["os_type"] == "linux" and centos.extra["size"] == 40
    sizes = {s.id: s for s in libcloud_driver.list_sizes()}
    assert sizes["ecs.xn4.small"].ram == 1.0 and sizes["ecs.xn4.small"].extra["cpu_core_count"] == 1
    assert "cn-hangzhou" in [loc.id for loc in libcloud_driver.list_locations()]


def test_libcloud_node_lifecycle(libcloud_driver, root_ecs):
    from libcloud.compute.base import NodeImage, NodeSize
    from libcloud.compute.types import NodeState
    d = libcloud_driver
    vpc, vsw = h.ecs_network(root_ecs, "10.70.0.0/16", "10.70.1.0/24")
    sg = h.ecs_security_group(root_ecs, vpc)
    assert sg in [g.id for g in d.ex_list_security_groups()]
    made = d.ex_create_security_group(description="made by libcloud")
    assert made in [g.id for g in d.ex_list_security_groups()]  # a classic group (no VpcId)
    node = d.create_node(name="libcloud-node", size=NodeSize("ecs.xn4.small", None, None, None, None, None, d),
                         image=NodeImage(IMAGE, None, d), ex_security_group_id=sg, ex_vswitch_id=vsw)
    assert node.state == NodeState.RUNNING or d.list_nodes(ex_node_ids=[node.id])[0].state == NodeState.RUNNING
    listed = {n.id: n for n in d.list_nodes()}
    assert node.id in listed and listed[node.id].private_ips and listed[node.id].extra["vpc_attributes"]["vpc_id"] == vpc
    assert d.reboot_node(listed[node.id])
    volumes = d.list_volumes(ex_filters={"InstanceId": node.id})
    assert [(v.id, v.size, v.extra["type"], v.extra["instance_id"]) for v in volumes] == [("d-" + node.id[2:], 40, "system", node.id)]
    root_ecs.call("AuthorizeSecurityGroup", {"RegionId": REGION, "SecurityGroupId": sg, "IpProtocol": "tcp", "PortRange": "22/22",
                                             "SourceCidrIp": "0.0.0.0/0"})
    rules = d.ex_list_security_group_attributes(group_id=sg)
    assert [(r.ip_protocol, r.port_range, r.policy) for r in rules] == [("TCP", "22/22", "Accept")]
    assert d.ex_delete_security_group_by_id(made)
    assert d.stop_node(listed[node.id])
    assert d.destroy_node(listed[node.id])


def test_footmark_describe_instances(server, root_ecs, monkeypatch):
    """footmark builds an AcsClient per call and resolves ecs.aliyuncs.com; the test pins each
    request it imports to the local endpoint (point_core_request) instead."""
    from footmark.connection import ACSQueryConnection
    from footmark.ecs.connection import ECSConnection

    original = ACSQueryConnection.import_request

    def pinned(self, action):
        return h.point_core_request(original(self, action), server.endpoint)

    monkeypatch.setattr(ACSQueryConnection, "import_request", pinned)
    vpc, vsw = h.ecs_network(root_ecs, "10.71.0.0/16", "10.71.1.0/24")
    sg = h.ecs_security_group(root_ecs, vpc)
    inst = h.ecs_instance(root_ecs, vsw, SecurityGroupId=sg, InstanceName="footmark-node", **{"Tag.1.Key": "app", "Tag.1.Value": "web"})
    conn = ECSConnection(server.root["AccessKeyId"], server.root["AccessKeySecret"], region=REGION)
    found = conn.describe_instances(instance_ids=[inst])
    assert [i.id for i in found] == [inst]
    i = found[0]
    assert (i.name, i.state, i.vpc_id, i.vswitch_id) == ("footmark-node", "stopped", vpc, vsw)
    assert i.private_ip_address.startswith("10.71.1.") and i.public_ip_address == ""
    assert i.security_group_ids["security_group_id"] == [sg] and i.tags == {"app": "web"}
    everything = conn.describe_instances()
    assert inst in [x.id for x in everything]
