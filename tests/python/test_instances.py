"""Instance RAM roles end to end: the seed 003 walkthrough with the official SDKs, code running
"inside" an instance (`rolestack instance exec`: a network namespace where 100.100.100.200 is the
instance's metadata service, or the unprivileged loopback proxy), the metadata tree, hardened mode,
detach / revoke, and credential rotation across a moved clock with the SDK running throughout.

One server per module, started with --fake-clock."""

import json
import os
import subprocess
import sys

import pytest
import requests

import rshelpers as h
from instancekit import (ECS, PROGRAMS, REGION, SEED_TRUST, STS, cli, environment, exec_in, metadata, needs_root,
                         oss_instance, seed_bucket, seed_role, started_server, vpc_instance)


@pytest.fixture(scope="module")
def fc(tmp_path_factory):
    yield from started_server(tmp_path_factory, "fakeclock", "--fake-clock")


@pytest.fixture(scope="module")
def apis(fc):
    r = fc.root
    mk = lambda version, product, kind="v3": h.RpcApi(kind, fc.endpoint, r["AccessKeyId"], r["AccessKeySecret"],
                                                       version=version, product=product)
    return {"ram": mk(h.RAM_VERSION, "Ram"), "ecs": mk(ECS, "Ecs"), "ecs_v1": mk(ECS, "Ecs", "core"),
            "sts": mk(STS, "Sts")}


# -- the seed walkthrough, inside an instance ---------------------------------------------------

@needs_root
def test_seed_003_walkthrough_in_namespace(fc, apis):
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    # curl inside the instance, exactly the seed's command (and seed 001's `Ram/` spelling)
    for segment in ("ram", "Ram"):
        p = exec_in(fc, iid, "curl", "-s", f"http://100.100.100.200/latest/meta-data/{segment}/security-credentials/{role}")
        assert p.returncode == 0, p.stderr
        doc = json.loads(p.stdout)
        assert doc["Code"] == "Success" and doc["AccessKeyId"].startswith("STS.")
        for k in ("AccessKeySecret", "SecurityToken", "Expiration", "LastUpdated"):
            assert doc[k], k
    # the role list is exactly the role name
    p = exec_in(fc, iid, "curl", "-s", "http://100.100.100.200/latest/meta-data/ram/security-credentials/")
    assert p.stdout == role
    # an unmodified SDK default chain, with and without hardened mode
    for extra in ({}, {"ALIBABA_CLOUD_IMDSV1_DISABLED": "true"}):
        p = exec_in(fc, iid, sys.executable, str(PROGRAMS / "whoami_default_chain.py"), env_extra=extra)
        assert p.returncode == 0, p.stdout + p.stderr
        who = json.loads(p.stdout.strip().splitlines()[-1])
        assert who["IdentityType"] == "AssumedRoleUser"
        assert who["Arn"] == f"acs:ram::{fc.root['AccountId']}:assumed-role/{role}/vm-ram-{iid}"
    # nothing else is reachable from inside: only loopback exists in the namespace
    p = exec_in(fc, iid, "ip", "-o", "addr")
    assert "100.100.100.200/32" in p.stdout and "eth" not in p.stdout


def test_seed_003_walkthrough_through_proxy(fc, apis):
    """The unprivileged way: HTTP_PROXY to the instance's loopback proxy."""
    role = seed_role(apis)
    iid = vpc_instance(apis)
    ecs = apis["ecs_v1"]  # seed 003 step 2, second way: AttachInstanceRamRole (aliyun-python-sdk-core, V1)
    out = ecs.call("AttachInstanceRamRole", {"RegionId": REGION, "InstanceIds": json.dumps([iid]), "RamRoleName": role})
    assert out["FailCount"] == 0
    p = exec_in(fc, iid, sys.executable, str(PROGRAMS / "whoami_default_chain.py"), proxy=True)
    assert p.returncode == 0, p.stdout + p.stderr
    who = json.loads(p.stdout.strip().splitlines()[-1])
    assert who["Arn"].endswith(f":assumed-role/{role}/vm-ram-{iid}")


# -- the metadata tree and hardened mode ---------------------------------------------------------

