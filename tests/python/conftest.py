"""pytest fixtures: one rolestack server per session, official SDK clients pointed at it.

Server binary: $ROLESTACK_BIN, else <repo>/target/debug/rolestack (build with `cargo build`).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest

import rshelpers as h


def pytest_report_header(config):
    return f"rolestack binary: {h.rolestack_binary()}"


@pytest.fixture(scope="session")
def work_dir():
    d = Path(tempfile.mkdtemp(prefix="rolestack-pytest-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def server(work_dir):
    """The shared server: fresh data dir, free loopback port, stopped at session end."""
    srv = h.RolestackServer(work_dir / "data", work_dir / "server.log")
    try:
        srv.start()
    except h.ServerStartError as e:
        # one clear message instead of the same error on every test
        pytest.exit(f"cannot start the rolestack server:\n{e}", returncode=1)
    try:
        srv.root  # bootstrap + read root credentials through the CLI
        yield srv
    finally:
        srv.stop()
        _keep_log(srv.log_path)


KEPT_LOG = h.REPO_ROOT / "target" / "pytest-server.log"


def _keep_log(path):
    try:
        KEPT_LOG.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, KEPT_LOG)
    except OSError:
        pass


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if exitstatus not in (0, 5) and KEPT_LOG.is_file():
        lines = KEPT_LOG.read_text(errors="replace").splitlines()
        terminalreporter.write_sep("-", f"last lines of the server log (full log: {KEPT_LOG})")
        for line in lines[-40:]:
            terminalreporter.write_line(re.sub(r"\x1b\[[0-9;]*m", "", line))


@pytest.fixture(scope="session")
def endpoint(server) -> str:
    return server.endpoint


@pytest.fixture(scope="session")
def root(server) -> dict:
    """{"AccountId", "AccessKeyId", "AccessKeySecret"} of the account root."""
    return server.root


@pytest.fixture(scope="session")
def account_id(root) -> str:
    return root["AccountId"]


# -- the three official client kinds, as the root ----------------------------------------

@pytest.fixture(scope="session")
def ram_v3(server):
    """alibabacloud_ram20150501 Client, default signing (V3 ACS3-HMAC-SHA256)."""
    return h.make_ram_tea(server.endpoint, server.root["AccessKeyId"],
                          server.root["AccessKeySecret"], "v3")


@pytest.fixture(scope="session")
def ram_v2sig(server):
    """alibabacloud_ram20150501 Client with signature_algorithm='v2' (V1 HMAC-SHA1)."""
    return h.make_ram_tea(server.endpoint, server.root["AccessKeyId"],
                          server.root["AccessKeySecret"], "v2sig")


@pytest.fixture(scope="session")
def acs_client(server):
    """aliyunsdkcore AcsClient; point each request with `core_request(req)`."""
    return h.make_acs_client(server.root["AccessKeyId"], server.root["AccessKeySecret"])


@pytest.fixture(scope="session")
def core_request(server):
    """core_request(req) -> req pointed at the local server over http."""
    return lambda req: h.point_core_request(req, server.endpoint)


@pytest.fixture(scope="session")
def typed_clients(ram_v3, ram_v2sig, acs_client):
    return {"v3": ram_v3, "v2sig": ram_v2sig, "core": acs_client}


# -- generic RPC callers -----------------------------------------------------------------

@pytest.fixture(scope="session")
def apis(server):
    """kind -> RpcApi as the root, for each of the three client kinds."""
    r = server.root
    return {k: h.RpcApi(k, server.endpoint, r["AccessKeyId"], r["AccessKeySecret"])
            for k in h.CLIENT_KINDS}


@pytest.fixture(params=h.CLIENT_KINDS)
def kind(request) -> str:
    return request.param


@pytest.fixture
def ram(apis, kind) -> h.RpcApi:
    """RAM as the root, parametrized over v3 / v2sig / core."""
    return apis[kind]


@pytest.fixture
def root_api(apis) -> h.RpcApi:
    """RAM as the root through the default client (tea, V3) for setup steps."""
    return apis["v3"]


@pytest.fixture(scope="session")
def api_for(server):
    """api_for(ak, secret, kind='v3', version=RAM, token=None) -> RpcApi for any credentials."""
    def make(ak, secret, kind="v3", version=h.RAM_VERSION, token=None, product="Ram"):
        return h.RpcApi(kind, server.endpoint, ak, secret, version=version, token=token,
                        product=product)
    return make


@pytest.fixture(scope="session")
def tea_client_for(server):
    """tea_client_for(ak, secret, signature='v3') -> alibabacloud_ram20150501 Client."""
    return lambda ak, secret, signature="v3": h.make_ram_tea(server.endpoint, ak, secret, signature)


@pytest.fixture(scope="session")
def acs_client_for():
    """acs_client_for(ak, secret) -> AcsClient (point requests with core_request)."""
    return lambda ak, secret: h.make_acs_client(ak, secret)


@pytest.fixture
def unique_name():
    return h.unique_name


@pytest.fixture(scope="session")
def assumer(apis) -> dict:
    """A RAM user that may assume roles (AccessKeyId / AccessKeySecret, like `root`): STS refuses
    AssumeRole signed by the account's root."""
    return h.assume_role_user(apis["v3"])


