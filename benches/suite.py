"""rolestack's benchmark suite (issue 13), run by benches/run.sh — read its header for the sections,
the environment variables and the output files. Every figure is printed next to a reference run in
the same go, as a ratio. Only loopback addresses are used; every phase is bounded in time and count.
Never a test: nothing here passes or fails on a number."""

import argparse
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import gen_requests  # noqa: E402

SECTIONS = ["startup", "rpc", "metadata", "oss", "list", "policy"]
QUICK = {  # --quick: a smoke run of every section in about two minutes (figures are not meaningful)
    "RPC_DURATION": "2", "RPC_WARMUP": "1", "METADATA_DURATION": "2", "OSS_REQUESTS": "20",
    "STARTUP_RUNS": "2", "LIST_OBJECTS": "3000", "LIST_LOAD_TIMEOUT": "120", "ROUNDS": "2",
    "OSS_ROUNDS": "2",
}


def env(name, default, typ=str):
    v = os.environ.get(name)
    return typ(v) if v not in (None, "") else typ(default)


def log(msg=""):
    print(msg, flush=True)


def loud(msg):
    bar = "!" * 78
    print(f"\n{bar}\n!!! {msg}\n{bar}\n", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_threads(worker, concurrency):
    """Runs `worker` on `concurrency` threads at once; returns the seconds until the last ended."""
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def durable_write_rate(directory, count, concurrency, size):
    """MiB/s of `count` bodies of `size` bytes made durable as rolestack's blob store does (temp file,
    fsync, rename, directory fsync) by `concurrency` threads, without HTTP, checksums or an index: the
    ceiling of a durable PUT on this disk."""
    from concurrent.futures import ThreadPoolExecutor
    directory.mkdir(parents=True, exist_ok=True)
    body = os.urandom(size)

    def one(i):
        tmp, final = directory / f"{i}.tmp", directory / f"{i}"
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        try:
            view = memoryview(body)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, final)
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(count)))
    elapsed = time.perf_counter() - start
    shutil.rmtree(directory, ignore_errors=True)
    return count * size / elapsed / (1 << 20)


# "RSS after load" is read once the load has stopped for this long, for rolestack and moto_server alike:
# what a server keeps, not the buffers of requests still draining (rolestack returns freed memory to
# the system one quiet second after a burst, see ARCHITECTURE.md "Performance without giving up durability").
RSS_SETTLE_S = 2.5


def rss_mib(pid, field="VmRSS"):
    """A memory figure of /proc/<pid>/status in MiB: VmRSS, or its parts RssAnon (heap, stacks),
    RssFile (the binary's and libraries' pages, mapped files)."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """User + system CPU seconds of these processes (all their threads), from /proc/<pid>/stat."""
    total = 0.0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        except (OSError, IndexError, ValueError):
            pass
    return total


def process_tree(pid):
    """pid and its descendants (nginx: master and workers)."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def http_get(host, port, path, timeout=10, headers=None):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def wait_ok(port, path="/health", timeout=30, server=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server and server.proc.poll() is not None:
            raise SystemExit(f"{server.name} exited with {server.proc.returncode}: see {server.log_path}")
        try:
            if 200 <= http_get("127.0.0.1", port, path, timeout=2)[0] < 300:
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"nothing answered 200 on 127.0.0.1:{port}{path} within {timeout} s")


def median(xs):
    return statistics.median(xs) if xs else None


