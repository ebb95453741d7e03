"""Breaking an instance's metadata service on purpose (docs/faults.md): `rolestack instance fault`
(admin action InjectInstanceFault), credential events (rotate now, expire now, stale documents, a
revoked session), the instance's event list, and what the official Python credential provider
(alibabacloud-credentials, pinned) does about each, observed from a long-running program inside the
instance (programs/fault_loop.py) that calls STS and OSS step by step. No timed assertions: each
step is one request/answer; the 30 s outage ends by moving the server's fake clock.

What is asserted is the provider's documented behaviour (its source, summarised in
docs/faults.md): credentials are cached until 15 minutes before their Expiration (and re-fetched
at most hourly), so a cached client never sees a metadata fault; a fresh client's fetch makes no
retry (timeouts of 1 s), so a fault during it fails that call; a document whose Expiration is past
is refused when nothing is cached; credentials that STS refuses are not refreshed by the provider."""

import json
import subprocess
import sys

import pytest
import requests

import rshelpers as h
from instancekit import ECS, PROGRAMS, STS, cli, environment, needs_root, root_apis, seed_role, started_server, vpc_instance

READ_POLICY = json.dumps({"Statement": [{"Action": ["oss:Get*", "oss:List*", "sts:GetCallerIdentity"], "Effect": "Allow",
                                         "Resource": "*"}], "Version": "1"})


@pytest.fixture(scope="module")
def fc(tmp_path_factory):
    yield from started_server(tmp_path_factory, "faults", "--fake-clock")


@pytest.fixture(scope="module")
def apis(fc):
    return root_apis(fc, ram=(h.RAM_VERSION, "Ram"), ecs=(ECS, "Ecs"), sts=(STS, "Sts"), rs=("2026-11-01", "Rolestack"))


def run(fc, *args):
    p = cli(fc, *args)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout)


def bucket_with_probe(fc):
    import oss2
    r = fc.root
    bucket = oss2.Bucket(oss2.Auth(r["AccessKeyId"], r["AccessKeySecret"]), fc.base_url, h.unique_name("faults").lower()[:40])
    bucket.create_bucket()
    bucket.put_object("probe", b"x")
    return bucket.bucket_name


