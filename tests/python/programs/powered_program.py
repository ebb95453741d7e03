"""Runs "inside" an instance until the instance powers off (test_stopped_instances.py).

Starts a daemon of its own (a child in a new session, as a service would be) and prints one JSON
line with both pids. Then, for each line "read" on stdin, reads the instance's credentials with
a new alibabacloud-credentials `ecs_ram_role` provider (so each read reaches the metadata
service) and prints their AccessKeyId.

On SIGTERM (a normal StopInstance / RebootInstance) it reads the metadata service once more,
prints what happened ({"after_term": "answered" | "<error>"}) and exits 0. With --ignore-term it
ignores SIGTERM, so only a kill ends it."""

import json
import os
import signal
import subprocess
import sys
import urllib.request


def metadata_outcome():
    try:
        urllib.request.urlopen("http://100.100.100.200/latest/meta-data/instance-id", timeout=3).read()
        return "answered"
    except Exception as e:  # the point is which error: ConnectionRefusedError for a powered-off instance
        reason = getattr(e, "reason", e)
        return type(reason).__name__


def on_term(_signum, _frame):
    print(json.dumps({"after_term": metadata_outcome()}), flush=True)
    os._exit(0)


def main():
    from alibabacloud_credentials.client import Client
    from alibabacloud_credentials.models import Config

    signal.signal(signal.SIGTERM, signal.SIG_IGN if "--ignore-term" in sys.argv else on_term)
    daemon = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    print(json.dumps({"pid": os.getpid(), "daemon": daemon.pid}), flush=True)
    for line in sys.stdin:
        if line.strip() == "read":
            c = Client(Config(type="ecs_ram_role")).get_credential()
            print(json.dumps({"AccessKeyId": c.access_key_id}), flush=True)


if __name__ == "__main__":
    main()
