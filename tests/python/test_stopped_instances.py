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
import subprocess
import sys

import pytest
import requests

import rshelpers as h
from instancekit import (ECS, READ_ONCE, REGION, Inside, cli, end_programs, environment, exec_in, gone, needs_root, root_apis,
                         seed_role, started_server, vpc_instance, wait_for)


@pytest.fixture(scope="module")
def fc(tmp_path_factory):
    yield from started_server(tmp_path_factory, "stopped", "--fake-clock")


@pytest.fixture(scope="module")
def apis(fc):
    return root_apis(fc, ram=(h.RAM_VERSION, "Ram"), ecs=(ECS, "Ecs"), rs=("2026-11-01", "Rolestack"))


def status(apis, iid):
    return apis["ecs"].call("DescribeInstances", {"RegionId": REGION, "InstanceIds": json.dumps([iid])})["Instances"]["Instance"][0]["Status"]


@pytest.fixture(autouse=True)
def end_leftovers():
    yield
    end_programs()


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
    # the credentials its metadata service would serve are refused the same way (it serves nothing)
    h.expect_error(lambda: apis["rs"].call("DescribeInstanceCredentials", {"InstanceId": iid}),
                   code="IncorrectInstanceStatus", status=403, message_contains=iid)
    p = cli(fc, "instance", "credentials", iid)
    assert p.returncode != 0 and "IncorrectInstanceStatus" in p.stderr, p.stdout + p.stderr
    p = cli(fc, "instance", "start", iid)
    assert p.returncode == 0, p.stderr
    assert status(apis, iid) == "Running"
    assert apis["rs"].call("DescribeInstanceCredentials", {"InstanceId": iid})["RoleName"] == role
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


def test_stop_ends_programs_run_through_the_proxy(fc, apis):
    """The unprivileged way: the program runs on the host, under `instance exec`, which ends it
    (and what it started) when the instance's proxy goes away."""
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    host = subprocess.Popen(["sleep", "600"])
    try:
        prog = Inside(fc, iid, proxy=True)
        first = prog.read()
        assert first.startswith("STS.")
        apis["ecs"].call("StopInstance", {"InstanceId": iid})
        assert prog.line() == {"after_term": "ConnectionRefusedError"}
        assert prog.ended() == 0
        wait_for(lambda: gone(prog.daemon), "the program's own daemon to end")
        assert host.poll() is None, "a host process was ended"
        apis["ecs"].call("StartInstance", {"InstanceId": iid})
        p = exec_in(fc, iid, sys.executable, "-c", READ_ONCE, proxy=True)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == first
    finally:
        host.kill()
        host.wait()
