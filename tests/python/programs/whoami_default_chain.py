"""Runs "inside" an instance: the default credential chain of alibabacloud-credentials (which
reaches the ECS RAM role provider at 100.100.100.200, unmodified) feeds a tea STS client that calls
GetCallerIdentity at $ROLESTACK_ENDPOINT. Prints one JSON line.

With --loop it keeps one credential client alive and, for each line read on stdin
("advance <seconds>"), moves this process's clock by that much (time-machine) and calls again —
the same program across a rotation, without a restart. `--offset N` starts its clock N seconds
ahead, where the server's clock already is."""

import json
import os
import sys

from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.models import Config


def main():
    endpoint = os.environ["ROLESTACK_ENDPOINT"].removeprefix("http://")
    creds = CredentialClient()
    sts = StsClient(Config(credential=creds, endpoint=endpoint, protocol="http"))

    def once():
        c = creds.get_credential()
        who = sts.get_caller_identity().body
        print(json.dumps({"AccessKeyId": c.access_key_id, "Arn": who.arn, "IdentityType": who.identity_type,
                          "PrincipalId": who.principal_id}), flush=True)

    if "--loop" not in sys.argv:
        once()
        return
    import time

    import time_machine
    traveller = None

    def travel(seconds):
        nonlocal traveller
        if traveller is not None:
            traveller.stop()
        traveller = time_machine.travel(time.time() + seconds, tick=True)
        traveller.start()

    shift = float(sys.argv[sys.argv.index("--offset") + 1]) if "--offset" in sys.argv else 0.0
    if shift:
        travel(shift)
    once()
    for line in sys.stdin:
        cmd = line.split()
        if cmd and cmd[0] == "advance":
            shift += float(cmd[1])
            travel(shift)
        once()


if __name__ == "__main__":
    main()
