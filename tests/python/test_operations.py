"""Operating rolestack and explaining decisions: the policy simulator (`rolestack policy
simulate`, the admin action SimulatePolicy) with the three decisions, a failing condition, a
draft policy and a trust check; `/metrics` in Prometheus' text format (parsed by
prometheus-client's own parser) with counters that move; `--log-format json`; a port in use."""

import json
import os
import subprocess
import time

import requests
from prometheus_client.parser import text_string_to_metric_families

import rshelpers as h


def cli(server, *args, timeout=60):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    env.update({"ROLESTACK_ENDPOINT": server.base_url, "ROLESTACK_DATA_DIR": str(server.data_dir)})
    return subprocess.run([str(server.binary), *args], capture_output=True, text=True, env=env, timeout=timeout)


def simulate(server, *args):
    p = cli(server, "policy", "simulate", *args)
    assert p.returncode == 0, p.stdout + p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def test_simulator_decisions_and_explanations(server, root_api, ram_user, account_id, tmp_path):
    pol = h.unique_name("sim-office")
    root_api.call("CreatePolicy", {"PolicyName": pol, "PolicyDocument": h.policy_doc([
        {"Sid": "OfficeReads", "Effect": "Allow", "Action": "oss:Get*", "Resource": "*",
         "Condition": {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}}},
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": "oss:DeleteObject", "Resource": "*"}])})
    user, _, _ = ram_user(policies=[pol, "AliyunOSSFullAccess"])
    res = "acs:oss:*:*:bucket/key"
    allow, explicit, implicit = simulate(server, "--user", user, "--action", "oss:GetObject", "--action", "oss:DeleteObject",
                                         "--action", "ecs:DescribeInstances", "--resource", res,
                                         "--context", "acs:SourceIp=10.1.2.3")
    assert (allow["Action"], allow["Decision"]) == ("oss:GetObject", "Allow")
    office = [s for s in allow["MatchedStatements"] if s["Sid"] == "OfficeReads"][0]
    assert office["Applies"] is True and office["PolicyName"] == pol and office["PolicyType"] == "Custom"
    assert office["PolicyVersion"] == "v1" and office["AttachedTo"] == {"Type": "RamUser", "Name": user}
    assert office["Conditions"] == [{"Operator": "IpAddress", "Key": "acs:SourceIp", "Values": ["10.0.0.0/8"],
                                     "RequestValues": ["10.1.2.3"], "Matched": True}]
    assert explicit["Decision"] == "ExplicitDeny"
    assert any(s["Sid"] == "NoDeletes" and s["Effect"] == "Deny" and s["Applies"] for s in explicit["MatchedStatements"])
    assert implicit["Decision"] == "ImplicitDeny" and implicit["MatchedStatements"] == []
    # A failing condition: from outside the office network the statement does not apply.
    [outside] = simulate(server, "--user", user, "--action", "oss:GetObject", "--resource", res, "--context", "acs:SourceIp=192.168.1.1")
    office = [s for s in outside["MatchedStatements"] if s["Sid"] == "OfficeReads"][0]
    assert office["Applies"] is False and office["Conditions"][0]["Matched"] is False
    assert outside["Decision"] == "Allow"  # AliyunOSSFullAccess still allows it
    # A draft policy added to a group's policies.
    grp = h.unique_name("sim-group")
    root_api.call("CreateGroup", {"GroupName": grp})
    draft = tmp_path / "draft.json"
    draft.write_text(h.policy_doc([h.allow("ecs:Describe*")]))
    [before] = simulate(server, "--group", grp, "--action", "ecs:DescribeInstances")
    [after] = simulate(server, "--group", grp, "--action", "ecs:DescribeInstances", "--policy-file", str(draft))
    assert before["Decision"] == "ImplicitDeny" and after["Decision"] == "Allow"
    assert after["MatchedStatements"][0]["PolicyName"] == "draft"


def test_simulator_trust_check(server, root_api, account_id):
    role = h.unique_name("sim-ecs-role")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.ecs_trust_policy()})
    [ecs] = simulate(server, "--assume-role", role, "--principal", "ecs.aliyuncs.com")
    [user] = simulate(server, "--assume-role", role, "--principal", f"acs:ram::{account_id}:user/alice")
    assert ecs["Decision"] == "Allow" and ecs["MatchedStatements"][0]["PolicyType"] == "AssumeRolePolicy"
    assert user["Decision"] == "ImplicitDeny"


def test_simulator_is_authorized(server, ram_user):
    _, ak, sk = ram_user()
    p = subprocess.run([str(server.binary), "policy", "simulate", "--user", "nobody", "--action", "ram:GetUser"],
                       capture_output=True, text=True, timeout=60,
                       env={**{k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")},
                            "ROLESTACK_ENDPOINT": server.base_url, "ALIBABA_CLOUD_ACCESS_KEY_ID": ak,
                            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": sk})
    assert p.returncode != 0 and "NoPermission" in p.stderr


def metric(families, name, **labels):
    for fam in families:
        for s in fam.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def scrape(server):
    r = requests.get(f"{server.base_url}/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return list(text_string_to_metric_families(r.text))


def test_made_up_actions_do_not_grow_metrics(server):
    """An anonymous request naming an action no catalogue has is counted under `-`: the caller's
    text never becomes a label (each made-up name would add a series to /metrics for good)."""
    before = scrape(server)
    made_up = [f"NoSuchAction{i}{'x' * 2000}" for i in range(20)]
    for action in made_up:
        r = requests.get(server.base_url + "/", params={"Version": "2015-05-01", "Format": "JSON", "Action": action}, timeout=10)
        assert r.status_code == 404 and r.json()["Code"] == "InvalidApi.NotFound"
    text = requests.get(f"{server.base_url}/metrics", timeout=10).text
    assert "NoSuchAction" not in text
    after = list(text_string_to_metric_families(text))
    key = dict(product="ram", action="-", status="404")
    assert metric(after, "rolestack_requests_total", **key) >= metric(before, "rolestack_requests_total", **key) + len(made_up)


def test_metrics_move(server, root_api, ram_user):
    before = scrape(server)
    root_api.call("ListRoles")
    _, ak, sk = ram_user()
    h.expect_error(lambda: h.RpcApi("v3", server.endpoint, ak, sk).call("ListRoles"), code="NoPermission")
    after = scrape(server)
    key = dict(product="ram", action="ListRoles", status="200")
    assert metric(after, "rolestack_requests_total", **key) >= metric(before, "rolestack_requests_total", **key) + 1
    assert metric(after, "rolestack_requests_total", product="ram", action="ListRoles", status="403") >= 1
    assert metric(after, "rolestack_authorization_total", result="implicit_deny") > metric(before, "rolestack_authorization_total", result="implicit_deny")
    assert metric(after, "rolestack_request_duration_seconds_count", product="ram") > 0
    names = {f.name for f in after}
    assert {"rolestack_requests", "rolestack_authorization", "rolestack_request_duration_seconds"} <= names


def test_json_logs_and_port_in_use(server, tmp_path):
    log = tmp_path / "json.log"
    port = h.free_port()
    with open(log, "wb") as out:
        p = subprocess.Popen([str(server.binary), "serve", "--data-dir", str(tmp_path / "d"), "--listen", f"127.0.0.1:{port}",
                              "--tls-listen", "127.0.0.1:0", "--log-format", "json"], stdout=out, stderr=out)
        try:
            for _ in range(100):
                try:
                    if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.1)
            busy = subprocess.run([str(server.binary), "serve", "--data-dir", str(tmp_path / "other"), "--listen", f"127.0.0.1:{port}"],
                                  capture_output=True, text=True, timeout=30, env={**os.environ, "RUST_BACKTRACE": "1"})
        finally:
            p.terminate()
            p.wait(timeout=15)
    assert busy.returncode == 1
    assert busy.stderr.strip().count("\n") == 0 and "Address already in use" in busy.stderr, busy.stderr
    assert not (tmp_path / "other").exists(), "nothing is created before the listener is bound"
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(json.loads(line)["fields"].get("message") == "rolestack serving" for line in lines), lines[:5]
    assert "\x1b[" not in log.read_text(), "no ANSI colours when stderr is not a terminal"


def test_a_scrape_right_at_start_gets_every_request(server, tmp_path):
    """The Prometheus recorder is built beside the server's start (its clock calibrates first):
    what is served before it is there is counted all the same, and a scrape that comes that
    early waits for it instead of getting another answer."""
    port = h.free_port()
    p = subprocess.Popen([str(server.binary), "serve", "--data-dir", str(tmp_path / "d"), "--listen", f"127.0.0.1:{port}",
                          "--tls-listen", "127.0.0.1:0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        probes = 0
        while True:
            try:
                probes += 1
                r = requests.post(f"http://127.0.0.1:{port}/?Action=GetCallerIdentity&Version=2015-04-01", timeout=1)
                break
            except requests.RequestException:
                assert p.poll() is None and probes < 3000
                time.sleep(0.002)
        assert r.status_code == 400  # unsigned: refused, and counted
        families = list(text_string_to_metric_families(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text))
        assert metric(families, "rolestack_requests_total", product="sts", action="GetCallerIdentity", status="400") == 1
    finally:
        p.terminate()
        p.wait(10)
