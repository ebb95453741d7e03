"""Shared by the tests that run code inside instances and workstations (test_instances.py,
test_unchanged_programs.py, test_stopped_instances.py, ...): the seed's role and policy, a VPC
instance, the CLI, `instance exec`, a long-running program inside an instance (`Inside`)."""

import json
import os
import queue
import subprocess
import sys
import threading
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


# Reads the instance's credentials once with alibabacloud-credentials' ecs_ram_role provider; prints the AccessKeyId.
READ_ONCE = ("from alibabacloud_credentials.client import Client; from alibabacloud_credentials.models import Config; "
             "print(Client(Config(type='ecs_ram_role')).get_credential().access_key_id)")


def gone(pid):
    """Whether process `pid` has ended (a zombie of ours counts: it no longer runs)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_for(condition, what, bound=15):
    """Waits until `condition()` holds; the bound only keeps a failure from hanging the suite."""
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, f"waited {bound} s for {what}"
        time.sleep(0.05)


STARTED = []  # the Inside programs (and their daemons) the tests started, ended by end_programs()


def end_programs():
    """Ends what Inside started and is still running (call it after each test, whatever happened)."""
    while STARTED:
        prog = STARTED.pop()
        for pid in (prog.p.pid, prog.daemon):
            if pid and not gone(pid):
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
        prog.p.wait(timeout=10)


class Inside:
    """powered_program.py running inside an instance through `rolestack instance exec`."""

    def __init__(self, fc, iid, *flags, env_extra=None, proxy=False):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
        env.update({"ROLESTACK_ENDPOINT": fc.base_url, "ROLESTACK_DATA_DIR": str(fc.data_dir)})
        env.update(env_extra or {})
        command = [sys.executable, str(PROGRAMS / "powered_program.py"), *flags]
        self.p = subprocess.Popen([str(fc.binary), "instance", "exec", iid, *(["--proxy"] if proxy else []), "--", *command],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.daemon = None
        STARTED.append(self)
        self.lines = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.p.stdout] + [self.lines.put("")], daemon=True).start()
        first = self.line()
        self.pid, self.daemon = first["pid"], first["daemon"]

    def line(self):
        """Its next line (the bound only keeps a failure from hanging the suite)."""
        try:
            out = self.lines.get(timeout=30)
        except queue.Empty:
            self.p.kill()
            raise AssertionError("the program printed nothing for 30 s")
        assert out, f"the program ended: {self.p.wait(timeout=10)} {self.p.stderr.read()}"
        return json.loads(out)

    def read(self):
        self.p.stdin.write("read\n")
        self.p.stdin.flush()
        return self.line()["AccessKeyId"]

    def ended(self):
        """Its exit status, once it has ended (the stop ends it; the wait only bounds a failure)."""
        try:
            return self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise AssertionError("the program still runs 30 s later")


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
