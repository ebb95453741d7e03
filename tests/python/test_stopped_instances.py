"""Stopped instances run nothing, as on ECS (docs/instances.md "Stopping an instance"):
`rolestack instance exec` (and PrepareInstanceEnvironment under it) refuses an instance that is
not Running and says how to start it; StopInstance, RebootInstance and a forced DeleteInstance end
the programs running inside (SIGTERM, or at once with ForceStop / Force), daemons of their own
included, and nothing of the host; a stopped instance's metadata service answers nothing; after
StartInstance a program reads credentials again with the official `ecs_ram_role` provider, with
the same rules as before (the set issued before the stop until its rotation is due by the clock).

One server per module, started with --fake-clock."""

import json
import os
import queue
import subprocess
import sys
import threading
import time

import pytest
import requests

import rshelpers as h
from instancekit import (ECS, PROGRAMS, REGION, cli, environment, exec_in, needs_root, root_apis, seed_role, started_server,
                         vpc_instance)

PROGRAM = PROGRAMS / "powered_program.py"
READ_ONCE = ("from alibabacloud_credentials.client import Client; from alibabacloud_credentials.models import Config; "
             "print(Client(Config(type='ecs_ram_role')).get_credential().access_key_id)")


@pytest.fixture(scope="module")
def fc(tmp_path_factory):
    yield from started_server(tmp_path_factory, "stopped", "--fake-clock")


@pytest.fixture(scope="module")
def apis(fc):
    return root_apis(fc, ram=(h.RAM_VERSION, "Ram"), ecs=(ECS, "Ecs"), rs=("2026-11-01", "Rolestack"))


def status(apis, iid):
    return apis["ecs"].call("DescribeInstances", {"RegionId": REGION, "InstanceIds": json.dumps([iid])})["Instances"]["Instance"][0]["Status"]


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


STARTED = []  # the programs (and their daemons) the tests started, ended after each test whatever happened


@pytest.fixture(autouse=True)
def end_leftovers():
    yield
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

    def __init__(self, fc, iid, *flags):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
        env.update({"ROLESTACK_ENDPOINT": fc.base_url, "ROLESTACK_DATA_DIR": str(fc.data_dir)})
        self.p = subprocess.Popen([str(fc.binary), "instance", "exec", iid, "--", sys.executable, str(PROGRAM), *flags],
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


def test_stopped_instance_refuses_exec_until_started(fc, apis):
    role = seed_role(apis)
    iid = apis["ecs"].call("CreateInstance", {"RegionId": REGION, "ImageId": "centos_7_03_64_40G_alibase_20170503.vhd",
                                              "InstanceType": "ecs.xn4.small", "RamRoleName": role,
                                              "VSwitchId": h.ecs_network(apis["ecs"], "10.71.0.0/16", "10.71.1.0/24")[1]})["InstanceId"]
    assert status(apis, iid) == "Stopped"  # CreateInstance leaves it Stopped, as ECS does
    for proxy in (False, True):
        p = exec_in(fc, iid, sys.executable, "-c", "print('ran')", proxy=proxy)
        assert p.returncode != 0 and "ran" not in p.stdout
        for part in (iid, "is Stopped", "IncorrectInstanceStatus", "StartInstance", f"rolestack instance start {iid}"):
            assert part in p.stderr, p.stderr
    h.expect_error(lambda: apis["rs"].call("PrepareInstanceEnvironment", {"InstanceId": iid}),
                   code="IncorrectInstanceStatus", status=403, message_contains=iid)
    p = cli(fc, "instance", "start", iid)
    assert p.returncode == 0, p.stderr
    assert status(apis, iid) == "Running"
    p = exec_in(fc, iid, sys.executable, "-c", READ_ONCE, proxy=os.geteuid() != 0)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().startswith("STS.")
    # Stopped again: refused again, and the CLI's stop is StopInstance.
    p = cli(fc, "instance", "stop", iid)
    assert p.returncode == 0, p.stderr
    assert status(apis, iid) == "Stopped"
    assert exec_in(fc, iid, "true").returncode != 0


@needs_root
def test_stop_ends_programs_and_start_brings_credentials_back(fc, apis):
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    proxy = environment(fc, iid)["Proxy"]
    host = subprocess.Popen(["sleep", "600"])  # a program of the host: no stop may touch it
    try:
        prog = Inside(fc, iid)
        first = prog.read()
        assert first.startswith("STS.")
        # StopInstance (normal): the program is asked to end, and by then its metadata service
        # answers nothing: the connection is refused, as nothing listens in the instance any more.
        p = cli(fc, "instance", "stop", iid)
        assert p.returncode == 0, p.stderr
        assert prog.line() == {"after_term": "ConnectionRefusedError"}
        assert prog.ended() == 0
        wait_for(lambda: gone(prog.daemon), "the program's own daemon to end")
        assert host.poll() is None, "a host process was ended"
        assert status(apis, iid) == "Stopped"
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://{proxy}/latest/meta-data/instance-id", timeout=5)
        assert exec_in(fc, iid, "true").returncode != 0

        # StartInstance: programs run again, and read the set issued before the stop (still current).
        apis["ecs"].call("StartInstance", {"InstanceId": iid})
        prog = Inside(fc, iid, "--ignore-term")
        assert prog.read() == first
        # ForceStop pulls the power: a program that ignores SIGTERM is killed at once.
        apis["ecs"].call("StopInstance", {"InstanceId": iid, "ForceStop": "true"})
        assert prog.ended() == -9
        wait_for(lambda: gone(prog.daemon), "the program's own daemon to end")
        assert host.poll() is None, "a host process was ended"

        # Rotation follows the clock while the instance is stopped: started 5h40m later, the
        # first read issues a new set, as it would have on a running instance.
        assert cli(fc, "clock", "advance", "5h40m").returncode == 0
        apis["ecs"].call("StartInstance", {"InstanceId": iid})
        p = exec_in(fc, iid, sys.executable, "-c", READ_ONCE)
        assert p.returncode == 0, p.stderr
        second = p.stdout.strip()
        assert second.startswith("STS.") and second != first
        assert status(apis, iid) == "Running"
    finally:
        host.kill()
        host.wait()


@needs_root
def test_reboot_and_forced_delete_end_programs(fc, apis):
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    prog = Inside(fc, iid)
    assert prog.read().startswith("STS.")
    # RebootInstance ends what runs (as a stop does) and the instance stays Running: a new
    # program runs at once.
    apis["ecs"].call("RebootInstance", {"InstanceId": iid})
    assert prog.line() == {"after_term": "ConnectionRefusedError"}
    assert prog.ended() == 0
    assert status(apis, iid) == "Running"
    prog = Inside(fc, iid, "--ignore-term")
    assert prog.read().startswith("STS.")
    # Deleting a running instance with Force kills what runs in it.
    apis["ecs"].call("DeleteInstance", {"InstanceId": iid, "Force": "true"})
    assert prog.ended() == -9
    wait_for(lambda: gone(prog.daemon), "the program's own daemon to end")