@pytest.fixture
def ram_user(root_api):
    """ram_user(policies=(), groups=()) -> (user_name, ak, secret): a RAM user with one key."""
    def make(policies=(), groups=(), prefix="u"):
        name = h.unique_name(prefix)
        root_api.call("CreateUser", {"UserName": name})
        key = root_api.call("CreateAccessKey", {"UserName": name})["AccessKey"]
        for pol in policies:
            ptype = "System" if pol in h.SYSTEM_POLICIES else "Custom"
            root_api.call("AttachPolicyToUser", {"PolicyType": ptype, "PolicyName": pol,
                                                 "UserName": name})
        for g in groups:
            root_api.call("AddUserToGroup", {"GroupName": g, "UserName": name})
        return name, key["AccessKeyId"], key["AccessKeySecret"]
    return make


# -- servers of one's own (persistence, restarts) ----------------------------------------

@pytest.fixture
def fresh_server(tmp_path):
    """A separate server on its own fresh data dir; `.restart()` keeps the data dir."""
    srv = h.RolestackServer(tmp_path / "data", tmp_path / "server.log")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def pytest_sessionstart(session):
    try:
        KEPT_LOG.unlink()
    except OSError:
        pass


# -- ECS clients, as the root -------------------------------------------------------------

@pytest.fixture(scope="session")
def ecs_apis(server):
    r = server.root
    return {k: h.ecs_api(k, server.endpoint, r["AccessKeyId"], r["AccessKeySecret"]) for k in h.CLIENT_KINDS}


@pytest.fixture
def ecs(ecs_apis, kind):
    """ECS as the root, parametrized over v3 / v2sig / core."""
    return ecs_apis[kind]


@pytest.fixture(scope="session")
def root_ecs(ecs_apis):
    return ecs_apis["v3"]


@pytest.fixture(scope="session")
def typed(server):
    r = server.root
    return {s: h.make_ecs_tea(server.endpoint, r["AccessKeyId"], r["AccessKeySecret"], s) for s in ("v3", "v2sig")}


@pytest.fixture(scope="session")
def acs(server):
    return h.make_acs_client(server.root["AccessKeyId"], server.root["AccessKeySecret"])


# -- VPC clients, as the root -------------------------------------------------------------

@pytest.fixture(scope="session")
def vpc_apis(server):
    r = server.root
    return {k: h.vpc_api(k, server.endpoint, r["AccessKeyId"], r["AccessKeySecret"]) for k in h.CLIENT_KINDS}


@pytest.fixture
def vpc(vpc_apis, kind):
    """VPC 2016-04-28 as the root, parametrized over v3 / v2sig / core."""
    return vpc_apis[kind]


@pytest.fixture(scope="session")
def vpc_typed(server):
    r = server.root
    return {s: h.make_vpc_tea(server.endpoint, r["AccessKeyId"], r["AccessKeySecret"], s) for s in ("v3", "v2sig")}
