"""ActionTrail: every call becomes an event in ActionTrail's format, served by LookupEvents
(2020-07-06) through the official alibabacloud-actiontrail20200706 SDK: refused and successful RAM
calls, an OSS PutObject by an instance role session, the STS session the metadata service issued,
LookupAttribute filters, time windows and NextToken paging."""

import json
import time

import oss2
import pytest
import requests
from alibabacloud_actiontrail20200706 import models as at_models
from alibabacloud_actiontrail20200706.client import Client as ActionTrailClient

import rshelpers as h
from instancekit import cli, environment, seed_role, vpc_instance

ECS = "2014-05-26"


def trail(server, ak=None, sk=None):
    r = server.root
    return ActionTrailClient(h.tea_config(server.endpoint, ak or r["AccessKeyId"], sk or r["AccessKeySecret"]))


def lookup(client, *attrs, max_results=50, token=None, **extra):
    req = at_models.LookupEventsRequest(
        lookup_attribute=[at_models.LookupEventsRequestLookupAttribute(key=k, value=v) for k, v in attrs],
        max_results=str(max_results), next_token=token, **extra)
    return client.lookup_events(req).body


def test_refused_and_successful_calls_are_events(server, ram_user, root_api, account_id):
    user, ak, sk = ram_user()
    role = h.unique_name("trail-role")
    denied = h.expect_error(lambda: h.RpcApi("v3", server.endpoint, ak, sk).call(
        "CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.ecs_trust_policy()}), code="NoPermission")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.ecs_trust_policy()})
    body = lookup(trail(server), ("ResourceName", role))
    events = body.events
    assert [e["eventName"] for e in events] == ["CreateRole", "CreateRole"], events
    ok, refused = events  # newest first
    assert refused["errorCode"] == "NoPermission" and refused["requestId"] == denied.request_id
    assert refused["userIdentity"]["type"] == "ram-user" and refused["userIdentity"]["userName"] == user
    assert refused["userIdentity"]["accessKeyId"] == ak
    assert ok["userIdentity"]["type"] == "root-account" and "errorCode" not in ok
    for e in events:
        assert e["eventSource"] == "ram.aliyuncs.com" and e["serviceName"] == "Ram" and e["eventRW"] == "Write"
        assert e["acsRegion"] and e["sourceIpAddress"] == "127.0.0.1" and e["eventTime"].endswith("Z")
        assert e["requestParameters"]["RoleName"] == role
        assert "Signature" not in e["requestParameters"]
    by_user = lookup(trail(server), ("User", user), ("EventName", "CreateRole")).events
    assert [e["requestId"] for e in by_user] == [denied.request_id]
    assert lookup(trail(server), ("EventAccessKeyId", ak)).events[0]["userIdentity"]["userName"] == user
    reads = lookup(trail(server), ("EventRW", "Read"), ("ServiceName", "Ram")).events
    assert reads == [] or all(e["eventRW"] == "Read" for e in reads)


def test_a_refused_signature_leaves_no_secret_in_the_trail(server, ram_user, root_api):
    """A signature mismatch is answered with the server's string to sign, which spells out every
    parameter; the event keeps the message only up to there, so a password sent with a wrong
    signature does not end up readable in ActionTrail."""
    user, ak, _ = ram_user()
    password = "Trail-Secret-" + h.unique_name("pw")
    err = h.expect_error(lambda: h.RpcApi("v2sig", server.endpoint, ak, "wrong-secret").call(
        "CreateLoginProfile", {"UserName": user, "Password": password}), code="SignatureDoesNotMatch")
    assert "string to sign" in err.message
    events = lookup(trail(server), ("EventAccessKeyId", ak)).events
    refused = [e for e in events if e.get("errorCode") == "SignatureDoesNotMatch"]
    assert refused, events
    text = json.dumps(refused)
    assert password not in text and "Trail-Secret" not in text
    assert refused[0]["errorMessage"].endswith("string to sign")


def test_paging_and_windows(server, root_api):
    prefix = h.unique_name("page")
    for i in range(5):
        root_api.call("CreateGroup", {"GroupName": f"{prefix}-{i}"})
    client = trail(server)
    seen, token = [], None
    while True:
        body = lookup(client, ("EventName", "CreateGroup"), max_results=2, token=token)
        # (other tests' CreateGroup calls may lack a GroupName: sdk_coverage's probes)
        seen += [e["requestParameters"].get("GroupName", "") for e in body.events]
        assert len(body.events) <= 2
        token = body.next_token
        if not token:
            break
    mine = [g for g in seen if g.startswith(prefix)]
    assert mine == [f"{prefix}-{i}" for i in reversed(range(5))], seen
    forward = lookup(client, ("EventName", "CreateGroup"), direction="FORWARD").events
    assert [e["requestParameters"]["GroupName"] for e in forward if e["requestParameters"].get("GroupName", "").startswith(prefix)] == \
        [f"{prefix}-{i}" for i in range(5)]
    future = lookup(client, ("EventName", "CreateGroup"), start_time="2099-01-01T00:00:00Z", end_time="2099-01-02T00:00:00Z")
    assert future.events == []
    with pytest.raises(Exception) as e:
        lookup(client, ("NoSuchKey", "x"))
    assert "InvalidParameter.LookupAttribute" in str(e.value)
    with pytest.raises(Exception) as e:
        lookup(client, ("EventName", "CreateGroup"), token="not-a-token")
    assert "InvalidParameter.NextToken" in str(e.value)


def test_lookup_needs_permission(server, ram_user):
    _, ak, sk = ram_user()
    with pytest.raises(Exception) as e:
        lookup(trail(server, ak, sk), ("EventName", "CreateRole"))
    assert "NoPermission" in str(e.value)
    _, ak, sk = ram_user(policies=["AliyunActionTrailReadOnlyAccess"])
    assert lookup(trail(server, ak, sk), ("EventName", "CreateRole")).request_id


def test_instance_role_session_is_audited(server, account_id):
    r = server.root
    mk = lambda version, product: h.RpcApi("v3", server.endpoint, r["AccessKeyId"], r["AccessKeySecret"], version=version, product=product)
    apis = {"ram": mk(h.RAM_VERSION, "Ram"), "ecs": mk(ECS, "Ecs")}
    role = seed_role(apis)
    apis["ram"].call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunOSSFullAccess", "RoleName": role})
    iid = vpc_instance(apis, role=role)
    env = environment(server, iid)
    creds = requests.get(f"http://{env['Proxy']}/latest/meta-data/ram/security-credentials/{role}", timeout=10).json()
    bucket_name = h.unique_name("trail-bkt").lower()[:40]
    oss2.Bucket(oss2.Auth(r["AccessKeyId"], r["AccessKeySecret"]), server.base_url, bucket_name).create_bucket()
    bucket = oss2.Bucket(oss2.StsAuth(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"]), server.base_url, bucket_name)
    bucket.put_object("from-instance.txt", b"audited")
    client = trail(server)
    puts = lookup(client, ("ResourceName", f"{bucket_name}/from-instance.txt")).events
    assert len(puts) == 1, puts
    put = puts[0]
    assert put["eventName"] == "PutObject" and put["serviceName"] == "Oss" and put["eventRW"] == "Write"
    identity = put["userIdentity"]
    assert identity["type"] == "assumed-role" and identity["accessKeyId"] == creds["AccessKeyId"]
    assert identity["userName"] == f"{role}:vm-ram-{iid}"
    assert identity["sessionContext"]["sessionIssuer"]["arn"] == f"acs:ram::{account_id}:role/{role}"
    issued = [e for e in lookup(client, ("ResourceName", iid)).events if e["eventType"] == "AliyunServiceEvent"]
    assert issued and issued[0]["eventName"] == "AssumeRole"
    by_type = lookup(client, ("ResourceName", iid), ("EventType", "AliyunServiceEvent")).events
    assert [e["eventId"] for e in by_type] == [e["eventId"] for e in issued]
    assert issued[0]["userIdentity"]["type"] == "aliyun-service"
    assert issued[0]["responseElements"]["Credentials"]["AccessKeyId"] == creds["AccessKeyId"]
    assert "AccessKeySecret" not in json.dumps(issued[0]) and creds["SecurityToken"] not in json.dumps(issued[0])


def test_events_survive_a_restart(fresh_server):
    r = fresh_server.root
    api = h.RpcApi("v3", fresh_server.endpoint, r["AccessKeyId"], r["AccessKeySecret"])
    name = h.unique_name("durable")
    api.call("CreateUser", {"UserName": name})
    time.sleep(0.5)  # the writer's batch window
    fresh_server.restart()
    events = lookup(trail(fresh_server), ("ResourceName", name)).events
    assert [e["eventName"] for e in events] == ["CreateUser"]


def test_lookup_attribute_rules(server, ram_user, root_api):
    """ActionTrail's LookupAttribute page: one or two conditions count (exact match, all must
    hold); past two only the first two; the same key twice: only the second. Its keys
    SourceIpAddress, EventType and RoleName are looked up too."""
    user, ak, sk = ram_user()
    mine = h.unique_name("attrs")
    mine_api = h.RpcApi("v3", server.endpoint, ak, sk)
    h.expect_error(lambda: mine_api.call("CreateGroup", {"GroupName": mine}), code="NoPermission")
    root_api.call("CreateGroup", {"GroupName": mine})
    client = trail(server)
    both = lookup(client, ("ResourceName", mine), ("User", user)).events
    assert [e["userIdentity"]["userName"] for e in both] == [user]
    # a third condition is not used: the two first still find the refused call
    third = lookup(client, ("ResourceName", mine), ("User", user), ("EventName", "NoSuchEvent")).events
    assert [e["eventId"] for e in third] == [e["eventId"] for e in both]
    # ... whatever its key
    assert len(lookup(client, ("ResourceName", mine), ("User", user), ("NoSuchKey", "x")).events) == 1
    # the same key twice: the second condition only
    twice = lookup(client, ("ResourceName", "no-such-resource"), ("ResourceName", mine)).events
    assert sorted(e["userIdentity"]["type"] for e in twice) == ["ram-user", "root-account"]
    # SourceIpAddress and EventType
    assert len(lookup(client, ("ResourceName", mine), ("SourceIpAddress", "127.0.0.1")).events) == 2
    assert lookup(client, ("ResourceName", mine), ("SourceIpAddress", "10.0.0.1")).events == []
    assert len(lookup(client, ("ResourceName", mine), ("EventType", "ApiCall")).events) == 2
    assert lookup(client, ("ResourceName", mine), ("EventType", "ConsoleOperation")).events == []
    # ServiceName and EventRW match case-sensitively, as the page says (written ones and queued ones)
    assert len(lookup(client, ("ResourceName", mine), ("ServiceName", "Ram")).events) == 2
    assert len(lookup(client, ("ResourceName", mine), ("EventRW", "Write")).events) == 2
    for other_case in (("ServiceName", "ram"), ("ServiceName", "RAM"), ("EventRW", "write"), ("EventRW", "WRITE")):
        assert lookup(client, ("ResourceName", mine), other_case).events == [], other_case
    time.sleep(0.3)  # (past the writer's 50 ms window: now from the store)
    assert lookup(client, ("ResourceName", mine), ("ServiceName", "ram")).events == []
    assert len(lookup(client, ("ResourceName", mine), ("ServiceName", "Ram")).events) == 2
    # unknown keys among the counted ones, and SensitiveAction (not modelled), are refused
    for key in ("NoSuchKey", "SensitiveAction"):
        with pytest.raises(Exception) as e:
            lookup(client, (key, "true"))
        assert "InvalidParameter.LookupAttribute" in str(e.value)


def test_lookup_by_role_name(server, root_api, assumer, account_id):
    """RoleName finds the calls a role's sessions made (UNVERIFIED reading of the key)."""
    role = h.unique_name("trail-rn")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    root_api.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunActionTrailReadOnlyAccess", "RoleName": role})
    sts = h.RpcApi("v3", server.endpoint, assumer["AccessKeyId"], assumer["AccessKeySecret"], version=h.STS_VERSION, product="Sts")
    c = sts.call("AssumeRole", {"RoleArn": f"acs:ram::{account_id}:role/{role}", "RoleSessionName": "rn-session"})["Credentials"]
    session = ActionTrailClient(h.tea_config(server.endpoint, c["AccessKeyId"], c["AccessKeySecret"], token=c["SecurityToken"]))
    lookup(session, ("EventName", "LookupEvents"), max_results=1)
    events = lookup(trail(server), ("RoleName", role)).events
    assert [e["eventName"] for e in events] == ["LookupEvents"], events
    who = events[0]["userIdentity"]
    assert who["type"] == "assumed-role" and who["userName"] == f"{role}:rn-session" and who["accessKeyId"] == c["AccessKeyId"]
    assert who["sessionContext"]["sessionIssuer"]["userName"] == role
    # the AssumeRole itself was the assumer's call
    assumed = lookup(trail(server), ("ResourceName", role), ("EventName", "AssumeRole")).events
    assert [e["userIdentity"]["type"] for e in assumed] == ["ram-user"]
    assert "SecurityToken" not in json.dumps(assumed[0]) and c["AccessKeySecret"] not in json.dumps(assumed[0])


def test_lookup_odd_input(server):
    client = trail(server)
    api = h.RpcApi("v3", server.endpoint, server.root["AccessKeyId"], server.root["AccessKeySecret"], version="2020-07-06",
                   product="Actiontrail")
    # MaxResults 0 (the reference's lower bound) is the default page
    assert len(lookup(client, max_results=0).events) <= 20
    for bad in ("51", "-1", "abc"):
        h.expect_error(lambda: api.call("LookupEvents", {"MaxResults": bad}), code="InvalidParameter.MaxResults", status=400)
    for bad in ("2026-12-01T00:00:00", "2026-12-01", "1764547200", "2026-12-01T00:00:00+08:00"):
        h.expect_error(lambda: api.call("LookupEvents", {"StartTime": bad}), code="InvalidParameter.StartTime", status=400)
    h.expect_error(lambda: api.call("LookupEvents", {"StartTime": "2026-12-03T00:00:00Z", "EndTime": "2026-12-01T00:00:00Z"}),
                   code="InvalidParameter.StartTime", status=400)
    h.expect_error(lambda: api.call("LookupEvents", {"Direction": "SIDEWAYS"}), code="InvalidParameter.Direction", status=400)
    h.expect_error(lambda: api.call("LookupEvents", {"NextToken": "Zm9vOmJhcg"}), code="InvalidParameter.NextToken", status=400)


def test_paging_is_stable_while_events_arrive(server, root_api):
    """A NextToken is a position (time, event id): calls made between pages neither repeat nor
    hide an event of the pages still to come."""
    prefix = h.unique_name("stable")
    for i in range(6):
        root_api.call("CreateUser", {"UserName": f"{prefix}-{i}"})
    client = trail(server)
    seen, ids, token, page = [], [], None, 0
    while True:
        body = lookup(client, ("EventName", "CreateUser"), max_results=2, token=token)
        seen += [e["requestParameters"].get("UserName", "") for e in body.events]
        ids += [e["eventId"] for e in body.events]
        root_api.call("CreateUser", {"UserName": f"{prefix}-late{page}"})  # newer than every page
        page += 1
        token = body.next_token
        if not token:
            break
    mine = [u for u in seen if u.startswith(prefix)]
    assert mine == [f"{prefix}-{i}" for i in reversed(range(6))], seen
    # (names may repeat: other tests' refused CreateUser calls are events too)
    assert len(ids) == len(set(ids)), "no event twice"


def test_events_cli_takes_two_filters(server, root_api):
    """`rolestack events` prints matching events as JSON lines; three filters are refused, as
    LookupEvents would use only the first two."""
    name = h.unique_name("cli-ev")
    root_api.call("CreateUser", {"UserName": name})
    p = cli(server, "events", "--event-name", "CreateUser", "--resource-name", name, "--max", "5")
    assert p.returncode == 0, p.stdout + p.stderr
    events = [json.loads(line) for line in p.stdout.splitlines()]
    assert [(e["eventName"], e["requestParameters"]["UserName"]) for e in events] == [("CreateUser", name)]
    p = cli(server, "events", "--event-name", "CreateUser", "--resource-name", name, "--user", "root")
    assert p.returncode != 0 and "at most two" in p.stderr, p.stdout + p.stderr


def test_events_name_the_instances_a_call_made_or_tagged(server):
    """RunInstances names the instances it made (they are in its answer, not its parameters), so
    "who created this instance?" is one LookupEvents by the instance's id; TagResources and
    CreateSecurityGroup are found by the resources they touched the same way."""
    r = server.root
    ecs = h.RpcApi("v3", server.endpoint, r["AccessKeyId"], r["AccessKeySecret"], version=ECS, product="Ecs")
    iid = vpc_instance({"ecs": ecs})
    vsw = ecs.call("DescribeInstances", {"RegionId": "cn-hangzhou", "InstanceIds": json.dumps([iid])})[
        "Instances"]["Instance"][0]["VpcAttributes"]["VSwitchId"]
    made = ecs.call("RunInstances", {"RegionId": "cn-hangzhou", "ImageId": "centos_7_03_64_40G_alibase_20170503.vhd",
                                     "InstanceType": "ecs.xn4.small", "VSwitchId": vsw, "Amount": "2"})
    ids = made["InstanceIdSets"]["InstanceIdSet"]
    client = trail(server)
    for made_id in ids:
        events = lookup(client, ("ResourceName", made_id)).events
        assert [e["eventName"] for e in events] == ["RunInstances"], events
        assert made_id in events[0]["resourceName"].split(";")
    ecs.call("TagResources", {"RegionId": "cn-hangzhou", "ResourceType": "instance", "ResourceId.1": ids[0],
                              "Tag.1.Key": "team", "Tag.1.Value": "a"})
    tagged = lookup(client, ("ResourceName", ids[0]), ("EventName", "TagResources")).events
    assert len(tagged) == 1 and tagged[0]["resourceType"].startswith("ACS::ECS::Instance"), tagged
    vpc = ecs.call("DescribeVSwitches", {"RegionId": "cn-hangzhou", "VSwitchId": vsw})["VSwitches"]["VSwitch"][0]["VpcId"]
    sg = ecs.call("CreateSecurityGroup", {"RegionId": "cn-hangzhou", "VpcId": vpc})["SecurityGroupId"]
    assert [e["eventName"] for e in lookup(client, ("ResourceName", sg)).events] == ["CreateSecurityGroup"]
