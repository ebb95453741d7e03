"""Programs written for the real cloud, run unchanged: HTTPS with the local CA on the host,
Alibaba Cloud's service names inside an instance (`rolestack instance exec`) and on a workstation
(`rolestack exec`), default endpoints and default trust stores, and buckets that live in a region.

Everything stays on loopback or inside namespaces this server made: names outside the service
domains do not resolve there, and nothing reaches a real host."""

import contextlib
import json
import os
import socket
import ssl
import subprocess
import sys
import uuid

import oss2
import pytest
import requests

import rshelpers as h
from instancekit import PROGRAMS, cli, needs_root, seed_role, vpc_instance

ECS = "2014-05-26"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    d = tmp_path_factory.mktemp("unchanged")
    s = h.RolestackServer(d / "data", d / "server.log")
    try:
        s.start()
    except h.ServerStartError as e:
        pytest.fail(str(e))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def apis(srv):
    r = srv.root
    mk = lambda version, product: h.RpcApi("v3", srv.endpoint, r["AccessKeyId"], r["AccessKeySecret"], version=version, product=product)
    return {"ram": mk(h.RAM_VERSION, "Ram"), "ecs": mk(ECS, "Ecs")}


def run(srv, *args, env_extra=None, timeout=90):
    return cli(srv, *args, env_extra=env_extra, timeout=timeout)


def root_bucket(srv, name, endpoint=None):
    r = srv.root
    b = oss2.Bucket(oss2.Auth(r["AccessKeyId"], r["AccessKeySecret"]), endpoint or srv.base_url, name)
    return b


# -- HTTPS on the host ---------------------------------------------------------------------------

def test_https_with_the_local_ca(srv):
    url = f"https://{srv.tls_endpoint}/health"
    assert srv.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
    p = subprocess.run(["curl", "-sS", "--cacert", str(srv.ca_file), url], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout == "ok", p.stderr
    # A client that does not trust the CA gets a certificate error, never a silent downgrade.
    p = subprocess.run(["curl", "-sS", url], capture_output=True, text=True, timeout=30, env={**os.environ, "CURL_CA_BUNDLE": ""})
    assert p.returncode == 60, (p.returncode, p.stdout, p.stderr)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, timeout=10)
    assert requests.get(url, verify=str(srv.ca_file), timeout=10).text == "ok"
    # The same API over HTTPS, through the official core SDK with the CA trusted.
    r = srv.root
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkram.request.v20150501.GetAccountAliasRequest import GetAccountAliasRequest
    os.environ["ALIBABA_CLOUD_CA_BUNDLE"] = str(srv.ca_file)
    try:
        req = GetAccountAliasRequest()
        req.set_endpoint(srv.tls_endpoint)  # its constructor already chose HTTPS
        client = AcsClient(r["AccessKeyId"], r["AccessKeySecret"], "cn-hangzhou")
        assert "RequestId" in json.loads(client.do_action_with_exception(req))
    finally:
        del os.environ["ALIBABA_CLOUD_CA_BUNDLE"]