class Program:
    """programs/fault_loop.py running inside the instance; one JSON line per command."""

    def __init__(self, fc, iid, bucket, hardened=False):
        # `instance exec` clears ALIBABA_CLOUD_* from the environment; set inside, it stays.
        inside = ["env", "ALIBABA_CLOUD_IMDSV1_DISABLED=true"] if hardened else []
        env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("ALIBABA_CLOUD_")}
        env.update({"ROLESTACK_ENDPOINT": fc.base_url, "ROLESTACK_DATA_DIR": str(fc.data_dir)})
        self.p = subprocess.Popen([str(fc.binary), "instance", "exec", iid, "--", *inside, sys.executable,
                                   str(PROGRAMS / "fault_loop.py"), bucket],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=env, cwd=str(h.REPO_ROOT))
        assert json.loads(self.p.stdout.readline()) == {"ready": True}, self.p.stderr.read()

    def __call__(self, what):
        self.p.stdin.write(what + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        assert line, self.p.stderr.read()
        return json.loads(line)

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


def faults(fc, iid):
    return run(fc, "instance", "faults", iid)["Faults"]["Fault"]


@needs_root
def test_python_sdk_under_faults(fc, apis):
    role = seed_role(apis, policy=READ_POLICY)
    iid = vpc_instance(apis, role=role)
    bucket = bucket_with_probe(fc)
    prog = Program(fc, iid, bucket)
    try:
        first = prog("sts")
        assert first["ok"], first
        key = first["AccessKeyId"]
        assert prog("oss")["ok"]

        # Five 500s in a row: the cached client never asks (its set is fresh), a fresh client's
        # fetch fails (no retry inside the provider) until the five are used up.
        run(fc, "instance", "fault", iid, "--status", "500", "--count", "5")
        assert prog("sts") == {"ok": True, "AccessKeyId": key}, "served cached credentials"
        assert faults(fc, iid)[0]["RemainingCount"] == 5, "the cached client did not touch the metadata service"
        outcomes = [prog("new")]
        while not outcomes[-1]["ok"]:
            assert len(outcomes) < 6, outcomes
            outcomes.append(prog("new"))
        assert outcomes[0]["stage"] == "credentials" and "HttpCode=500" in outcomes[0]["error"], outcomes
        assert not faults(fc, iid)[0]["Active"], "succeeded only once the five were used up"

        # A 2 s delay: longer than the provider's 1 s read timeout, so a fresh fetch fails; the
        # cached client keeps working.
        run(fc, "instance", "fault", iid, "--delay", "2s", "--count", "3")
        assert prog("sts")["ok"]
        delayed = prog("new")
        assert not delayed["ok"] and delayed["stage"] == "credentials", delayed
        run(fc, "instance", "fault", iid, "--clear")
        assert prog("new")["ok"]

        # A 30 s outage (connections reset), ended by moving the server's clock past it.
        run(fc, "instance", "fault", iid, "--reset", "--for", "30s")
        assert prog("sts")["ok"] and prog("oss")["ok"], "cached credentials through the outage"
        down = prog("new")
        assert not down["ok"] and down["stage"] == "credentials", down
        run(fc, "clock", "advance", "31s")
        assert prog("new")["ok"], "the outage ended by itself"

        # Throttling at 1 request a second: a fresh fetch makes its requests (token, role name,
        # the role name again without the token, document) at once, so it gets 429 and fails.
        run(fc, "instance", "fault", iid, "--throttle", "1/s")
        throttled = prog("new")
        assert not throttled["ok"] and "HttpCode=429" in throttled["error"], throttled
        assert prog("sts")["ok"], "the cached client is not throttled: it does not ask"
        run(fc, "instance", "fault", iid, "--clear")
        assert prog("new")["ok"]

        # A failing token request (hardened mode's PUT /latest/api/token): tolerated by default
        # (the provider falls back to tokenless reads), fatal with IMDSv1 disabled.
        run(fc, "instance", "fault", iid, "--status", "500", "--path", "/latest/api/token", "--count", "1")
        assert prog("new")["ok"], "fell back to a tokenless read"
        assert not faults(fc, iid)[-1]["Active"], "the token request got the 500"
        hardened = Program(fc, iid, bucket, hardened=True)
        try:
            assert hardened("sts")["ok"]
            run(fc, "instance", "fault", iid, "--status", "500", "--path", "/latest/api/token", "--count", "1")
            refused = hardened("new")
            assert not refused["ok"] and "Failed to get token" in refused["error"], refused
            assert hardened("sts")["ok"], "the cached client is not affected"
            assert hardened("new")["ok"]
        finally:
            hardened.close()

        # A stale document (Expiration already past): refused by a fresh client, which has
        # nothing cached to fall back on; the cached client is unaffected.
        run(fc, "instance", "fault", iid, "--stale-credentials", "--count", "1")
        stale = prog("new")
        assert not stale["ok"] and "No cached value" in stale["error"], stale
        assert prog("sts")["ok"]
        assert prog("new")["ok"]

        # Expire now (kept served while the fault lasts): STS and OSS refuse the served set at
        # once; the long-lived client keeps the refused set (it refreshes by its own clock only).
        current = run(fc, "instance", "credentials", iid)["Credentials"]["AccessKeyId"]
        expired = run(fc, "instance", "fault", iid, "--expire-credentials")
        assert expired["Fault"]["Kind"] == "ExpireCredentials"
        refused = prog("sts")
        assert not refused["ok"] and refused["code"] == "InvalidSecurityToken.Expired", refused
        refused_oss = prog("oss")
        assert not refused_oss["ok"] and refused_oss["code"] == "SecurityTokenExpired", refused_oss
        fresh = prog("new")
        # The document carries the expired set, its Expiration the moment it expired by the
        # server's clock (moved ahead here): the provider refuses it when that is past by its own
        # clock, else takes it and STS refuses the set. Either way the program has no working set.
        assert not fresh["ok"], fresh
        if fresh["stage"] == "call":
            assert fresh["AccessKeyId"] == current and fresh["code"] == "InvalidSecurityToken.Expired", fresh
        run(fc, "instance", "fault", iid, "--clear")
        renewed = prog("new")
        assert renewed["ok"] and renewed["AccessKeyId"] != current, "a new set after the fault"
        assert not prog("sts")["ok"], "the long-lived client still holds the expired set"

        # Rotate now: a new set is served, the old one keeps working until it expires.
        prog2 = Program(fc, iid, bucket)
        try:
            before = prog2("sts")
            assert before["ok"]
            rotated = run(fc, "instance", "rotate-credentials", iid)
            assert rotated["PreviousAccessKeyId"] == before["AccessKeyId"] != rotated["AccessKeyId"]
            assert prog2("sts") == before, "the old set is still valid"
            assert prog2("new")["AccessKeyId"] == rotated["AccessKeyId"]

            # A revoked session while in use: refused at once; a fresh fetch gets a new set.
            run(fc, "role", "revoke-sessions", role)
            gone = prog2("sts")
            assert not gone["ok"] and gone["code"] == "InvalidSecurityToken.Expired", gone
            again = prog2("new")
            assert again["ok"] and again["AccessKeyId"] != rotated["AccessKeyId"]
        finally:
            prog2.close()
    finally:
        prog.close()

    # The event list: what was injected, when, by which action; the same calls are in ActionTrail.
    events = run(fc, "instance", "events", iid)["Events"]["Event"]
    kinds = [e["Event"] for e in events]
    assert kinds[0] == "CredentialsRotated"
    assert kinds.count("FaultInjected") == 8 and kinds.count("FaultsCleared") == 3
    assert {e["Action"] for e in events} == {"InjectInstanceFault", "ClearInstanceFaults", "RotateInstanceCredentials"}
    assert all(e["EventTime"] and e["Caller"] for e in events)


def test_faults_apply_to_token_requests_and_paths(fc, apis):
    """Through the loopback proxy (no root): a path-limited fault, hardened-mode token PUTs, the
    count, the clock, and the API's refusals."""
    role = seed_role(apis, policy=READ_POLICY)
    iid = vpc_instance(apis, role=role)
    env = environment(fc, iid)
    base = f"http://{env['Proxy']}"
    rs = apis["rs"]
    out = rs.call("InjectInstanceFault", {"InstanceId": iid, "Fault": "Status", "Value": "503",
                                          "Path": "/latest/api/token", "Count": "2"})
    assert out["Fault"] == {"Kind": "Status", "Code": 503, "Path": "/latest/api/token"} and out["RemainingCount"] == 2
    put = lambda: requests.put(f"{base}/latest/api/token", headers={"X-aliyun-ecs-metadata-token-ttl-seconds": "60"}, timeout=5)
    assert requests.get(f"{base}/latest/meta-data/instance-id", timeout=5).text == iid, "other paths untouched"
    assert put().status_code == 503
    assert put().status_code == 503
    assert put().status_code == 200, "two uses only"
    # --for ends by the server's (fake) clock
    rs.call("InjectInstanceFault", {"InstanceId": iid, "Fault": "Status", "Value": "500", "DurationSeconds": "60"})
    assert requests.get(f"{base}/latest/meta-data/instance-id", timeout=5).status_code == 500
    run(fc, "clock", "advance", "61s")
    assert requests.get(f"{base}/latest/meta-data/instance-id", timeout=5).status_code == 200
    # a reset closes the connection without an answer
    rs.call("InjectInstanceFault", {"InstanceId": iid, "Fault": "Reset", "Count": "1"})
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{base}/latest/meta-data/instance-id", timeout=5)
    assert requests.get(f"{base}/latest/meta-data/instance-id", timeout=5).status_code == 200
    # a timeout holds the request (until the fault ends): the client gives up first
    rs.call("InjectInstanceFault", {"InstanceId": iid, "Fault": "Timeout", "DurationSeconds": "3", "Path": "/latest/dynamic/*"})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{base}/latest/dynamic/instance-identity/document", timeout=1)
    assert requests.get(f"{base}/latest/meta-data/instance-id", timeout=5).status_code == 200, "another path"
    # a stale document: Expiration in the past, the credentials themselves valid
    rs.call("InjectInstanceFault", {"InstanceId": iid, "Fault": "StaleCredentials", "Count": "1"})
    doc = requests.get(f"{base}/latest/meta-data/ram/security-credentials/{role}", timeout=5).json()
    good = requests.get(f"{base}/latest/meta-data/ram/security-credentials/{role}", timeout=5).json()
    assert doc["AccessKeyId"] == good["AccessKeyId"] and doc["Expiration"] < good["LastUpdated"] <= good["Expiration"]
    # refusals in the API's own style
    for params, code in [({"Fault": "Explode"}, "InvalidParameter.Fault"), ({"Fault": "Delay"}, "InvalidParameter.Fault"),
                         ({"Fault": "Status", "Value": "200"}, "InvalidParameter.Fault"),
                         ({"Fault": "Reset", "Path": "latest"}, "InvalidParameter.Path")]:
        with pytest.raises(h.ApiError) as e:
            rs.call("InjectInstanceFault", {"InstanceId": iid, **params})
        assert e.value.code == code
    with pytest.raises(h.ApiError) as e:
        rs.call("InjectInstanceFault", {"InstanceId": "i-missing", "Fault": "Reset"})
    assert e.value.code == "InvalidInstanceId.NotFound"
    assert rs.call("ClearInstanceFaults", {"InstanceId": iid})["ClearedCount"] >= 1
    assert rs.call("DescribeInstanceFaults", {"InstanceId": iid})["Faults"]["Fault"] == []
    rs.call("ExpireInstanceCredentials", {"InstanceId": iid})
    rs.call("RotateInstanceCredentials", {"InstanceId": iid})
    # Each injection and credential event is an ActionTrail event (official ActionTrail SDK).
    from alibabacloud_actiontrail20200706 import models as at_models
    from alibabacloud_actiontrail20200706.client import Client as ActionTrailClient
    r = fc.root
    trail = ActionTrailClient(h.tea_config(fc.endpoint, r["AccessKeyId"], r["AccessKeySecret"]))
    for name, n in [("InjectInstanceFault", 5), ("ClearInstanceFaults", 1), ("ExpireInstanceCredentials", 1),
                    ("RotateInstanceCredentials", 1)]:
        req = at_models.LookupEventsRequest(lookup_attribute=[at_models.LookupEventsRequestLookupAttribute(key="EventName", value=name)],
                                            max_results="50")
        events = [e for e in trail.lookup_events(req).body.events if e["requestParameters"].get("InstanceId") == iid]
        ok = [e for e in events if "errorCode" not in e]
        assert len(ok) == n, (name, events)
        assert all(e["serviceName"] == "Rolestack" and e["eventRW"] == "Write" for e in ok)
    listed = rs.call("ListInstanceEvents", {"InstanceId": iid})["Events"]["Event"]
    assert [e["Event"] for e in listed[:3]] == ["CredentialsRotated", "CredentialsExpired", "FaultsCleared"]


def test_faults_survive_a_restart(tmp_path_factory):
    """Faults live in the store: after a restart the same fault applies, with the uses it had left."""
    for srv in started_server(tmp_path_factory, "faults-restart"):
        apis = root_apis(srv, ram=(h.RAM_VERSION, "Ram"), ecs=(ECS, "Ecs"), rs=("2026-11-01", "Rolestack"))
        iid = vpc_instance(apis, role=seed_role(apis, policy=READ_POLICY))
        apis["rs"].call("InjectInstanceFault", {"InstanceId": iid, "Fault": "Status", "Value": "500", "Count": "2"})
        get = lambda env: requests.get(f"http://{env['Proxy']}/latest/meta-data/instance-id", timeout=5)  # noqa: E731
        assert get(environment(srv, iid)).status_code == 500
        srv.restart()
        env = environment(srv, iid)
        assert get(env).status_code == 500, "the fault and its last use survived the restart"
        assert get(env).status_code == 200
        events = run(srv, "instance", "events", iid)["Events"]["Event"]
        assert [e["Event"] for e in events] == ["FaultInjected"]


def test_fault_parameters_at_their_bounds(fc, apis):
    """InjectInstanceFault's bounds (docs/faults.md): counts and durations from 1, values per kind,
    at most 20 faults, clearing twice, and faults on a stopped (kept: they apply once it runs) and
    a deleted instance (gone with it)."""
    iid = vpc_instance(apis, role=seed_role(apis, policy=READ_POLICY))
    rs = apis["rs"]
    inject = lambda **p: rs.call("InjectInstanceFault", {"InstanceId": iid, **p})  # noqa: E731
    for params, code in [({"Fault": "Reset", "Count": "0"}, "InvalidParameter.Count"),
                         ({"Fault": "Reset", "Count": "-1"}, "InvalidParameter.Count"),
                         ({"Fault": "Reset", "Count": "1000001"}, "InvalidParameter.Count"),
                         ({"Fault": "Reset", "Count": "99999999999999999999"}, "InvalidParameter.Count"),
                         ({"Fault": "Reset", "DurationSeconds": "0"}, "InvalidParameter.DurationSeconds"),
                         ({"Fault": "Reset", "DurationSeconds": "604801"}, "InvalidParameter.DurationSeconds"),
                         ({"Fault": "Reset", "DurationSeconds": "1.5"}, "InvalidParameter.DurationSeconds"),
                         ({"Fault": "Delay", "Value": "0"}, "InvalidParameter.Fault"),
                         ({"Fault": "Delay", "Value": "120001"}, "InvalidParameter.Fault"),
                         ({"Fault": "Status", "Value": "399"}, "InvalidParameter.Fault"),
                         ({"Fault": "Status", "Value": "600"}, "InvalidParameter.Fault"),
                         ({"Fault": "Throttle", "Value": "0"}, "InvalidParameter.Fault"),
                         ({"Fault": "Throttle", "Value": "10001"}, "InvalidParameter.Fault"),
                         ({"Fault": "Reset", "Value": "1"}, "InvalidParameter.Fault"),
                         ({"Fault": "Reset", "Path": "/" + "a" * 256}, "InvalidParameter.Path"),
                         ({}, "MissingFault")]:
        h.expect_error(lambda: inject(**params), code=code, status=400)
    assert rs.call("DescribeInstanceFaults", {"InstanceId": iid})["Faults"]["Fault"] == [], "nothing refused was kept"
    assert inject(Fault="Delay", Value="120000", Count="1000000", DurationSeconds="604800")["Active"] is True
    assert inject(Fault="reset", Path="/nothing/*")["Fault"] == {"Kind": "Reset", "Path": "/nothing/*"}, "kinds in any case"
    for i in range(18):
        inject(Fault="Reset", Path=f"/nothing/{i}")
    h.expect_error(lambda: inject(Fault="Reset"), code="QuotaExceed.InstanceFaults", status=400)
    assert rs.call("ClearInstanceFaults", {"InstanceId": iid})["ClearedCount"] == 20
    assert rs.call("ClearInstanceFaults", {"InstanceId": iid})["ClearedCount"] == 0, "clearing twice is no error"
    events = [e["Event"] for e in rs.call("ListInstanceEvents", {"InstanceId": iid})["Events"]["Event"]]
    assert events[:2] == ["FaultsCleared", "FaultsCleared"] and events.count("FaultInjected") == 20
    apis["ecs"].call("StopInstance", {"InstanceId": iid})
    assert inject(Fault="Status", Value="500", Count="1")["Active"] is True, "prepared while stopped"
    apis["ecs"].call("DeleteInstance", {"InstanceId": iid})
    for action in ("InjectInstanceFault", "ClearInstanceFaults", "DescribeInstanceFaults", "ListInstanceEvents"):
        h.expect_error(lambda: rs.call(action, {"InstanceId": iid, "Fault": "Reset"}), code="InvalidInstanceId.NotFound", status=404)


@needs_root
def test_credential_faults_need_a_ram_role(fc, apis):
    """ExpireCredentials and StaleCredentials on an instance without a RAM role are refused as
    ExpireInstanceCredentials and RotateInstanceCredentials refuse it (InvalidInstance.NoRamRole,
    404, the same message), and nothing is kept; the other kinds are still taken (docs/faults.md).
    Once a role is attached, the credential faults are taken too."""
    iid = vpc_instance(apis)
    rs = apis["rs"]
    expected = h.expect_error(lambda: rs.call("ExpireInstanceCredentials", {"InstanceId": iid}),
                              code="InvalidInstance.NoRamRole", status=404)
    for action, params in [("InjectInstanceFault", {"Fault": "ExpireCredentials"}),
                           ("InjectInstanceFault", {"Fault": "StaleCredentials", "Count": "1"}),
                           ("InjectInstanceFault", {"Fault": "expirecredentials"}),
                           ("RotateInstanceCredentials", {})]:
        err = h.expect_error(lambda: rs.call(action, {"InstanceId": iid, **params}), code="InvalidInstance.NoRamRole", status=404)
        assert err.message == expected.message, (action, params, err.message)
    assert rs.call("DescribeInstanceFaults", {"InstanceId": iid})["Faults"]["Fault"] == [], "nothing refused was kept"
    assert rs.call("ListInstanceEvents", {"InstanceId": iid})["Events"]["Event"] == []
    assert rs.call("InjectInstanceFault", {"InstanceId": iid, "Fault": "Delay", "Value": "10", "Count": "1"})["Active"] is True
    role = seed_role(apis, policy=READ_POLICY)
    apis["ecs"].call("AttachInstanceRamRole", {"RegionId": h.ECS_REGION, "RamRoleName": role, "InstanceIds": json.dumps([iid])})
    assert rs.call("InjectInstanceFault", {"InstanceId": iid, "Fault": "StaleCredentials", "Count": "1"})["Active"] is True
    rs.call("ClearInstanceFaults", {"InstanceId": iid})
