"""The OSS load client of benches/run.sh (section oss): the same keep-alive HTTP client drives
rolestack (presigned oss2 V1 URLs) and nginx (plain URLs: GET from --nginx-files served under
/files/, PUT to WebDAV under /dav/), and prints MiB/s per phase and the ratios (--json: also as JSON).
With --pids, also each server's CPU (user + system, all its processes) and this client's per MiB
moved: on a shared 2-core machine MiB/s moves with whatever else runs, CPU per MiB hardly does.
Phases: PUT (new objects), GET, then REPUT: the same PUTs again, each replacing the object the
first phase stored (rolestack writes the new body over the removed one's file, a spare, where
new objects need new blocks; nginx replaces its files).
Before each timed phase the client runs sync(2): nginx's PUT leaves its bodies to the kernel's
writeback, which would otherwise write them while the next phase is measured (rolestack's fsyncs
waited behind them). The GET phase fetches every object --get-passes times: one pass over 200 MiB
from the page cache lasts well under 0.1 s, too short to time.
With --versus (benches/oss_blob_store.sh) the reference is a second rolestack server instead of
nginx, e.g. one whose bodies are in an object store, against one keeping them on local disk."""

import argparse
import http.client
import json
import os
import threading
import time
from urllib.parse import urlsplit

import oss2

from suite import cpu_seconds, process_tree, run_threads


def run(host, urls, method, body, concurrency):
    """Sends one request per URL over `concurrency` keep-alive connections; returns seconds."""
    lock = threading.Lock()
    queue = list(urls)
    errors = []

    def worker():
        conn = http.client.HTTPConnection(host, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                url = queue.pop()
            parts = urlsplit(url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            conn.request(method, path, body=body, headers={"Content-Length": str(len(body))} if body is not None else {})
            resp = conn.getresponse()
            data = resp.read()
            if resp.status not in (200, 201, 204) or (method == "GET" and len(data) != args.size):
                errors.append(f"{method} {url}: {resp.status} {data[:200]!r}")
        conn.close()

    elapsed = run_threads(worker, concurrency)
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, first: {errors[0]}")
    return elapsed


p = argparse.ArgumentParser()
p.add_argument("--rolestack", required=True)
p.add_argument("--credentials", required=True)
p.add_argument("--nginx", help="nginx's address (the reference), with --nginx-files")
p.add_argument("--nginx-files")
p.add_argument("--versus", help="a second rolestack's address (the reference instead of nginx)")
p.add_argument("--versus-credentials", help="its credentials.json")
p.add_argument("--bucket", default="bench", help="the bucket made on each rolestack")
p.add_argument("--names", default="rolestack,nginx", help="what to call the two servers in the output")
p.add_argument("--requests", type=int, default=200)
p.add_argument("--concurrency", type=int, default=4)
p.add_argument("--size", type=int, default=1 << 20)
p.add_argument("--get-passes", type=int, default=5, help="how many times the GET phase fetches each object")
p.add_argument("--pids", help="the servers' process ids, in --names order: 'PID;PID' (each with its child processes)")
p.add_argument("--json", help="write {server: {GET: MiB/s, PUT: MiB/s, REPUT: MiB/s, cpu: {GET: {server, client}, PUT: ...}}} here "
               "(CPU in ms per MiB)")
args = p.parse_args()

if (args.nginx is None) == (args.versus is None) or (args.nginx and not args.nginx_files) or (args.versus and not args.versus_credentials):
    p.error("give either --nginx with --nginx-files, or --versus with --versus-credentials")
payload = os.urandom(args.size)
n, c = args.requests, args.concurrency
keys = [f"obj-{i:05d}" for i in range(n)]
mib = n * args.size / (1 << 20)
mib_of = {"PUT": mib, "GET": mib * args.get_passes, "REPUT": mib}


def rolestack_urls(host, credentials):
    """PUT and GET URLs (presigned) of `keys` in a new bucket of the rolestack at `host`."""
    creds = json.load(open(credentials))
    bucket = oss2.Bucket(oss2.Auth(creds["AccessKeyId"], creds["AccessKeySecret"]), f"http://{host}", args.bucket)
    bucket.create_bucket()
    return [bucket.sign_url("PUT", k, 3600) for k in keys], [bucket.sign_url("GET", k, 3600) for k in keys]


servers = [(args.rolestack, *rolestack_urls(args.rolestack, args.credentials))]
if args.versus:
    servers.append((args.versus, *rolestack_urls(args.versus, args.versus_credentials)))
else:
    for k in keys:  # nginx serves the same files
        with open(os.path.join(args.nginx_files, k), "wb") as f:
            f.write(payload)
    servers.append((args.nginx, [f"http://{args.nginx}/dav/{k}" for k in keys], [f"http://{args.nginx}/files/{k}" for k in keys]))
names = args.names.split(",")
pids = [int(p) for p in args.pids.split(";")] if args.pids else [None for _ in names]

results, cpu = {}, {}
for op, body in (("PUT", payload), ("GET", None), ("REPUT", payload)):
    method = "GET" if op == "GET" else "PUT"
    for name, pid, (host, put_urls, get_urls) in zip(names, pids, servers):
        urls = put_urls if method == "PUT" else get_urls * args.get_passes
        run(host, urls[: min(20, n)], method, body, c)  # warm-up
        os.sync()  # what an earlier phase left to writeback is written now, not while this one is timed
        server_pids = process_tree(pid) if pid else []  # nginx: its master and workers
        server0, client0 = cpu_seconds(server_pids), time.process_time()
        results[(name, op)] = run(host, urls, method, body, c)
        if server_pids:
            cpu[(name, op)] = {"server": (cpu_seconds(server_pids) - server0) * 1000 / mib_of[op],
                               "client": (time.process_time() - client0) * 1000 / mib_of[op]}

print(f"{n} x {args.size} B objects (GET: {args.get_passes} passes), {c} connections, one client for both servers")
for op in ["GET", "PUT", "REPUT"]:
    a, b = (mib_of[op] / results[(name, op)] for name in names)
    print(f"{op}: {names[0]} {a:8.1f} MiB/s   {names[1]} {b:8.1f} MiB/s   ratio {names[0]}/{names[1]} = {a / b:.2f}")
    if cpu:
        print("     CPU ms per MiB: " + "   ".join(f"{name} {cpu[(name, op)]['server']:.2f} (client {cpu[(name, op)]['client']:.2f})"
                                                   for name in names))
if args.json:
    with open(args.json, "w") as f:
        json.dump({s: {**{op: mib_of[op] / results[(s, op)] for op in mib_of},
                       "cpu": {op: cpu.get((s, op)) for op in mib_of}} for s in names}, f)