def test_certificates_only_for_service_names(srv):
    ctx = ssl.create_default_context(cafile=str(srv.ca_file))

    def handshake(name):
        with socket.create_connection(("127.0.0.1", srv.tls_port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=name) as tls:
                return tls.getpeercert()["subjectAltName"]

    assert handshake("sts.aliyuncs.com") == (("DNS", "sts.aliyuncs.com"),)
    assert handshake("ramroletest.oss-cn-hangzhou.aliyuncs.com") == (("DNS", "ramroletest.oss-cn-hangzhou.aliyuncs.com"),)
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake("www.example.com")


# -- regions -------------------------------------------------------------------------------------

@contextlib.contextmanager
def pinned_names():
    """Inside this process only: every *.aliyuncs.com name resolves to 127.0.0.1, and no other name
    resolves at all (nothing here may reach the machine's resolver)."""
    real = socket.getaddrinfo

    def fake(host, *args, **kw):
        if isinstance(host, str) and (host.endswith(".aliyuncs.com") or host in ("127.0.0.1", "localhost")):
            return real("127.0.0.1", *args, **kw)
        raise socket.gaierror(socket.EAI_NONAME, f"{host} is not pinned in this test")

    socket.getaddrinfo = fake
    try:
        yield
    finally:
        socket.getaddrinfo = real


def test_bucket_lives_in_its_region(srv):
    """A bucket made through oss-cn-shanghai lives in cn-shanghai: GetBucketLocation and
    GetBucketInfo say so, the cn-hangzhou endpoint refuses it with OSS's own error naming the right
    endpoint, and a LocationConstraint that disagrees with the endpoint is refused."""
    r = srv.root
    auth = oss2.Auth(r["AccessKeyId"], r["AccessKeySecret"])
    name = f"rs-region-{uuid.uuid4().hex[:10]}"
    with pinned_names():
        shanghai = oss2.Bucket(auth, f"http://oss-cn-shanghai.aliyuncs.com:{srv.port}", name)
        shanghai.create_bucket()
        assert shanghai.get_bucket_location().location == "oss-cn-shanghai"
        info = shanghai.get_bucket_info()
        assert info.location == "oss-cn-shanghai"
        assert info.extranet_endpoint == "oss-cn-shanghai.aliyuncs.com"
        assert info.intranet_endpoint == "oss-cn-shanghai-internal.aliyuncs.com"
        shanghai.put_object("k", b"v")
        hangzhou = oss2.Bucket(auth, f"http://oss-cn-hangzhou.aliyuncs.com:{srv.port}", name)
        with pytest.raises(oss2.exceptions.AccessDenied) as e:
            hangzhou.get_object("k")
        assert e.value.status == 403
        assert "must be addressed using the specified endpoint" in e.value.message
        assert e.value.details.get("Endpoint") == "oss-cn-shanghai.aliyuncs.com"
        # A LocationConstraint naming another region than the endpoint's.
        conflicting = f"rs-region-{uuid.uuid4().hex[:10]}"
        resp = oss2.Bucket(auth, f"http://oss-cn-hangzhou.aliyuncs.com:{srv.port}", conflicting)
        with pytest.raises(oss2.exceptions.OssError) as e:
            resp._Bucket__do_bucket("PUT", data=b"<CreateBucketConfiguration><LocationConstraint>oss-cn-shanghai"
                                                  b"</LocationConstraint></CreateBucketConfiguration>")
        assert (e.value.status, e.value.code) == (400, "InvalidLocationConstraint")
    # Through the plain address every bucket is reachable, and reports its own region.
    plain = oss2.Bucket(auth, srv.base_url, name)
    assert plain.get_object("k").read() == b"v"
    assert plain.get_bucket_location().location == "oss-cn-shanghai"
    made_here = f"rs-region-{uuid.uuid4().hex[:10]}"
    oss2.Bucket(auth, srv.base_url, made_here).create_bucket()
    listed = {b.name: b.location for b in oss2.BucketIterator(oss2.Service(auth, srv.base_url))}
    assert listed[name] == "oss-cn-shanghai" and listed[made_here] == "oss-cn-hangzhou"
    plain.delete_object("k")
    plain.delete_bucket()


# -- inside an instance --------------------------------------------------------------------------

def instance_with_role(apis, *policies):
    role = seed_role(apis)  # the seed's oss:Get*/oss:List* policy
    for p in policies:
        apis["ram"].call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": p, "RoleName": role})
    return role, vpc_instance(apis, role=role)


def exec_instance(srv, iid, *command):
    return run(srv, "instance", "exec", iid, "--", *command)


@needs_root
def test_seed_003_program_verbatim_inside_an_instance(srv, apis):
    role, iid = instance_with_role(apis)
    seed = root_bucket(srv, "ramroletest")
    seed.create_bucket()
    for key in ("ramroletest.txt", "test.sh"):
        seed.put_object(key, b"x")
    p = exec_instance(srv, iid, sys.executable, str(PROGRAMS / "seed003_verbatim.py"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.strip().splitlines() == ["ramroletest.txt", "test.sh", "PUT: 403 AccessDenied"]


@needs_root
def test_default_endpoints_and_trust_inside_an_instance(srv, apis):
    role, iid = instance_with_role(apis, "AliyunRAMReadOnlyAccess", "AliyunECSReadOnlyAccess")
    p = exec_instance(srv, iid, sys.executable, str(PROGRAMS / "default_endpoints.py"))
    assert p.returncode == 0, p.stdout + p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["Arn"] == f"acs:ram::{srv.root['AccountId']}:assumed-role/{role}/vm-ram-{iid}"
    assert out["Endpoints"] == ["sts.cn-hangzhou.aliyuncs.com", "ram.aliyuncs.com", "ecs-cn-hangzhou.aliyuncs.com"]
    assert role in out["Roles"] and out["InstanceRole"] == role
    # curl with its default trust store, and the resolver: service names only, answered at once.
    p = exec_instance(srv, iid, "sh", "-c", "curl -sS -o /dev/null -w '%{http_code}' https://ram.aliyuncs.com/; echo; "
                                            "getent hosts oss-cn-hangzhou.aliyuncs.com; getent hosts www.example.com; echo rc=$?")
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.split()
    assert lines[0] == "400", p.stdout  # the RPC gateway's own answer to a request without an action
    assert "127.0.0.1" in lines and lines[-1] == "rc=2", p.stdout
    code = "import socket\ntry:\n    socket.getaddrinfo('www.example.com', 443)\nexcept socket.gaierror as e:\n    print('unresolved', e.errno)"
    p = exec_instance(srv, iid, sys.executable, "-c", code)
    assert p.stdout.startswith("unresolved"), p.stdout + p.stderr


# -- rolestack exec (a workstation) ------------------------------------------------------------

def workstation(srv, *command, proxy=False, keys=None):
    """`rolestack exec`; `keys` (a RAM user's) instead of the root's AccessKey from the data dir."""
    args = ["exec"] + (["--proxy"] if proxy else []) + ["--", *command]
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": keys["AccessKeyId"], "ALIBABA_CLOUD_ACCESS_KEY_SECRET": keys["AccessKeySecret"]} if keys else None
    return cli(srv, *args, env_extra=env, timeout=90)


def assumable_role(apis, account_id):
    """A role the account trusts, and the RAM user to assume it as (STS refuses the root), allowed
    to prepare a workstation (`rolestack exec`)."""
    role = h.unique_name("WorkstationRole")
    apis["ram"].call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    user = h.assume_role_user(apis["ram"])
    policy = h.unique_name("workstation")
    apis["ram"].call("CreatePolicy", {"PolicyName": policy, "PolicyDocument": h.policy_doc([h.allow("rolestack:PrepareWorkstationEnvironment")])})
    apis["ram"].call("AttachPolicyToUser", {"PolicyType": "Custom", "PolicyName": policy, "UserName": user["UserName"]})
    return role, f"acs:ram::{account_id}:role/{role}", user


@needs_root
def test_exec_runs_cloud_programs_with_default_endpoints(srv, apis):
    account = srv.root["AccountId"]
    role, arn, user = assumable_role(apis, account)
    p = workstation(srv, sys.executable, str(PROGRAMS / "ram_role_arn_default.py"), arn, keys=user)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "network namespace" in p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["AccessKeyId"].startswith("STS.")
    assert out["Arn"] == f"acs:ram::{account}:assumed-role/{role}/workstation"
    p = workstation(srv, sys.executable, str(PROGRAMS / "core_sdk_assume_role.py"), arn, keys=user)
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1])["Arn"] == f"acs:ram::{account}:role/{role.lower()}/core-sdk"
    bucket = f"rs-ws-{uuid.uuid4().hex[:10]}"
    root_bucket(srv, bucket).create_bucket()
    p = workstation(srv, sys.executable, str(PROGRAMS / "oss_v2_region_only.py"), bucket)
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1]) == {"Keys": ["from-oss-v2.txt"], "Body": "region only"}
    p = workstation(srv, "getent", "hosts", "www.example.com")
    assert p.returncode == 2, p.stdout + p.stderr


def test_exec_without_a_namespace_uses_the_proxy(srv):
    """Unprivileged: HTTP(S)_PROXY is rolestack itself. curl asks it for https://sts.aliyuncs.com
    (CONNECT, TLS with the local CA) and gets the STS API; a CONNECT elsewhere is refused."""
    p = workstation(srv, "sh", "-c", "curl -sS -o /dev/null -w '%{http_code}' https://sts.aliyuncs.com/; echo; "
                                     "curl -sS -o /dev/null -w '%{http_code}' https://www.example.com/; echo rc=$?", proxy=True)
    assert "HTTP_PROXY" in p.stderr and "HTTPS_PROXY" in p.stderr, p.stderr
    lines = p.stdout.split()
    assert lines[0] == "400", p.stdout + p.stderr
    assert lines[-1] != "rc=0", p.stdout + p.stderr