def median_round(rounds, ratio):
    """The round whose ratio (`ratio(round)`) is the median of all rounds' (the lower middle one of
    an even number), and every round's ratio in run order, for the notes."""
    ratios = [ratio(r) for r in rounds]
    order = sorted(range(len(rounds)), key=lambda i: ratios[i])
    return rounds[order[(len(order) - 1) // 2]], ratios


def rounds_note(ratios):
    return (f"median of {len(ratios)} alternated rounds (ratios in run order: "
            f"{', '.join(fmt_ratio(r) for r in ratios)})") if len(ratios) > 1 else "one round"


def percentile(xs, p):
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


# -- results ------------------------------------------------------------------------------------------

class Results:
    """Rows of the performance table; written to OUT/results.json and OUT/results.md after each one."""

    def __init__(self, out: Path, meta: dict):
        self.out, self.meta, self.rows = out, meta, []

    def add(self, key, benchmark, rolestack, unit, reference_name, reference, better, goal=None, goal_fn=None,
            notes=None, extra=None):
        ratio = (rolestack / reference) if (rolestack is not None and reference) else None
        met = goal_fn(rolestack, ratio) if (goal_fn and rolestack is not None) else None
        row = dict(key=key, benchmark=benchmark, rolestack=rolestack, unit=unit, reference_name=reference_name,
                   reference=reference, ratio=ratio, better=better, goal=goal, goal_met=met, notes=notes,
                   extra=extra or {})
        self.rows = [r for r in self.rows if r["key"] != key] + [row]
        ref = f" | {reference_name} {fmt(reference, unit)} | ratio {fmt_ratio(ratio)} ({better} is better)" if reference_name else ""
        log(f"  >> {benchmark}: rolestack {fmt(rolestack, unit)}{ref}" + (f" | goal {goal}: {'met' if met else 'NOT met'}" if goal else ""))
        self.save()

    def save(self):
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "results.json").write_text(json.dumps({"meta": self.meta, "rows": self.rows}, indent=2) + "\n")
        (self.out / "results.md").write_text(render_markdown(self.meta, self.rows))


def fmt(v, unit):
    if v is None:
        return "—"
    if unit in ("req/s", "keys/s"):
        return f"{v / 1000:.1f}k {unit}" if v >= 10000 else f"{v:,.0f} {unit}"
    if unit == "MiB/s":
        return f"{v:,.0f} MiB/s"
    if unit == "ms":
        return f"{v:.2f} ms" if v < 10 else f"{v:,.0f} ms"
    if unit == "µs":
        return f"{v:.2f} µs" if v < 10 else f"{v:,.1f} µs"
    if unit == "MiB":
        return f"{v:.1f} MiB"
    return f"{v:g} {unit}"


def fmt_ratio(r):
    if r is None:
        return "—"
    return f"{r:.3f}×" if r < 0.1 else (f"{r:.2f}×" if r < 10 else f"{r:,.1f}×")


TABLE_BEGIN = "<!-- bench-table:begin (generated by benches/run.sh --update-readme; do not edit by hand) -->"
TABLE_END = "<!-- bench-table:end -->"


def render_table(meta, rows):
    lines = ["| benchmark | rolestack | reference (same run) | ratio | goal |", "|---|---|---|---|---|"]
    for r in rows:
        goal = ""
        if r.get("goal"):
            goal = r["goal"] + (" ✓" if r.get("goal_met") else " ✗" if r.get("goal_met") is not None else "")
        ref = f"{r['reference_name']}: {fmt(r['reference'], r['unit'])}" if r.get("reference_name") else "—"
        arrow = "↑" if r["better"] == "higher" else "↓"
        lines.append(f"| {r['benchmark']} | {fmt(r['rolestack'], r['unit'])} | {ref} | {fmt_ratio(r['ratio'])} {arrow} | {goal} |")
    m = meta
    lines.append("")
    lines.append(f"Ratio = rolestack / reference (↑: higher is better, ↓: lower is better). Measured {m.get('date', '?')} on "
                 f"{m.get('cpus', '?')} cores shared by client and servers; {m.get('rolestack_version', '?')} "
                 f"({m.get('commit', '?')}), moto {m.get('moto_version', '?')}, nginx {m.get('nginx_version', '?')}, "
                 f"{m.get('wrk_version', 'wrk')}; 1-min load average before each section: "
                 f"{', '.join(f'{k} {v}' for k, v in m.get('loadavg', {}).items()) or '?'}.")
    return "\n".join(lines) + "\n"


def render_markdown(meta, rows):
    notes = [f"- {r['benchmark']}: {r['notes']}" for r in rows if r.get("notes")]
    return ("# rolestack benchmarks\n\n" + render_table(meta, rows) +
            ("\nNotes:\n" + "\n".join(notes) + "\n" if notes else "") +
            "\nSettings: " + json.dumps(meta.get("settings", {}), sort_keys=True) + "\n")


def update_readme(out: Path):
    data = json.loads((out / "results.json").read_text())
    table = render_table(data["meta"], data["rows"])
    readme = ROOT / "README.md"
    text = readme.read_text()
    if TABLE_BEGIN not in text or TABLE_END not in text:
        raise SystemExit(f"README.md has no table markers ({TABLE_BEGIN} ... {TABLE_END})")
    head, rest = text.split(TABLE_BEGIN, 1)
    _, tail = rest.split(TABLE_END, 1)
    readme.write_text(head + TABLE_BEGIN + "\n" + table + TABLE_END + tail)
    log(f"README.md: table replaced from {out / 'results.json'} ({len(data['rows'])} rows)")


# -- servers ------------------------------------------------------------------------------------------

class Server:
    def __init__(self, name, argv, log_path, env_extra=None):
        self.name, self.argv, self.log_path = name, argv, log_path
        self.env = dict(os.environ, **(env_extra or {}))
        self.proc = None

    def start(self):
        self.log_file = open(self.log_path, "ab")
        self.t_start = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, stdout=self.log_file, stderr=subprocess.STDOUT, env=self.env,
                                     start_new_session=True)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def rss(self):
        return rss_mib(self.proc.pid)

    def pids(self):
        return [self.proc.pid]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Rolestack(Server):
    def __init__(self, binary, data_dir, port, log_path):
        self.data_dir, self.port, self.binary = Path(data_dir), port, binary
        argv = [binary, "serve", "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"]
        flags = serve_flags(binary)  # older binaries (ROLESTACK_BIN snapshots) lack some
        if "--tls-listen" in flags:
            argv += ["--tls-listen", "127.0.0.1:0"]
        if "--instance-namespaces" in flags:
            argv += ["--instance-namespaces", "off"]
        super().__init__("rolestack", argv, log_path)

    def creds(self):
        c = json.loads((self.data_dir / "credentials.json").read_text())
        return c["AccessKeyId"], c["AccessKeySecret"]

    def api(self, product, action, **params):
        e = dict(os.environ, ROLESTACK_ENDPOINT=f"http://127.0.0.1:{self.port}", ROLESTACK_DATA_DIR=str(self.data_dir))
        out = subprocess.run([self.binary, "api", product, action] + [f"{k}={v}" for k, v in params.items()],
                             env=e, check=True, capture_output=True, text=True).stdout
        return json.loads(out) if out.strip() else {}


_FLAGS = {}


def serve_flags(binary):
    if binary not in _FLAGS:
        h = subprocess.run([str(binary), "serve", "--help"], capture_output=True, text=True).stdout
        _FLAGS[binary] = set(re.findall(r"--[a-z-]+", h))
    return _FLAGS[binary]