def test_metadata_tree(fc, apis):
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    env = environment(fc, iid)
    inst = apis["ecs"].call("DescribeInstances", {"RegionId": REGION, "InstanceIds": json.dumps([iid])})["Instances"]["Instance"][0]
    assert metadata(env, "instance-id").text == iid
    assert metadata(env, "region-id").text == REGION
    assert metadata(env, "zone-id").text == inst["ZoneId"]
    assert metadata(env, "vpc-id").text == inst["VpcAttributes"]["VpcId"]
    assert metadata(env, "vswitch-id").text == inst["VpcAttributes"]["VSwitchId"]
    assert metadata(env, "private-ipv4").text in inst["VpcAttributes"]["PrivateIpAddress"]["IpAddress"]
    assert metadata(env, "hostname").text
    listing = metadata(env, "").text.split("\n")
    for entry in ("instance-id", "region-id", "ram/", "vpc-id", "network/"):
        assert entry in listing
    assert metadata(env, "ram/security-credentials/").text == role
    assert metadata(env, "no-such-thing").status_code == 404
    assert metadata(env, f"ram/security-credentials/{role}-other").status_code == 404
    # the same set within a rotation window
    a = metadata(env, f"ram/security-credentials/{role}").json()
    b = metadata(env, f"ram/security-credentials/{role}").json()
    assert a["AccessKeyId"] == b["AccessKeyId"]
    # the versioned tree (cloud-init's Alibaba Cloud datasource reads /2016-01-01/) and the version list
    base = f"http://{env['Proxy']}"
    assert requests.get(f"{base}/", headers={"Host": "100.100.100.200"}).text == "2016-01-01\nlatest"
    assert requests.get(f"{base}/2016-01-01/meta-data/instance-id").text == iid
    assert requests.get(f"{base}/2016-01-01/meta-data/ram/security-credentials/{role}").json()["AccessKeyId"] == a["AccessKeyId"]
    assert requests.get(f"{base}/2015-01-01/meta-data/instance-id").status_code == 404
    # other methods: 405 naming what is allowed
    r = requests.post(f"{base}/latest/meta-data/instance-id")
    assert (r.status_code, r.headers.get("Allow")) == (405, "GET, HEAD")
    assert requests.delete(f"{base}/latest/api/token").headers.get("Allow") == "PUT"
    r = requests.get(f"{base}/latest/api/token")
    assert (r.status_code, r.headers.get("Allow")) == (405, "PUT")


