"""The OSS load client of benches/run.sh (section oss): the same keep-alive HTTP client drives
rolestack (presigned oss2 V1 URLs) and nginx (plain URLs: GET from --nginx-files served under
/files/, PUT to WebDAV under /dav/), and prints MiB/s per phase and the ratios (--json: also as JSON)."""

import argparse
import http.client
import json
import os
import threading
import time
from urllib.parse import urlsplit

import oss2


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

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, first: {errors[0]}")
    return elapsed


p = argparse.ArgumentParser()
p.add_argument("--rolestack", required=True)
p.add_argument("--credentials", required=True)
p.add_argument("--nginx", required=True)
p.add_argument("--nginx-files", required=True)
p.add_argument("--requests", type=int, default=200)
p.add_argument("--concurrency", type=int, default=4)
p.add_argument("--size", type=int, default=1 << 20)
p.add_argument("--json", help="write {server: {GET: MiB/s, PUT: MiB/s}} here")
args = p.parse_args()

creds = json.load(open(args.credentials))
bucket = oss2.Bucket(oss2.Auth(creds["AccessKeyId"], creds["AccessKeySecret"]), f"http://{args.rolestack}", "bench")
bucket.create_bucket()
payload = os.urandom(args.size)
n, c = args.requests, args.concurrency
keys = [f"obj-{i:05d}" for i in range(n)]
for k in keys:  # nginx serves the same files
    with open(os.path.join(args.nginx_files, k), "wb") as f:
        f.write(payload)
mib = n * args.size / (1 << 20)

results = {}
put_urls = [bucket.sign_url("PUT", k, 3600) for k in keys]
run(args.rolestack, put_urls[: min(20, n)], "PUT", payload, c)  # warm-up
results[("rolestack", "PUT")] = run(args.rolestack, put_urls, "PUT", payload, c)
run(args.nginx, [f"http://{args.nginx}/dav/{k}" for k in keys[: min(20, n)]], "PUT", payload, c)
results[("nginx", "PUT")] = run(args.nginx, [f"http://{args.nginx}/dav/{k}" for k in keys], "PUT", payload, c)
get_urls = [bucket.sign_url("GET", k, 3600) for k in keys]
run(args.rolestack, get_urls[: min(20, n)], "GET", None, c)
results[("rolestack", "GET")] = run(args.rolestack, get_urls, "GET", None, c)
run(args.nginx, [f"http://{args.nginx}/files/{k}" for k in keys[: min(20, n)]], "GET", None, c)
results[("nginx", "GET")] = run(args.nginx, [f"http://{args.nginx}/files/{k}" for k in keys], "GET", None, c)

print(f"{n} x {args.size} B objects, {c} connections, one client for both servers")
for op in ["GET", "PUT"]:
    rs = mib / results[("rolestack", op)]
    ng = mib / results[("nginx", op)]
    print(f"{op}: rolestack {rs:8.1f} MiB/s   nginx {ng:8.1f} MiB/s   ratio rolestack/nginx = {rs / ng:.2f}")
if args.json:
    with open(args.json, "w") as f:
        json.dump({s: {op: mib / results[(s, op)] for op in ("GET", "PUT")} for s in ("rolestack", "nginx")}, f)