class Moto(Server):
    def __init__(self, venv, port, log_path):
        self.port = port
        super().__init__("moto_server", [str(Path(venv) / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                         log_path)


class Nginx:
    def __init__(self, root: Path, port, workers):
        self.root, self.port = root, port
        for d in ("www", "files", "dav", "tmp", "logs"):
            (root / d).mkdir(parents=True, exist_ok=True)
        self.www, self.files, self.dav = root / "www", root / "files", root / "dav"
        self.conf = root / "nginx.conf"
        t = root / "tmp"
        self.conf.write_text(f"""worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  client_max_body_size 64m;
  default_type application/octet-stream;
  client_body_temp_path {t}; proxy_temp_path {t}; fastcgi_temp_path {t}; uwsgi_temp_path {t}; scgi_temp_path {t};
  server {{
    listen 127.0.0.1:{port};
    root {root}/www;
    location /latest/ {{ default_type application/json; }}
    location /list/ {{ default_type application/xml; }}
    location /files/ {{ alias {root}/files/; }}
    location /dav/ {{ alias {root}/dav/; dav_methods PUT; create_full_put_path on; }}
  }}
}}
""")

    def start(self):
        # nginx's workers run as an unprivileged user when started by root: let them in
        for p in [self.root] + list(self.root.parents):
            if str(p) in ("/", "/tmp"):
                break
            os.chmod(p, os.stat(p).st_mode | 0o011)
        subprocess.run(["chmod", "-R", "a+rwX", str(self.root)], check=True)
        subprocess.run([nginx_bin(), "-p", str(self.root), "-c", str(self.conf)], check=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        return self

    def pids(self):
        return process_tree(int((self.root / "nginx.pid").read_text()))

    def stop(self):
        subprocess.run([nginx_bin(), "-p", str(self.root), "-c", str(self.conf), "-s", "stop"], capture_output=True)


def nginx_bin():
    return shutil.which("nginx") or "/usr/sbin/nginx"


# -- wrk ------------------------------------------------------------------------------------------------

class Wrk:
    def __init__(self, out: Path, threads, connections):
        self.out, self.threads, self.connections = out, threads, connections
        self.n = 0

    def run(self, label, url, duration, list_file=None, filler="GET /health", drain=False, server=None):
        """One wrk run; returns the JSON report of wrk_report.lua (+ wrk_list.lua's fields)."""
        self.n += 1
        tag = f"{self.n:02d}-{re.sub('[^a-zA-Z0-9]+', '-', label).strip('-')}"
        json_out = self.out / "wrk" / f"{tag}.json"
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.unlink(missing_ok=True)
        script = HERE / ("wrk_list.lua" if list_file else "wrk_report.lua")
        e = dict(os.environ, WRK_JSON_OUT=str(json_out), WRK_THREADS=str(self.threads), WRK_FILLER=filler)
        if list_file:
            e["WRK_LIST"] = str(list_file)
        if drain:
            e["WRK_DRAIN"] = "1"
            for m in json_out.parent.glob(json_out.name + ".done.*"):
                m.unlink()
        argv = ["wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{int(duration)}s", "--timeout", "10s",
                "-s", str(script), url]
        t = time.monotonic()
        pids = server.pids() if server else []
        cpu0 = cpu_seconds(pids)
        p = subprocess.run(argv, env=e, capture_output=True, text=True, timeout=duration + 120)
        cpu1 = cpu_seconds(pids)
        (self.out / "wrk" / f"{tag}.txt").write_text(" ".join(argv) + "\n" + p.stdout + p.stderr)
        if p.returncode != 0 or not json_out.exists():
            raise SystemExit(f"wrk failed ({label}): {p.stdout}\n{p.stderr}")
        r = json.loads(json_out.read_text())
        for m in json_out.parent.glob(json_out.name + ".done.*"):
            m.unlink()
        for k in ("requests", "bytes", "loaded", "sent", "unsent"):
            if k in r:
                r[k] = int(r[k])
        r["errors"] = {k: int(v) for k, v in r["errors"].items()}
        r["wall_s"] = time.monotonic() - t
        if server and r["requests"]:
            # server CPU per request: robust to other load on the machine, unlike req/s
            r["server_cpu_s"] = cpu1 - cpu0
            r["server_cpu_us_per_req"] = (cpu1 - cpu0) / r["requests"] * 1e6
            r["server_cores"] = (cpu1 - cpu0) / r["wall_s"]
        if list_file:
            r["rate"] = r["req_per_s_list"] if r.get("exhausted") and r.get("req_per_s_list") else r["req_per_s"]
        else:
            r["rate"] = r["req_per_s"]
        errs = r["errors"]
        bad = errs["status"]
        sock = errs["connect"] + errs["read"] + errs["write"] + errs["timeout"]
        extra = f", sent {r['sent']}/{r['loaded']} listed ({'list exhausted' if r['exhausted'] else 'time bound reached'})" if list_file else ""
        cpu = (f", server CPU {r['server_cpu_us_per_req']:.0f} µs/request ({r['server_cores']:.2f} cores)"
               if "server_cpu_us_per_req" in r else "")
        log(f"    {label}: {r['rate']:,.0f} req/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
            f"{r['requests']} responses in {r['duration_s']:.1f} s, non-2xx {bad}, socket errors {sock}{extra}{cpu}")
        if bad:
            loud(f"{label}: {bad} responses with status >= 400 (every signed request must succeed) — see {self.out / 'wrk'}")
        if sock:
            loud(f"{label}: {sock} socket errors/timeouts {errs}")
        return r


def send_line(host, port, line):
    """Sends one request of a list file (METHOD\\tPATH\\tBODY\\tHeaders...) with http.client."""
    f = line.rstrip("\n").split("\t")
    headers = dict(h.split(": ", 1) for h in f[3:] if h)
    c = http.client.HTTPConnection(host, port, timeout=30)
    try:
        c.request(f[0], f[1], body=f[2].encode() if f[0] in ("POST", "PUT") else None, headers=headers)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


# -- the suite ------------------------------------------------------------------------------------------

class Suite:
    def __init__(self, args):
        self.args = args
        self.out = Path(env("BENCH_OUT", ROOT / "target" / "bench"))
        self.out.mkdir(parents=True, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix="rolestack-bench."))
        self.bin = env("ROLESTACK_BIN", ROOT / "target" / "release" / "rolestack")
        self.venv = Path(env("BENCH_VENV", ROOT / "target" / "bench-venv"))
        self.cpus = os.cpu_count()
        s = self.settings = {
            "ROUNDS": env("ROUNDS", 3, int), "OSS_ROUNDS": env("OSS_ROUNDS", 5, int),
            "RPC_DURATION": env("RPC_DURATION", 4, int), "RPC_WARMUP": env("RPC_WARMUP", 2, int),
            "RPC_CONNECTIONS": env("RPC_CONNECTIONS", 16, int), "WRK_THREADS": env("WRK_THREADS", 2, int),
            "RPC_MAX_REQUESTS": env("RPC_MAX_REQUESTS", 3_000_000, int),
            "METADATA_DURATION": env("METADATA_DURATION", 4, int), "METADATA_CONNECTIONS": env("METADATA_CONNECTIONS", 16, int),
            "OSS_REQUESTS": env("OSS_REQUESTS", 200, int), "OSS_CONCURRENCY": env("OSS_CONCURRENCY", 4, int),
            "OSS_SIZE": env("OSS_SIZE", 1 << 20, int), "STARTUP_RUNS": env("STARTUP_RUNS", 5, int),
            "LIST_OBJECTS": env("LIST_OBJECTS", 1_000_000, int), "LIST_MAX_KEYS": env("LIST_MAX_KEYS", 1000, int),
            "LIST_LOAD_CONNECTIONS": env("LIST_LOAD_CONNECTIONS", 16, int),
            "LIST_LOAD_TIMEOUT": env("LIST_LOAD_TIMEOUT", 1800, int), "LIST_TIMEOUT": env("LIST_TIMEOUT", 600, int),
            "NGINX_WORKERS": env("NGINX_WORKERS", 2, int), "ROLESTACK_LOG": os.environ.get("ROLESTACK_LOG", "(default: info)"),
        }
        meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": self.cpus, "settings": s,
                "rolestack_bin": str(self.bin), "commit": git_commit(), "rolestack_version": tool_version([self.bin, "--version"]),
                "moto_version": pip_version(self.venv, "moto"), "nginx_version": tool_version([nginx_bin(), "-v"]).replace("nginx version: ", ""),
                "wrk_version": tool_version(["wrk", "--version"]).split(" [")[0]}
        old = self.out / "results.json"
        self.results = Results(self.out, meta)
        if args.keep_rows and old.exists():  # a partial run updates the rows it measures and keeps the others
            self.results.rows = json.loads(old.read_text())["rows"]
        self.wrk = Wrk(self.out, s["WRK_THREADS"], s["RPC_CONNECTIONS"])
        self.rs = self.moto = self.nginx = None
        self.rss = {}
        self.ran = []

    # shared servers: one rolestack for the rpc, metadata, oss and list sections (so "RSS after load"
    # is after all of them), one moto_server, one nginx
    def rolestack(self):
        if not self.rs:
            self.rs = Rolestack(self.bin, self.work / "rs", free_port(), self.out / "rolestack.log").start()
            wait_ok(self.rs.port, server=self.rs)
            time.sleep(1)
            self.rss["rolestack_idle"] = self.rs.rss()
            log(f"rolestack pid {self.rs.pid} on 127.0.0.1:{self.rs.port}, idle RSS {self.rss['rolestack_idle']:.1f} MiB")
            trust = json.dumps({"Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                               "Principal": {"Service": ["ecs.aliyuncs.com"]}}], "Version": "1"})
            self.rs.api("ram", "CreateRole", RoleName="BenchRole", AssumeRolePolicyDocument=trust)
        return self.rs

    def moto_server(self):
        if not self.moto:
            self.moto = Moto(self.venv, free_port(), self.out / "moto.log").start()
            wait_ok(self.moto.port, "/moto-api/config", timeout=60, server=self.moto)
            time.sleep(1)
            self.rss["moto_idle"] = self.moto.rss()
            log(f"moto_server pid {self.moto.pid} on 127.0.0.1:{self.moto.port}, idle RSS {self.rss['moto_idle']:.1f} MiB")
            import boto3
            iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{self.moto.port}", region_name="us-east-1",
                               aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x")
            trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                              "Action": "sts:AssumeRole"}]}
            iam.create_role(RoleName="BenchRole", AssumeRolePolicyDocument=json.dumps(trust))
        return self.moto

    def nginx_server(self):
        if not self.nginx:
            self.nginx = Nginx(self.work / "nginx", free_port(), self.settings["NGINX_WORKERS"]).start()
        return self.nginx

    def close(self):
        for s in (self.rs, self.moto, self.nginx):
            if s:
                s.stop()
        if os.environ.get("BENCH_KEEP_WORK"):
            log(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def gen(self, kind, count, out, **kw):
        argv = [sys.executable, str(HERE / "gen_requests.py"), kind, "--out", str(out), "--count", str(count)]
        for k, v in kw.items():
            argv += [f"--{k.replace('_', '-')}", str(v)]
        subprocess.run(argv, check=True)
        return out

    # -- signed RPC ------------------------------------------------------------------------------------
    def list_bench(self, label, server, gen_kind, gen_kw, filler, warmup_requests, rate=None):
        """One run of ~RPC_DURATION s in which every pre-signed request is sent once, its list sized
        from `rate` (req/s of an earlier round); without one, first a probe (3 requests with
        http.client) and a warm-up that calibrates. Returns wrk's report."""
        s = self.settings
        port = server.port
        d = self.work / "lists"
        d.mkdir(exist_ok=True)
        url = f"http://127.0.0.1:{port}"
        if rate is None:
            probe = self.gen(gen_kind, 3, d / "probe.tsv", **gen_kw)
            for line in open(probe):
                status, body = send_line("127.0.0.1", port, line)
                if status != 200:
                    raise SystemExit(f"{label}: probe request answered {status}: {body[:500]!r}")
            warm = self.gen(gen_kind, warmup_requests, d / "warmup.tsv", **gen_kw)
            rate = self.wrk.run(f"{label} (warm-up)", url, s["RPC_WARMUP"], warm, filler)["rate"]
            probe.unlink()
            warm.unlink()
        n = max(500, min(s["RPC_MAX_REQUESTS"], int(rate * s["RPC_DURATION"] * 1.25)))
        lst = self.gen(gen_kind, n, d / "run.tsv", **gen_kw)
        # bound: 3x the planned time, but within the 15 minutes a V1 Timestamp is accepted for
        r = self.wrk.run(label, url, min(s["RPC_DURATION"] * 3 + 5, 840), lst, filler, server=server)
        lst.unlink()
        return r

    def section_rpc(self):
        log("== signed RPC: rolestack (V1 HMAC-SHA1, a fresh SignatureNonce per request) vs moto_server (SigV4, not verified) ==")
        rs, moto = self.rolestack(), self.moto_server()
        ak, secret = rs.creds()
        cases = [
            ("sts", "STS GetCallerIdentity", dict(action="GetCallerIdentity", version=gen_requests.STS_VERSION),
             dict(service="sts", action="GetCallerIdentity", version="2011-06-15"), "moto STS GetCallerIdentity"),
            ("ram", "RAM ListRoles", dict(action="ListRoles", version=gen_requests.RAM_VERSION),
             dict(service="iam", action="ListRoles", version="2010-05-08"), "moto IAM ListRoles"),
        ]
        c, n = self.settings["RPC_CONNECTIONS"], self.settings["ROUNDS"]
        for key, name, rs_kw, moto_kw, ref_name in cases:
            rounds = []
            for i in range(n):
                tag = f" (round {i + 1}/{n})" if n > 1 else ""
                a = self.list_bench(f"rolestack {name}{tag}", rs, "rolestack-rpc", dict(ak=ak, secret=secret, **rs_kw),
                                    "GET /health", env("RPC_WARMUP_REQUESTS", 20000, int),
                                    rate=rounds[-1][0]["rate"] if rounds else None)
                b = self.list_bench(f"{ref_name}{tag}", moto, "moto-rpc", dict(endpoint=f"127.0.0.1:{moto.port}", **moto_kw),
                                    "GET /moto-api/config", env("MOTO_WARMUP_REQUESTS", 1500, int),
                                    rate=rounds[-1][1]["rate"] if rounds else None)
                rounds.append((a, b))
            (a, b), ratios = median_round(rounds, lambda r: r[0]["rate"] / r[1]["rate"])
            errors = (sum(r["errors"]["status"] for r, _ in rounds), sum(r["errors"]["status"] for _, r in rounds))
            note = (f"wrk -c{c} -t{self.wrk.threads}, each request signed once; {rounds_note(ratios)}; "
                    f"rolestack non-2xx {errors[0]}, moto non-2xx {errors[1]} (all rounds); "
                    f"requests sent in the median round {a['sent']} / {b['sent']}")
            self.results.add(f"rpc_{key}_rate", f"signed RPC {name} (wrk c{c}, fresh signature per request)", a["rate"], "req/s",
                             ref_name, b["rate"], "higher", "≥ 50× moto", lambda v, r: r is not None and r >= 50, notes=note,
                             extra={"rolestack": a, "reference": b, "rounds": [{"rolestack": x, "reference": y} for x, y in rounds]})
            self.results.add(f"rpc_{key}_p50", f"signed RPC {name}: p50 latency", a["p50_ms"], "ms", ref_name, b["p50_ms"], "lower")
            self.results.add(f"rpc_{key}_p99", f"signed RPC {name}: p99 latency", a["p99_ms"], "ms", ref_name, b["p99_ms"], "lower")
            self.results.add(f"rpc_{key}_cpu", f"signed RPC {name}: server CPU per request", a.get("server_cpu_us_per_req"),
                             "µs", ref_name, b.get("server_cpu_us_per_req"), "lower",
                             notes="user+system CPU of the server process over the run / responses (/proc/<pid>/stat); "
                                   "unlike req/s, barely moved by other load on the machine")
        time.sleep(RSS_SETTLE_S)
        self.rss["moto_after"] = moto.rss()
        self.rss["rolestack_after_rpc"] = rs.rss()
        # the load generator's own ceiling: the same list script, same request size, against nginx
        ng = self.nginx_server()
        (ng.www / "ceiling.json").write_bytes(b"{" + b" " * 400 + b"}")
        os.chmod(ng.www / "ceiling.json", 0o644)
        n = env("CEILING_REQUESTS", 400_000, int)
        lst = self.work / "ceiling.tsv"
        pad = "x" * 250
        with open(lst, "w") as f:
            for i in range(n):
                f.write(f"POST\t/ceiling.json?n={i}&p={pad}\t\n".replace("POST", "GET", 1))
        r = self.wrk.run("client ceiling: wrk_list.lua vs nginx static file", f"http://127.0.0.1:{ng.port}",
                         self.settings["RPC_DURATION"], lst, server=ng)
        lst.unlink()
        self.results.add("rpc_client_ceiling", "load generator ceiling: the same wrk list script against nginx (static file)",
                         r["rate"], "req/s", None, None, "higher",
                         notes="not a rolestack figure: the most req/s the RPC rows' client (wrk -t2 + wrk_list.lua, "
                               "same request size) reaches on this machine; RPC figures near it are client-bound")

    # -- metadata ----------------------------------------------------------------------------------------
    def section_metadata(self):
        s = self.settings
        c = s["METADATA_CONNECTIONS"]
        log(f"== instance metadata credential GET: rolestack vs nginx serving the same bytes (wrk c{c}) ==")
        rs, ng = self.rolestack(), self.nginx_server()
        vpc = rs.api("ecs", "CreateVpc", RegionId="cn-hangzhou", CidrBlock="192.168.0.0/16")["VpcId"]
        vsw = rs.api("ecs", "CreateVSwitch", RegionId="cn-hangzhou", ZoneId="cn-hangzhou-i", VpcId=vpc,
                     CidrBlock="192.168.1.0/24")["VSwitchId"]
        iid = rs.api("ecs", "CreateInstance", RegionId="cn-hangzhou", ImageId="centos_7_03_64_40G_alibase_20170503.vhd",
                     InstanceType="ecs.xn4.small", VSwitchId=vsw, RamRoleName="BenchRole")["InstanceId"]
        rs.api("ecs", "StartInstance", InstanceId=iid)  # a created instance is Stopped; nothing runs until started
        proxy = rs.api("rolestack", "PrepareInstanceEnvironment", InstanceId=iid)["Proxy"]
        path = "/latest/meta-data/ram/security-credentials/BenchRole"
        host, port = proxy.rsplit(":", 1)
        status, doc = http_get(host, int(port), path)
        assert status == 200, (status, doc)
        target = ng.www / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(doc)
        os.chmod(target, 0o644)
        wrk = Wrk(self.out, s["WRK_THREADS"], c)
        wrk.n = self.wrk.n + 100
        wrk.run("rolestack metadata (warm-up)", f"http://{proxy}{path}", 1)
        wrk.run("nginx static file (warm-up)", f"http://127.0.0.1:{ng.port}{path}", 1)
        rounds, n = [], s["ROUNDS"]
        for i in range(n):
            tag = f" (round {i + 1}/{n})" if n > 1 else ""
            a = wrk.run(f"rolestack metadata credential GET{tag}", f"http://{proxy}{path}", s["METADATA_DURATION"], server=rs)
            b = wrk.run(f"nginx static file{tag}", f"http://127.0.0.1:{ng.port}{path}", s["METADATA_DURATION"], server=ng)
            rounds.append((a, b))
        (a, b), ratios = median_round(rounds, lambda r: r[0]["rate"] / r[1]["rate"])
        note = (f"wrk -c{c} -t{wrk.threads} {s['METADATA_DURATION']} s each; {rounds_note(ratios)}; {len(doc)}-byte document; "
                f"nginx {s['NGINX_WORKERS']} workers")
        self.results.add("metadata_rate", f"instance metadata credential GET (wrk c{c})", a["rate"], "req/s",
                         "nginx, same bytes as a static file", b["rate"], "higher", "≥ 0.8× nginx",
                         lambda v, r: r is not None and r >= 0.8, notes=note,
                         extra={"rolestack": a, "reference": b, "rounds": [{"rolestack": x, "reference": y} for x, y in rounds]})
        self.results.add("metadata_p50", "metadata credential GET: p50 latency", a["p50_ms"], "ms", "nginx", b["p50_ms"], "lower")
        self.results.add("metadata_p99", "metadata credential GET: p99 latency", a["p99_ms"], "ms", "nginx", b["p99_ms"], "lower")
        self.results.add("metadata_cpu", "metadata credential GET: server CPU per request", a.get("server_cpu_us_per_req"), "µs",
                         "nginx (master + workers)", b.get("server_cpu_us_per_req"), "lower")

    # -- OSS throughput ------------------------------------------------------------------------------------
    def section_oss(self):
        s = self.settings
        log(f"== OSS {s['OSS_SIZE'] >> 10} KiB GET/PUT: rolestack (signed, authorized, fsynced) vs nginx (static GET, WebDAV PUT) ==")
        rs, ng = self.rolestack(), self.nginx_server()
        runs = []
        for i in range(s["OSS_ROUNDS"]):
            # each round PUTs new objects, as the first did: rolestack into a bucket of its own, nginx
            # into an emptied directory (replacing files written in an earlier round frees their
            # blocks, which on a disk mounted with `discard` costs nginx more than writing new ones)
            for f in ng.dav.iterdir():
                f.unlink()
            out = self.out / f"oss-{i + 1}.json"
            subprocess.run([sys.executable, str(HERE / "oss_throughput_client.py"), "--rolestack", f"127.0.0.1:{rs.port}",
                            "--credentials", str(rs.data_dir / "credentials.json"), "--nginx", f"127.0.0.1:{ng.port}",
                            "--nginx-files", str(ng.files), "--requests", str(s["OSS_REQUESTS"]), "--bucket", f"bench-{i + 1}",
                            "--concurrency", str(s["OSS_CONCURRENCY"]), "--size", str(s["OSS_SIZE"]), "--json", str(out),
                            "--pids", f"{rs.pids()[0]};{ng.pids()[0]}"],
                           check=True)
            runs.append(json.loads(out.read_text()))
        median_of = {op: median_round(runs, lambda r, op=op: r["rolestack"][op] / r["nginx"][op]) for op in ("GET", "PUT", "REPUT")}
        size = f"{s['OSS_SIZE'] >> 20} MiB" if s["OSS_SIZE"] >= 1 << 20 else f"{s['OSS_SIZE'] >> 10} KiB"
        note = (f"{s['OSS_REQUESTS']} objects (GET: each 5 times), {s['OSS_CONCURRENCY']} keep-alive connections, one Python "
                f"client for both servers, sync(2) before each timed phase")
        r, ratios = median_of["GET"]
        self.results.add("oss_get", f"OSS {size} GET (signed, authorized; {s['OSS_CONCURRENCY']} connections)", r["rolestack"]["GET"],
                         "MiB/s", "nginx, same files", r["nginx"]["GET"], "higher", "≥ 0.7× nginx",
                         lambda v, x: x is not None and x >= 0.7, notes=f"{note}; {rounds_note(ratios)}", extra={"rounds": runs})
        r, ratios = median_of["PUT"]
        self.results.add("oss_put", f"OSS {size} PUT (durable: fsynced and indexed)", r["rolestack"]["PUT"], "MiB/s",
                         "nginx WebDAV PUT (no fsync)", r["nginx"]["PUT"], "higher", "≥ 0.6× nginx",
                         lambda v, x: x is not None and x >= 0.6, notes=f"{note}; {rounds_note(ratios)}")
        r, ratios = median_of["REPUT"]
        self.results.add("oss_reput", f"OSS {size} PUT replacing existing objects (durable)", r["rolestack"]["REPUT"], "MiB/s",
                         "nginx WebDAV PUT replacing its files (no fsync)", r["nginx"]["REPUT"], "higher",
                         notes=f"the PUT row's requests again, each replacing the object it stored: rolestack writes the "
                               f"new body over the removed body's file (a spare: blocks already written, no allocation); "
                               f"{note}; {rounds_note(ratios)}")
        for op in ("GET", "PUT"):
            r = median_of[op][0]
            a, b = r["rolestack"]["cpu"][op], r["nginx"]["cpu"][op]
            self.results.add(f"oss_{op.lower()}_cpu", f"OSS {size} {op}: server CPU per MiB", a["server"], "ms", "nginx",
                             b["server"], "lower",
                             notes=f"user+system CPU of the server processes over the phase / MiB moved (/proc/<pid>/stat); "
                                   f"the client's: {a['client']:.2f} ms with rolestack, {b['client']:.2f} ms with nginx "
                                   f"(the round of the {op} row above)")
        r = median_of["PUT"][0]
        disk = durable_write_rate(self.work / "durable-writes", s["OSS_REQUESTS"], s["OSS_CONCURRENCY"], s["OSS_SIZE"])
        self.results.add("oss_put_disk", f"OSS {size} PUT vs this disk's durable-write ceiling", r["rolestack"]["PUT"], "MiB/s",
                         "same bodies written, fsynced, renamed, directory fsynced (no HTTP, no index)", disk, "higher",
                         notes="what durability alone allows here: the PUT row's nginx reference does not fsync")
        # the 1 MiB files are not needed any more (the listing section keeps the server running)
        for f in [*ng.files.iterdir(), *ng.dav.iterdir()]:
            f.unlink()

    # -- start-up -----------------------------------------------------------------------------------------
    def section_startup(self):
        s = self.settings
        n = s["STARTUP_RUNS"]
        log(f"== start to first answer: rolestack vs moto_server (median of {n} starts each) ==")
        data = self.work / "startup-rs"
        res = {"rs_cold_health": [], "rs_health": [], "rs_sts": [], "moto_health": [], "moto_sts": []}
        for i in range(n):
            # cold: a new data directory (first start creates the account, keys and the local CA)
            shutil.rmtree(data, ignore_errors=True)
            port = free_port()
            rs = Rolestack(self.bin, data, port, self.out / "startup.log")
            res["rs_cold_health"].append(time_to_ok(rs, port, health_request(port)))
            # restart on the same data directory: /health, then the first signed call
            port = free_port()
            rs = Rolestack(self.bin, data, port, self.out / "startup.log")
            res["rs_health"].append(time_to_ok(rs, port, health_request(port)))
            ak, secret = rs.creds()
            port = free_port()
            rs = Rolestack(self.bin, data, port, self.out / "startup.log")
            req = rpc_request(port, gen_requests.v1_signed_path(ak, secret, "GetCallerIdentity", gen_requests.STS_VERSION,
                                                                   os.urandom(8).hex()))
            res["rs_sts"].append(time_to_ok(rs, port, req))
            port = free_port()
            res["moto_health"].append(time_to_ok(Moto(self.venv, port, self.out / "startup.log"), port,
                                                 health_request(port, "/moto-api/config"), timeout=60))
            port = free_port()
            res["moto_sts"].append(time_to_ok(Moto(self.venv, port, self.out / "startup.log"), port,
                                              moto_sts_request(port), timeout=60))
            log("    run %d: " % (i + 1) + ", ".join(f"{k} {v[-1]:.1f} ms" for k, v in res.items()))
        m = {k: median(v) for k, v in res.items()}
        note = (f"median of {n}; polled every 1 ms from process start; moto's /health stand-in is GET /moto-api/config; "
                f"rolestack on a new data dir (creates account, keys, CA): {m['rs_cold_health']:.1f} ms")
        self.results.add("startup_health", "start to first /health 200 (existing data dir)", m["rs_health"], "ms",
                         "moto_server (/moto-api/config)", m["moto_health"], "lower", "≤ 10 ms", lambda v, r: v <= 10,
                         notes=note, extra=res)
        self.results.add("startup_health_cold", "start to first /health 200 (new data dir)", m["rs_cold_health"], "ms",
                         "moto_server (/moto-api/config)", m["moto_health"], "lower")
        self.results.add("startup_sts", "start to first signed GetCallerIdentity 200", m["rs_sts"], "ms",
                         "moto_server", m["moto_sts"], "lower")

    # -- listing --------------------------------------------------------------------------------------------
    def section_list(self):
        s = self.settings
        n, mk = s["LIST_OBJECTS"], s["LIST_MAX_KEYS"]
        log(f"== ListObjectsV2 over {n:,} objects in one bucket (max-keys {mk}) vs nginx serving the same pages ==")
        rs, ng = self.rolestack(), self.nginx_server()
        ak, secret = rs.creds()
        import oss2
        bucket_name = "bench-list"
        bucket = oss2.Bucket(oss2.Auth(ak, secret), f"http://127.0.0.1:{rs.port}", bucket_name)
        bucket.create_bucket()
        # load: presigned PUTs of empty objects, each sent once by wrk
        lst = self.gen("oss-put", n, self.work / "list-load.tsv", ak=ak, secret=secret, bucket=bucket_name)
        c = s["LIST_LOAD_CONNECTIONS"]
        loader = Wrk(self.out, s["WRK_THREADS"], c)
        loader.n = self.wrk.n + 200
        t = time.monotonic()
        r = loader.run(f"load {n} empty objects", f"http://127.0.0.1:{rs.port}", s["LIST_LOAD_TIMEOUT"], lst, "GET /health",
                       drain=True, server=rs)
        lst.unlink()
        load_s = time.monotonic() - t
        if not r["exhausted"]:
            loud(f"loading stopped at the time bound (LIST_LOAD_TIMEOUT={s['LIST_LOAD_TIMEOUT']} s): {r['sent']} of {n} objects sent")
        time.sleep(2)
        rss_before = rs.rss()
        pages_dir = ng.www / "list"
        pages_dir.mkdir(exist_ok=True)
        # rolestack: page through with one keep-alive connection; save each page for nginx
        conn = http.client.HTTPConnection("127.0.0.1", rs.port, timeout=60)
        token, keys, pages, lat, peak, warm = None, 0, 0, [], rss_before, None
        cpu0 = cpu_seconds(rs.pids())
        t0 = time.perf_counter()
        deadline = time.monotonic() + s["LIST_TIMEOUT"]
        while time.monotonic() < deadline:
            query = f"list-type=2&max-keys={mk}" + (f"&continuation-token={gen_requests.pct(token)}" if token else "")
            path = gen_requests.oss_presign(ak, secret, "GET", f"/{bucket_name}/", int(time.time()) + 3600, query,
                                            f"continuation-token={token}" if token else "")
            t1 = time.perf_counter()
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            lat.append((time.perf_counter() - t1) * 1000)
            if resp.status != 200:
                loud(f"ListObjectsV2 page {pages + 1}: {resp.status} {body[:300]!r}")
                break
            pages += 1
            keys += body.count(b"<Key>")
            (pages_dir / f"p{pages:06d}.xml").write_bytes(body)
            if pages == 10:
                warm = rs.rss() or 0
            if pages % 50 == 0:
                peak = max(peak, rs.rss() or 0)
            m = re.search(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>", body)
            if b"<IsTruncated>true</IsTruncated>" not in body or not m:
                break
            token = m.group(1).decode()
        elapsed = time.perf_counter() - t0
        cpu_page = (cpu_seconds(rs.pids()) - cpu0) / max(pages, 1) * 1000
        conn.close()
        warm = warm or rss_before  # fewer than 10 pages (--quick)
        end = rs.rss()
        peak = max(peak, end)
        time.sleep(2)  # as before the listing: the server gives memory back a second after a burst
        rss_after = rs.rss()
        # nginx: the same pages in the same order, same client work
        subprocess.run(["chmod", "-R", "a+rX", str(pages_dir)], check=True)
        conn = http.client.HTTPConnection("127.0.0.1", ng.port, timeout=60)
        nkeys, nlat = 0, []
        ncpu0 = cpu_seconds(ng.pids())
        t0 = time.perf_counter()
        for i in range(1, pages + 1):
            t1 = time.perf_counter()
            conn.request("GET", f"/list/p{i:06d}.xml")
            resp = conn.getresponse()
            body = resp.read()
            nlat.append((time.perf_counter() - t1) * 1000)
            nkeys += body.count(b"<Key>")
            re.search(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>", body)
        nelapsed = time.perf_counter() - t0
        ncpu_page = (cpu_seconds(ng.pids()) - ncpu0) / max(pages, 1) * 1000
        conn.close()
        shutil.rmtree(pages_dir)
        rate, nrate = keys / elapsed, nkeys / nelapsed
        log(f"    loaded {r['sent']:,} objects in {load_s:.0f} s ({r['rate']:,.0f} PUT/s); listed {keys:,} keys in {pages} pages, "
            f"{elapsed:.1f} s; page p50 {percentile(lat, 50):.1f} ms p99 {percentile(lat, 99):.1f} ms; "
            f"RSS {rss_before:.1f} -> after 10 pages {warm or 0:.1f} -> peak {peak:.1f} -> end {end:.1f} -> 2 s later {rss_after:.1f} MiB")
        if keys != r["sent"]:
            loud(f"listing returned {keys} keys, {r['sent']} objects were put")
        note = (f"{keys:,} keys in {pages} pages, one keep-alive connection; page p50 {percentile(lat, 50):.1f} ms, "
                f"p99 {percentile(lat, 99):.1f} ms (nginx {percentile(nlat, 50):.2f} / {percentile(nlat, 99):.2f} ms); "
                f"loaded by {c} connections of presigned PUTs at {r['rate']:,.0f} objects/s")
        self.results.add("list_rate", f"ListObjectsV2 through {keys:,} objects (max-keys {mk})", rate, "keys/s",
                         "nginx serving the same pages", nrate, "higher", notes=note,
                         extra={"load": r, "pages": pages, "elapsed_s": elapsed})
        self.results.add("list_cpu", f"ListObjectsV2: server CPU per page of {mk} keys", cpu_page, "ms",
                         "nginx, same page" if ncpu_page else "nginx, same page (below /proc's tick over the run)",
                         ncpu_page or None, "lower")
        # Constant memory: the peak while paging against the RSS once the first pages have set up
        # the listing's working set (it does not grow with the keys listed); before and after
        # (both read 2 s after their burst) are in the label.
        self.results.add("list_rss", f"server RSS while listing {keys:,} objects: peak over the pages (before listing "
                         f"{rss_before:.1f}, end {end:.1f}, 2 s after {rss_after:.1f})",
                         peak, "MiB", "same server after its first 10 pages", warm, "lower", "roughly constant (≤ 1.2×)",
                         lambda v, x: x is not None and x <= 1.2)

    # -- policy -----------------------------------------------------------------------------------------------
    def section_policy(self):
        log("== policy decision: rolestack vs Cedar (criterion medians) ==")
        target = Path(env("BENCH_TARGET_DIR", ROOT / "target" / "bench"))
        e = dict(os.environ, CARGO_TARGET_DIR=str(target))
        subprocess.run(["cargo", "bench", "--quiet", "--bench", "decision"], cwd=HERE / "policy-vs-cedar", env=e,
                       check=True, stdout=subprocess.DEVNULL)
        d = target / "criterion" / "decision"
        for key, case in [("allow", "allow after every deny"), ("explicit_deny", "explicit deny"), ("implicit_deny", "implicit deny")]:
            med = lambda who: json.loads((d / f"{who}_{case}" / "new" / "estimates.json").read_text())["median"]["point_estimate"] / 1000
            self.results.add(f"policy_{key}", f"one policy decision over 5 policies ({case})", med("rolestack"), "µs",
                             "Cedar, same decision", med("cedar"), "lower")

    def after_load(self):
        if self.rs and "rss_idle" not in self.rss:
            self.rss["rss_idle"] = True
            self.results.add("rss_idle", "server RSS idle (after start)", self.rss["rolestack_idle"], "MiB",
                             "moto_server", self.rss.get("moto_idle"), "lower", "≤ 30 MiB", lambda v, r: v <= 30)
        ran = [x for x in ("rpc", "metadata", "oss") if x in self.ran]
        if self.rs and ran and "rolestack_after" not in self.rss:
            time.sleep(RSS_SETTLE_S)
            self.rss["rolestack_after"] = self.rs.rss()
            anon, file = (rss_mib(self.rs.proc.pid, f) for f in ("RssAnon", "RssFile"))
            try:  # where it is, mapping by mapping, for whoever wants to know
                shutil.copyfile(f"/proc/{self.rs.proc.pid}/smaps", self.out / "rss-after-load.smaps")
            except OSError:
                pass
            self.results.add("rss_after", f"server RSS after load ({', '.join(ran) or 'no'} runs above)", self.rss["rolestack_after"],
                             "MiB", "moto_server after its RPC runs", self.rss.get("moto_after"), "lower", "≤ 30 MiB",
                             lambda v, r: v <= 30,
                             notes=f"of it anonymous (heap, stacks) {anon:.1f} MiB, file-backed (the binary's pages that "
                                   f"requests touched, mapped files) {file:.1f} MiB" if anon is not None and file is not None else None)

    def run(self, sections):
        log(f"rolestack benchmarks: {' '.join(sections)}; binary {self.bin}; results in {self.out}")
        try:
            for name in SECTIONS:
                if name not in sections:
                    continue
                if name in ("list", "policy"):
                    self.after_load()
                load = os.getloadavg()[0]
                self.results.meta.setdefault("loadavg", {})[name] = round(load, 2)
                if load > self.cpus:
                    loud(f"load average {load:.1f} on {self.cpus} cores before section {name}: something else is running, figures will be noisy")
                getattr(self, f"section_{name}")()
                self.ran.append(name)
            self.after_load()
        finally:
            self.close()
        log("")
        log(render_table(self.results.meta, self.results.rows))
        log(f"written: {self.out / 'results.md'}, {self.out / 'results.json'}")


def time_to_ok(server, port, request, timeout=30):
    """ms from process start until `request` (raw bytes) is answered 2xx; polled every 1 ms."""
    server.start()
    t0 = server.t_start
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise SystemExit(f"{server.name} exited with {server.proc.returncode}: see {server.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as sk:
                    sk.sendall(request)
                    head = sk.recv(64)
                    if re.match(rb"HTTP/1\.[01] 2\d\d", head):
                        return (time.perf_counter() - t0) * 1000
            except OSError:
                pass
            time.sleep(0.001)
        raise SystemExit(f"{server.name} did not answer 200 within {timeout} s (see {server.log_path})")
    finally:
        server.stop()


def health_request(port, path="/health"):
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()


def rpc_request(port, path):
    return f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()


def moto_sts_request(port):
    import io
    buf = io.StringIO()
    gen_requests.write_moto_rpc(buf, f"127.0.0.1:{port}", "sts", "GetCallerIdentity", "2011-06-15", 1)
    f = buf.getvalue().rstrip("\n").split("\t")
    hs = "".join(h + "\r\n" for h in f[3:])
    return (f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{hs}Content-Length: {len(f[2])}\r\nConnection: close\r\n\r\n"
            f"{f[2]}").encode()


def git_commit():
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def tool_version(argv):
    try:
        p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=10)
        return (p.stdout + p.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def pip_version(venv, pkg):
    try:
        from importlib.metadata import version
        return version(pkg)
    except Exception:
        return "?"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("sections", nargs="*")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--update-readme", action="store_true")
    p.add_argument("--keep-rows", action="store_true", help="keep rows of sections not run from the last results.json")
    a = p.parse_args()
    if a.update_readme and not a.sections:
        update_readme(Path(env("BENCH_OUT", ROOT / "target" / "bench")))
        return
    sections = a.sections or SECTIONS
    for x in sections:
        if x not in SECTIONS:
            raise SystemExit(f"unknown section {x} ({', '.join(SECTIONS)})")
    if a.quick:
        for k, v in QUICK.items():
            os.environ.setdefault(k, v)
    Suite(a).run(sections)
    if a.update_readme:
        update_readme(Path(env("BENCH_OUT", ROOT / "target" / "bench")))


if __name__ == "__main__":
    main()