def test_hardened_mode(fc, apis):
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role, HttpTokens="required")
    env = environment(fc, iid)
    base = f"http://{env['Proxy']}"
    assert metadata(env, "instance-id").status_code == 401
    for ttl in ("0", "21601", "x"):
        assert requests.put(f"{base}/latest/api/token", headers={"X-aliyun-ecs-metadata-token-ttl-seconds": ttl}).status_code == 400
    assert requests.put(f"{base}/latest/api/token").status_code == 400
    tok = requests.put(f"{base}/latest/api/token", headers={"X-aliyun-ecs-metadata-token-ttl-seconds": "60"})
    assert tok.status_code == 200 and tok.text
    # a token request that went through a proxy is refused
    forwarded = {"X-aliyun-ecs-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "192.168.1.9"}
    assert requests.put(f"{base}/latest/api/token", headers=forwarded).status_code == 403
    assert metadata(env, "instance-id", token=tok.text).text == iid
    assert metadata(env, "instance-id", token=tok.text + "x").status_code == 401
    # a token is bound to its instance
    other = environment(fc, vpc_instance(apis))
    assert metadata(other, "instance-id", token=tok.text).status_code == 401
    # and to its lifetime
    assert cli(fc, "clock", "advance", "61s").returncode == 0
    assert metadata(env, "instance-id", token=tok.text).status_code == 401


def provider(fc, iid, *args):
    """programs/metadata_providers.py inside the instance (loopback proxy): its JSON line."""
    p = exec_in(fc, iid, sys.executable, str(PROGRAMS / "metadata_providers.py"), *args, proxy=True)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_metadata_options_as_the_providers_see_them(fc, apis):
    """ModifyInstanceMetadataOptions on a running instance, seen by the official providers.
    HttpTokens=required: oss2's provider (normal mode only) is refused with 401, alibabacloud-
    credentials (token first) works, with disable_imds_v1 too; back to optional, both work.
    HttpEndpoint=disabled refuses the token request as well (403), not only the reads."""
    role, iid, bucket = oss_instance(fc, apis)
    modify = lambda **o: apis["ecs"].call("ModifyInstanceMetadataOptions", {"RegionId": REGION, "InstanceId": iid, **o})
    modify(HttpTokens="required")
    assert "http code:401" in provider(fc, iid, "oss2", role, bucket)["Error"]
    assert provider(fc, iid, "credentials", "--disable-imds-v1")["AccessKeyId"].startswith("STS.")
    modify(HttpTokens="optional")
    assert provider(fc, iid, "oss2", role, bucket)["Keys"] == []
    modify(HttpEndpoint="disabled")
    env = environment(fc, iid)
    put = requests.put(f"http://{env['Proxy']}/latest/api/token", headers={"X-aliyun-ecs-metadata-token-ttl-seconds": "60"})
    assert put.status_code == 403
    assert metadata(env, "instance-id").status_code == 403
    assert "HttpCode=403" in provider(fc, iid, "credentials", "--role", role, "--disable-imds-v1")["Error"]
    modify(HttpEndpoint="enabled")
    assert provider(fc, iid, "credentials", "--role", role, "--disable-imds-v1")["AccessKeyId"].startswith("STS.")


def test_role_that_stopped_trusting_ecs_gets_no_credentials(fc, apis):
    """ECS assumes the instance's role for every set it issues: once the role's trust policy no
    longer names ecs.aliyuncs.com, the metadata service has nothing to give (404), while a set
    issued before keeps working until it expires (STS tokens are not recalled)."""
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    env = environment(fc, iid)
    issued = metadata(env, f"ram/security-credentials/{role}").json()
    account = fc.root["AccountId"]
    untrusting = json.dumps({"Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                           "Principal": {"RAM": [f"acs:ram::{account}:root"]}}], "Version": "1"})
    apis["ram"].call("UpdateRole", {"RoleName": role, "NewAssumeRolePolicyDocument": untrusting})
    assert metadata(env, f"ram/security-credentials/{role}").status_code == 404
    assert "HttpCode=404" in provider(fc, iid, "credentials", "--role", role)["Error"]
    rotated = cli(fc, "instance", "rotate-credentials", iid)
    assert rotated.returncode != 0 and "InvalidInstance.NoRamRole" in rotated.stdout + rotated.stderr
    assert sts_as(fc, issued).call("GetCallerIdentity")["IdentityType"] == "AssumedRoleUser"
    apis["ram"].call("UpdateRole", {"RoleName": role, "NewAssumeRolePolicyDocument": SEED_TRUST})
    fresh = provider(fc, iid, "credentials")
    assert fresh["AccessKeyId"].startswith("STS.")


# -- detach, revoke ------------------------------------------------------------------------------

def sts_as(fc, creds):
    return h.RpcApi("v3", fc.endpoint, creds["AccessKeyId"], creds["AccessKeySecret"], version=STS,
                    token=creds["SecurityToken"], product="Sts")


def test_detach_then_revoke(fc, apis):
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    env = environment(fc, iid)
    creds = metadata(env, f"ram/security-credentials/{role}").json()
    assert sts_as(fc, creds).call("GetCallerIdentity")["IdentityType"] == "AssumedRoleUser"
    apis["ecs"].call("DetachInstanceRamRole", {"RegionId": REGION, "InstanceIds": json.dumps([iid]), "RamRoleName": role})
    assert metadata(env, f"ram/security-credentials/{role}").status_code == 404
    assert metadata(env, "ram/security-credentials/").status_code == 404
    # already issued credentials stay valid until they expire, as on ECS ...
    assert sts_as(fc, creds).call("GetCallerIdentity")["IdentityType"] == "AssumedRoleUser"
    # ... unless the role's sessions are revoked
    p = cli(fc, "role", "revoke-sessions", role)
    assert p.returncode == 0, p.stdout + p.stderr
    h.expect_error(lambda: sts_as(fc, creds).call("GetCallerIdentity"), code="InvalidSecurityToken.Expired")
    # a new attach issues fresh, working credentials
    apis["ecs"].call("AttachInstanceRamRole", {"RegionId": REGION, "InstanceIds": json.dumps([iid]), "RamRoleName": role})
    fresh = metadata(env, f"ram/security-credentials/{role}").json()
    assert fresh["AccessKeyId"] != creds["AccessKeyId"]
    assert sts_as(fc, fresh).call("GetCallerIdentity")["IdentityType"] == "AssumedRoleUser"


def test_role_replaced(fc, apis):
    """Detach role A, attach role B: the role list names B, A's document is gone (404), a provider
    that asks for the role name gets B's credentials, and A's set keeps working until it expires."""
    role_a, role_b = seed_role(apis), seed_role(apis)
    iid = vpc_instance(apis, role=role_a)
    env = environment(fc, iid)
    creds_a = metadata(env, f"ram/security-credentials/{role_a}").json()
    ecs = apis["ecs"]
    ecs.call("DetachInstanceRamRole", {"RegionId": REGION, "InstanceIds": json.dumps([iid]), "RamRoleName": role_a})
    ecs.call("AttachInstanceRamRole", {"RegionId": REGION, "InstanceIds": json.dumps([iid]), "RamRoleName": role_b})
    assert metadata(env, "ram/security-credentials/").text == role_b
    assert metadata(env, f"ram/security-credentials/{role_a}").status_code == 404
    key_b = provider(fc, iid, "credentials")["AccessKeyId"]
    assert key_b == metadata(env, f"ram/security-credentials/{role_b}").json()["AccessKeyId"] != creds_a["AccessKeyId"]
    assert sts_as(fc, creds_a).call("GetCallerIdentity")["Arn"].endswith(f":assumed-role/{role_a}/vm-ram-{iid}")


def test_credentials_uri_provider(fc, apis):
    """docs/instances.md's third way: the default chain of alibabacloud-credentials with the ECS
    provider switched off and ALIBABA_CLOUD_CREDENTIALS_URI naming the instance's document (on the
    proxy) gets the instance's role session."""
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    env = environment(fc, iid)
    child = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "ALIYUN_"))}
    child.update({"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true", "ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true",
                  "ROLESTACK_ENDPOINT": fc.base_url,
                  "ALIBABA_CLOUD_CREDENTIALS_URI": f"http://{env['Proxy']}/latest/meta-data/ram/security-credentials/{role}"})
    p = subprocess.run([sys.executable, str(PROGRAMS / "whoami_default_chain.py")], env=child, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1])["Arn"].endswith(f":assumed-role/{role}/vm-ram-{iid}")


