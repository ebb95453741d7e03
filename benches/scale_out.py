"""Signed-RPC throughput of one node on SQLite, one node on PostgreSQL and N nodes on one
PostgreSQL (docs/scale-out.md). Each request is pre-signed with its own SignatureNonce and sent
exactly once (benches/wrk_list.lua); with several nodes, one wrk per node runs at the same time on
its share of the list and the rates add up. Prints one Markdown row per setup.

    ROLESTACK_TEST_POSTGRES_URL=postgres://… [ROLESTACK_TEST_PG_DATA=<its data dir>] \
      python3 benches/scale_out.py [--count 20000] [--nodes 2]

With ROLESTACK_TEST_PG_DATA (scripts/postgres.sh's `$RS_PG_DIR/data`) it also reports the CPU the
database spent per request (postmaster and backends, from /proc), next to the nodes' own: the
figure that says how many nodes one database core carries. Not a test: it only reports.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "python"))
import gen_requests  # noqa: E402
import rshelpers as h  # noqa: E402


def requests_for(ak, secret, action, version, count):
    signer = gen_requests.V1Signer(ak, secret, action, version)
    return [f"POST\t{signer.path(uuid.uuid4().hex)}\t" for _ in range(count)]


def run_wrk(endpoint, lines, work, tag, connections):
    listing = work / f"{tag}.tsv"
    listing.write_text("\n".join(lines) + "\n")
    out = work / f"{tag}.json"
    env = dict(os.environ, WRK_LIST=str(listing), WRK_THREADS="1", WRK_JSON_OUT=str(out))
    proc = subprocess.Popen(["wrk", "-t1", f"-c{connections}", "-d120s", "-s", str(HERE / "wrk_list.lua"),
                             f"http://{endpoint}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, out


def cpu_seconds(pids):
    """utime + stime of these processes (and, for PostgreSQL's postmaster, its backends)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def postgres_pids():
    """The postmaster of the test PostgreSQL (RS_PG_DATA or ROLESTACK_TEST_PG_DATA) and its children."""
    data = os.environ.get("ROLESTACK_TEST_PG_DATA")
    if not data:
        return []
    master = int(Path(data, "postmaster.pid").read_text().split()[0])
    pids = [master]
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                    pids.append(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    return pids


def measure(nodes, creds, count, work, tag, action, version):
    share = count // len(nodes)
    runs = []
    for i, node in enumerate(nodes):
        lines = requests_for(creds["AccessKeyId"], creds["AccessKeySecret"], action, version, share)
        runs.append(run_wrk(node.endpoint, lines, work, f"{tag}-{i}", max(2, 16 // len(nodes))))
    total, errors = 0.0, 0
    for proc, out in runs:
        proc.wait(timeout=300)
        report = json.loads(out.read_text())
        total += report["req_per_s_list"]
        errors += report["errors"]["status"] or 0
    return total, errors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--nodes", type=int, default=2)
    p.add_argument("--action", default="GetCallerIdentity")
    args = p.parse_args()
    pg = os.environ["ROLESTACK_TEST_POSTGRES_URL"]
    version = gen_requests.STS_VERSION if args.action == "GetCallerIdentity" else gen_requests.RAM_VERSION
    work = Path(tempfile.mkdtemp(prefix="rolestack-scale-"))
    key = work / "server.key"
    key.write_bytes(os.urandom(32))
    os.chmod(key, 0o600)
    rows = []

    def start(name, database_url=None, extra=()):
        srv = h.RolestackServer(work / name / "data", work / name / "server.log", database_url=database_url,
                                extra_args=["--key-file", str(key), *extra])
        return srv.start()

    setups = [("1 node, SQLite", None, 1), ("1 node, PostgreSQL", "pg", 1),
              (f"{args.nodes} nodes, one PostgreSQL", "pg", args.nodes)]
    for label, store, n in setups:
        url = h.create_test_database(pg) if store else None
        nodes = []
        try:
            for i in range(n):
                blobs = work / ("blobs-" + label.replace(" ", "_").replace(",", ""))
                extra = ["--node-name", f"n{i}", "--blob-url", f"file://{blobs}"] if url else []
                nodes.append(start(f"{label}-{i}".replace(" ", "_").replace(",", ""), url, extra))
            creds = nodes[0].root
            measure(nodes, creds, min(2000, args.count), work, "warm", args.action, version)
            node_pids = [srv.proc.pid for srv in nodes]
            pg_pids = postgres_pids() if url else []
            node_cpu, pg_cpu = cpu_seconds(node_pids), cpu_seconds(pg_pids)
            rate, errors = measure(nodes, creds, args.count, work, label.replace(" ", "_").replace(",", ""),
                                   args.action, version)
            # Backends of this run's connections are children of the postmaster; count them now too.
            pg_after = cpu_seconds(postgres_pids()) if url else 0.0
            node_ms = (cpu_seconds(node_pids) - node_cpu) * 1000 / args.count
            pg_ms = (pg_after - pg_cpu) * 1000 / args.count if url else 0.0
            rows.append((label, rate, errors, node_ms, pg_ms))
        finally:
            for srv in nodes:
                srv.stop()
    print(f"| setup | {args.action} req/s | non-2xx | node CPU ms/req (all nodes) | PostgreSQL CPU ms/req |")
    print("|---|---|---|---|---|")
    for label, rate, errors, node_ms, pg_ms in rows:
        pg = f"{pg_ms:.2f}" if pg_ms else "—"
        print(f"| {label} | {rate:,.0f} | {errors} | {node_ms:.2f} | {pg} |")


if __name__ == "__main__":
    main()
