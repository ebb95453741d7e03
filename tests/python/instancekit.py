"""Shared by the tests that run code inside instances and workstations (test_instances.py,
test_unchanged_programs.py): the seed's role and policy, a VPC instance, the CLI, `instance exec`."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import requests

import rshelpers as h

ECS = "2014-05-26"
STS = "2015-04-01"
REGION = "cn-hangzhou"
PROGRAMS = Path(__file__).parent / "programs"
IS_ROOT = os.geteuid() == 0
# CI runs as root, so the namespace tests always run there; elsewhere they need root to make namespaces.
needs_root = pytest.mark.skipif(not IS_ROOT and os.environ.get("CI") != "true",
                                reason="network namespaces need root (CI runs as root and runs these)")

# Seed 003 step 1, with the trailing spaces of the published document removed ("Service ",
# "Resource "), which the real service and rolestack both reject.
SEED_TRUST = json.dumps({"Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                        "Principal": {"Service": ["ecs.aliyuncs.com"]}}], "Version": "1"})
SEED_POLICY = json.dumps({"Statement": [{"Action": ["oss:Get*", "oss:List*"], "Effect": "Allow", "Resource": "*"}],
                          "Version": "1"})


def started_server(tmp_path_factory, name, *extra_args):
    """A server for one test module (a generator for a module-scoped fixture), e.g. with --fake-clock."""
    d = tmp_path_factory.mktemp(name)
    srv = h.RolestackServer(d / "data", d / "server.log", extra_args=list(extra_args))
    try:
        srv.start()
    except h.ServerStartError as e:
        pytest.fail(str(e))
    yield srv
    srv.stop()


def root_apis(srv, **products):
    """RPC clients (tea, V3) signed with the root key: name → (version, product)."""
    r = srv.root
    return {name: h.RpcApi("v3", srv.endpoint, r["AccessKeyId"], r["AccessKeySecret"], version=version, product=product)
            for name, (version, product) in products.items()}


def cli(fc, *args, env_extra=None, input=None, timeout=60):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    env.update({"ROLESTACK_ENDPOINT": fc.base_url, "ROLESTACK_DATA_DIR": str(fc.data_dir)})
    env.update(env_extra or {})
    return subprocess.run([str(fc.binary), *args], capture_output=True, text=True, env=env, input=input,
                          timeout=timeout, cwd=str(h.REPO_ROOT))


def seed_role(apis, name=None, policy=SEED_POLICY):
    """Seed steps 1-2: CreateRole (ECS trust), CreatePolicy, AttachPolicyToRole (Custom)."""
    name = name or h.unique_name("EcsRamRoleTest")
    ram = apis["ram"]
    ram.call("CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": SEED_TRUST})
    pol = h.unique_name("EcsRamRolePolicyTest")
    ram.call("CreatePolicy", {"PolicyName": pol, "PolicyDocument": policy})
    ram.call("AttachPolicyToRole", {"PolicyType": "Custom", "PolicyName": pol, "RoleName": name})
    return name


def vpc_instance(apis, role=None, **extra):
    ecs = apis["ecs"]
    vpc = ecs.call("CreateVpc", {"RegionId": REGION, "CidrBlock": "192.168.0.0/16"})["VpcId"]
    vsw = ecs.call("CreateVSwitch", {"RegionId": REGION, "ZoneId": f"{REGION}-i", "VpcId": vpc,
                                     "CidrBlock": f"192.168.{1 + int(time.time() * 1000) % 250}.0/24"})["VSwitchId"]
    params = {"RegionId": REGION, "ImageId": "centos_7_03_64_40G_alibase_20170503.vhd", "InstanceType": "ecs.xn4.small",
              "VSwitchId": vsw}
    if role:
        params["RamRoleName"] = role
    params.update(extra)
    iid = ecs.call("CreateInstance", params)["InstanceId"]
    ecs.call("StartInstance", {"InstanceId": iid})
    return iid


def environment(fc, iid):
    p = cli(fc, "api", "rolestack", "PrepareInstanceEnvironment", f"InstanceId={iid}")
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout)


def metadata(env, path, token=None, **kw):
    headers = {"X-aliyun-ecs-metadata-token": token} if token else {}
    return requests.get(f"http://{env['Proxy']}/latest/meta-data/{path}", headers=headers, timeout=5, **kw)


def exec_in(fc, iid, *command, proxy=False, env_extra=None, input=None):
    args = ["instance", "exec", iid] + (["--proxy"] if proxy else []) + ["--", *command]
    return cli(fc, *args, env_extra=env_extra, input=input)


def oss_instance(fc, apis):
    """A seed role with AliyunOSSFullAccess attached, an instance carrying it, and an empty bucket:
    (role, instance id, bucket)."""
    role = seed_role(apis)
    apis["ram"].call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunOSSFullAccess", "RoleName": role})
    return role, vpc_instance(apis, role=role), seed_bucket(fc, [])


def seed_bucket(fc, keys):
    import oss2
    r = fc.root
    bucket = oss2.Bucket(oss2.Auth(r["AccessKeyId"], r["AccessKeySecret"]), fc.base_url, h.unique_name("ramroletest").lower()[:40])
    bucket.create_bucket()
    for k in keys:
        bucket.put_object(k, b"x")
    return bucket.bucket_name