def test_instance_credentials_cli(fc, apis):
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    p = cli(fc, "instance", "credentials", iid)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["RoleName"] == role and out["Credentials"]["AccessKeyId"].startswith("STS.")
    none = vpc_instance(apis)
    p = cli(fc, "instance", "credentials", none)
    assert p.returncode != 0 and "InvalidInstance.NoRamRole" in p.stderr


# -- rotation across a moved clock ------------------------------------------------------------------

def test_rotation(fc, apis):
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    env = environment(fc, iid)
    path = f"ram/security-credentials/{role}"
    a = metadata(env, path).json()
    exp_a = h.parse_date(a["Expiration"])
    last_a = h.parse_date(a["LastUpdated"])
    assert 5.9 * 3600 <= (exp_a - last_a).total_seconds() <= 6.1 * 3600
    # 5h20m later: still the same set (more than 30 minutes left)
    assert cli(fc, "clock", "advance", "5h20m").returncode == 0
    assert metadata(env, path).json()["AccessKeyId"] == a["AccessKeyId"]
    # 5h40m: inside the last 30 minutes, a new set is issued; both work
    assert cli(fc, "clock", "advance", "20m").returncode == 0
    b = metadata(env, path).json()
    assert b["AccessKeyId"] != a["AccessKeyId"]
    assert h.parse_date(b["Expiration"]) > exp_a
    for creds in (a, b):
        assert sts_as(fc, creds).call("GetCallerIdentity")["IdentityType"] == "AssumedRoleUser"
    # past A's expiry: A is refused, B works
    assert cli(fc, "clock", "advance", "25m").returncode == 0
    h.expect_error(lambda: sts_as(fc, a).call("GetCallerIdentity"), code="InvalidSecurityToken.Expired")
    assert sts_as(fc, b).call("GetCallerIdentity")["IdentityType"] == "AssumedRoleUser"


