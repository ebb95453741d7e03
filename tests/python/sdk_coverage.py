"""Counts the actions of the official SDKs against what a rolestack server serves.

The action lists come from the installed official SDK packages themselves: every `action = '...'`
in the generated `Client` class of alibabacloud_ram20150501, alibabacloud_sts20150401 and
alibabacloud_ims20190815. Whether rolestack serves an action is measured on the wire: each action
is sent with a deliberately wrong signature — the gateway answers `InvalidApi.NotFound` for an
action it does not have before it looks at the signature, and `SignatureDoesNotMatch` (or, for
the anonymous STS actions, the action's own parameter error) for one it has — so nothing runs.

    python tests/python/sdk_coverage.py            # starts a throwaway server from target/debug
    python tests/python/sdk_coverage.py --json     # the same, as JSON
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import rshelpers as h  # noqa: E402

SDKS = [
    ("RAM", "alibabacloud_ram20150501", h.RAM_VERSION),
    ("STS", "alibabacloud_sts20150401", h.STS_VERSION),
    ("IMS", "alibabacloud_ims20190815", "2019-08-15"),
]
# Served by the lead's diagnostics work (issue 12), not by issue 18.
ELSEWHERE = {"DecodeDiagnosticMessage": "diagnostics (issue 12)"}


def sdk_actions(module: str) -> list:
    client = importlib.import_module(f"{module}.client").Client
    return sorted(set(re.findall(r"action\s*=\s*'(\w+)'", inspect.getsource(client))))


def served(endpoint: str, ak: str, version: str, action: str) -> bool:
    r = h.raw_v1(endpoint, ak, "not-the-secret", action, version)
    return r.json().get("Code") != "InvalidApi.NotFound"


def coverage(endpoint: str, ak: str) -> dict:
    out = {}
    for product, module, version in SDKS:
        actions = sdk_actions(module)
        missing = [a for a in actions if not served(endpoint, ak, version, a)]
        out[product] = {"sdk": module, "actions": len(actions), "served": len(actions) - len(missing), "missing": missing}
    return out


def report(cov: dict) -> str:
    lines = []
    for product, c in cov.items():
        line = f"{product}: {c['served']}/{c['actions']} actions of {c['sdk']} served"
        if c["missing"]:
            shown = [f"{a} ({ELSEWHERE[a]})" if a in ELSEWHERE else a for a in c["missing"]]
            line += f"; missing {len(shown)}: " + ", ".join(shown[:12]) + (" ..." if len(shown) > 12 else "")
        lines.append(line)
    return "\n".join(lines)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="rolestack-coverage-") as d:
        srv = h.RolestackServer(Path(d) / "data", Path(d) / "server.log").start()
        try:
            cov = coverage(srv.endpoint, srv.root["AccessKeyId"])
        finally:
            srv.stop()
    print(json.dumps(cov, indent=2) if "--json" in sys.argv else report(cov))
    return 0


if __name__ == "__main__":
    sys.exit(main())