def test_sdk_keeps_working_across_rotation(fc, apis):
    """One alibabacloud-credentials client, alive across two rotations: the program's clock moves
    with the server's (time-machine), the SDK refreshes from the metadata service by itself."""
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    env = environment(fc, iid)
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    child_env.update({"HTTP_PROXY": f"http://{env['Proxy']}", "http_proxy": f"http://{env['Proxy']}",
                      "ROLESTACK_ENDPOINT": f"http://{env['Proxy']}"})
    child_env.pop("NO_PROXY", None)
    child_env.pop("no_proxy", None)
    shown = cli(fc, "clock", "show")
    assert shown.returncode == 0, shown.stderr
    offset = json.loads(shown.stdout)["OffsetSeconds"]
    proc = subprocess.Popen([sys.executable, str(PROGRAMS / "whoami_default_chain.py"), "--loop", "--offset", str(offset)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env)
    try:
        def step(seconds=None):
            if seconds is not None:
                assert cli(fc, "clock", "advance", f"{seconds}s").returncode == 0
                proc.stdin.write(f"advance {seconds}\n")
                proc.stdin.flush()
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            return json.loads(line)

        first = step()
        assert first["IdentityType"] == "AssumedRoleUser"
        second = step(5 * 3600 + 50 * 60)   # 10 minutes before expiry: the SDK must have refreshed
        assert second["AccessKeyId"] != first["AccessKeyId"]
        third = step(6 * 3600)              # past the second set's expiry too
        assert third["AccessKeyId"] not in (first["AccessKeyId"], second["AccessKeyId"])
        assert third["Arn"].endswith(f"/vm-ram-{iid}")
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


# -- seed 003 step 4: OSS with the instance's credentials ---------------------------------------------

@pytest.mark.parametrize("proxy", [
    pytest.param(False, marks=needs_root, id="namespace"),
    pytest.param(True, id="proxy"),
])
def test_seed_003_step4_oss_inside_instance(fc, apis, proxy):
    role = seed_role(apis)  # oss:Get* and oss:List* only
    iid = vpc_instance(apis, role=role)
    bucket = seed_bucket(fc, ["ramroletest.txt", "test.sh"])
    run = lambda: exec_in(fc, iid, sys.executable, str(PROGRAMS / "seed003_step4.py"), role, bucket, proxy=proxy)
    p = run()
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.strip().splitlines()
    assert lines[:2] == ["ramroletest.txt", "test.sh"]
    assert lines[-1] == "PUT: 403 AccessDenied"
    # with AliyunOSSFullAccess on the role, the same program can write
    apis["ram"].call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunOSSFullAccess", "RoleName": role})
    p = run()
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.strip().splitlines()[-1] == "PUT: ok"


def test_instance_cli(fc, apis):
    """The admin CLI: create (with a role), list, detach, attach — checked through the ECS API."""
    role = seed_role(apis)
    ecs = apis["ecs"]
    vpc = ecs.call("CreateVpc", {"RegionId": REGION, "CidrBlock": "10.20.0.0/16"})["VpcId"]
    vsw = ecs.call("CreateVSwitch", {"RegionId": REGION, "ZoneId": f"{REGION}-h", "VpcId": vpc, "CidrBlock": "10.20.3.0/24"})["VSwitchId"]
    p = cli(fc, "instance", "create", "--vswitch-id", vsw, "--ram-role", role)
    assert p.returncode == 0, p.stderr
    iid = p.stdout.strip()
    assert iid.startswith("i-")

    def role_of():
        sets = ecs.call("DescribeInstanceRamRole", {"RegionId": REGION, "InstanceIds": json.dumps([iid])})
        found = [s["RamRoleName"] for s in sets["InstanceRamRoleSets"]["InstanceRamRoleSet"] if s["InstanceId"] == iid]
        return found[0] if found else None

    assert role_of() == role
    listing = cli(fc, "instance", "list")
    assert listing.returncode == 0, listing.stderr
    line = next(l for l in listing.stdout.splitlines() if l.startswith(iid))
    assert "Running" in line and vpc in line and line.split()[-1] == role
    assert cli(fc, "instance", "detach-role", iid).returncode == 0
    assert role_of() is None
    p = cli(fc, "instance", "attach-role", iid, role)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["FailCount"] == 0 and role_of() == role
    # errors come back as the service's code
    p = cli(fc, "instance", "attach-role", iid, "no-such-role")
    assert p.returncode != 0 and "InvalidRamRole.NotFound" in p.stderr


def test_delete_instance_takes_its_network_down(fc, apis):
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    env = environment(fc, iid)
    assert metadata(env, "instance-id").text == iid
    apis["ecs"].call("DeleteInstance", {"InstanceId": iid, "Force": "true"})
    with pytest.raises(requests.ConnectionError):
        metadata(env, "instance-id")
    if env["Namespace"]:
        names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert env["Namespace"] not in names
    # and the instance is gone for `instance exec` too
    p = cli(fc, "api", "rolestack", "PrepareInstanceEnvironment", f"InstanceId={iid}")
    assert p.returncode != 0 and "InvalidInstanceId.NotFound" in p.stdout
