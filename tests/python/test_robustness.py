"""Robustness of the server's edges, one test per item:

a. a GET racing an overwrite / delete of the same key never answers a truncated 200;
b. many slow / idle / half-sent connections do not stall `GET /health`, and the server closes them
   itself (header-read and idle keep-alive timeouts, overridable with
   ROLESTACK_HEADER_TIMEOUT_SECS / ROLESTACK_IDLE_TIMEOUT_SECS);
c. the data dir is private: the dir and every dir under it 0700, every file 0600, also when the
   dir existed beforehand with looser modes;
d. an RPC POST carrying every parameter (Action included) only in the form body reaches the RPC
   gateway, not OSS;
e. a V4 presigned OSS URL valid for more than 7 days is refused.

Only loopback is contacted. (b) opens 10000 connections (the open-file limit must allow it).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import random
import resource
import selectors
import socket
import stat
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urlsplit

import oss2
import pytest
import requests

import rshelpers as h

REGION = "cn-hangzhou"
KiB = 1024
MiB = 1024 * KiB


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def oss_bucket(endpoint: str, root: dict, name: str, auth_version: str = "v1") -> oss2.Bucket:
    auth = oss2.AuthV4(root["AccessKeyId"], root["AccessKeySecret"]) if auth_version == "v4" \
        else oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"])
    return oss2.Bucket(auth, f"http://{endpoint}", name, region=REGION, connect_timeout=30)


@pytest.fixture
def bucket(server):
    """A fresh bucket of the root on the shared server, emptied and deleted afterwards."""
    b = oss_bucket(server.endpoint, server.root, f"rb-{uuid.uuid4().hex[:12]}")
    b.create_bucket()
    yield b
    try:
        for upload in oss2.MultipartUploadIterator(b):
            b.abort_multipart_upload(upload.key, upload.upload_id)
        for obj in oss2.ObjectIterator(b):
            b.delete_object(obj.key)
        b.delete_bucket()
    except oss2.exceptions.OssError:
        pass


class OwnServer:
    """Starts a RolestackServer with extra environment variables (RolestackServer passes the
    test process's environment through) and an explicit umask; stops it at the end."""

    def __init__(self, tmp_path: Path, monkeypatch, name: str = "own"):
        self.tmp_path = tmp_path
        self.monkeypatch = monkeypatch
        self.name = name
        self.servers: List[h.RolestackServer] = []

    def start(self, data_dir: Optional[Path] = None, env: Optional[Dict[str, str]] = None,
              umask: int = 0o022) -> h.RolestackServer:
        for k, v in (env or {}).items():
            self.monkeypatch.setenv(k, v)
        srv = h.RolestackServer(data_dir or self.tmp_path / f"{self.name}-data", self.tmp_path / f"{self.name}.log")
        self.servers.append(srv)
        return self.restart(srv, umask)

    @staticmethod
    def restart(srv: h.RolestackServer, umask: int = 0o022) -> h.RolestackServer:
        srv.stop()
        old = os.umask(umask)
        try:
            srv.start()
        finally:
            os.umask(old)
        return srv

    def stop_all(self):
        for s in self.servers:
            s.stop()


@pytest.fixture
def own_server(tmp_path, monkeypatch):
    o = OwnServer(tmp_path, monkeypatch)
    yield o
    o.stop_all()


# ==============================================================================================
# a. GET racing an overwrite / delete
# ==============================================================================================

class GetOutcome:
    def __init__(self, reader: str, key: str):
        self.reader = reader
        self.key = key
        self.status: Optional[int] = None
        self.content_length: Optional[int] = None
        self.body_len = 0
        self.md5: Optional[str] = None
        self.error: Optional[str] = None  # an exception after the 200 status line

    def problem(self, allowed: Dict[str, set]) -> Optional[str]:
        if self.status == 404:
            return None
        if self.status != 200:
            return f"{self.reader} GET {self.key}: unexpected status {self.status} ({self.error})"
        where = f"{self.reader} GET {self.key}: 200"
        if self.error:
            return f"{where} then the body broke after {self.body_len} B (Content-Length {self.content_length}): {self.error}"
        if self.content_length is None:
            return f"{where} without Content-Length ({self.body_len} B)"
        if self.body_len != self.content_length:
            return f"{where} with Content-Length {self.content_length} but {self.body_len} B of body"
        if self.md5 not in allowed[self.key]:
            return f"{where} with {self.body_len} B whose MD5 {self.md5} is none of the written versions"
        return None


def get_fast_requests(url: str, key: str) -> GetOutcome:
    out = GetOutcome("requests", key)
    r = requests.get(url, stream=True, timeout=30)
    out.status = r.status_code
    cl = r.headers.get("Content-Length")
    out.content_length = int(cl) if cl is not None else None
    digest = hashlib.md5()
    try:
        for chunk in r.raw.stream(256 * KiB, decode_content=False):
            digest.update(chunk)
            out.body_len += len(chunk)
    except Exception as e:  # urllib3 IncompleteRead / ProtocolError / reset
        out.error = f"{type(e).__name__}: {e}"
    finally:
        r.close()
    out.md5 = digest.hexdigest()
    return out


class SmallBufferConnection(http.client.HTTPConnection):
    """A client with a tiny receive buffer, so the server cannot push the whole body ahead."""

    def connect(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * KiB)
        s.settimeout(30)
        s.connect((self.host, self.port))
        self.sock = s


def get_slow(url: str, key: str) -> GetOutcome:
    """A slow client: reads the first 64 KiB, stalls 0.3 s (the server's buffers fill up and it
    stops reading the object), then reads the rest 32 KiB at a time."""
    out = GetOutcome("slow", key)
    u = urlsplit(url)
    conn = SmallBufferConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("GET", f"{u.path}?{u.query}")
        resp = conn.getresponse()
        out.status = resp.status
        cl = resp.getheader("Content-Length")
        out.content_length = int(cl) if cl is not None else None
        digest = hashlib.md5()
        try:
            first = resp.status == 200
            while True:
                chunk = resp.read(64 * KiB if first else 32 * KiB)
                if not chunk:
                    break
                digest.update(chunk)
                out.body_len += len(chunk)
                time.sleep(0.3 if first else 0.002)
                first = False
        except Exception as e:
            out.error = f"{type(e).__name__}: {e}"
        out.md5 = digest.hexdigest()
    finally:
        conn.close()
    return out


def get_oss2(bucket: oss2.Bucket, key: str) -> GetOutcome:
    out = GetOutcome("oss2", key)
    try:
        result = bucket.get_object(key)
    except oss2.exceptions.NoSuchKey:
        out.status = 404
        return out
    out.status = result.status
    cl = result.headers.get("Content-Length")
    out.content_length = int(cl) if cl is not None else None
    try:
        body = result.read()
        out.body_len = len(body)
        out.md5 = md5(body)
    except Exception as e:  # truncated body, or CRC64 mismatch raised by oss2
        out.error = f"{type(e).__name__}: {e}"
    return out


def test_get_racing_overwrite_and_delete_is_never_truncated(bucket):
    rng = random.Random(1234)
    single, multi = "race/single", "race/multi"
    single_versions = [rng.randbytes(MiB) for _ in range(3)]
    # 3 parts (4 + 4 + 1 MiB): the last part starts beyond what the server buffers ahead of a
    # stalled client (a 4 MiB socket send buffer + its own read-ahead), so it is opened only after
    # the stall, while the writer is replacing / deleting the object
    multi_versions = [[rng.randbytes(n * MiB) for n in (4, 4, 1)] for _ in range(3)]
    allowed = {single: {md5(v) for v in single_versions},
               multi: {md5(b"".join(parts)) for parts in multi_versions}}

    def put_multi(parts):
        upload_id = bucket.init_multipart_upload(multi).upload_id
        infos = []
        for n, p in enumerate(parts, 1):
            infos.append(oss2.models.PartInfo(n, bucket.upload_part(multi, upload_id, n, p).etag))
        bucket.complete_multipart_upload(multi, upload_id, infos)

    bucket.put_object(single, single_versions[0])
    put_multi(multi_versions[0])
    # V1 presigned URLs stay valid whether or not the key exists at the moment
    urls = {k: bucket.sign_url("GET", k, 600) for k in (single, multi)}

    stop = threading.Event()
    outcomes: List[GetOutcome] = []
    errors: List[str] = []
    lock = threading.Lock()
    writes = {"put": 0, "multipart": 0, "delete": 0}

    writer_done = threading.Event()

    def writer():
        i = 0
        try:
            while not stop.is_set() or i < 6:  # at least one round of every step, however slow
                v = i % 3
                step = i % 6
                if step in (0, 2):
                    bucket.put_object(single, single_versions[v]); writes["put"] += 1
                elif step in (1, 4):
                    put_multi(multi_versions[v]); writes["multipart"] += 1
                elif step == 3:
                    bucket.delete_object(single); writes["delete"] += 1
                else:
                    bucket.delete_object(multi); writes["delete"] += 1
                i += 1
        except Exception as e:
            with lock:
                errors.append(f"writer: {type(e).__name__}: {e}")
        finally:
            writer_done.set()

    def reader(kind: str, n: int):
        r = random.Random(n)
        try:
            while not writer_done.is_set():
                key = r.choice([single, multi, multi] if kind == "slow" else [single, multi])
                if kind == "requests":
                    o = get_fast_requests(urls[key], key)
                elif kind == "slow":
                    o = get_slow(urls[key], key)
                else:
                    o = get_oss2(bucket, key)
                with lock:
                    outcomes.append(o)
        except Exception as e:
            with lock:
                errors.append(f"{kind} reader: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=writer, daemon=True)]
    threads += [threading.Thread(target=reader, args=(k, n), daemon=True)
                for n, k in enumerate(["requests", "oss2", "slow", "slow", "slow"])]
    for t in threads:
        t.start()
    time.sleep(2.0)
    stop.set()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a racing thread did not finish"

    assert not errors, "\n".join(errors)
    problems = [p for p in (o.problem(allowed) for o in outcomes) if p]
    ok = {k: sum(1 for o in outcomes if o.key == k and o.status == 200) for k in (single, multi)}
    summary = (f"{len(outcomes)} GETs ({ok[single]} x 200 single, {ok[multi]} x 200 multipart, "
               f"{sum(1 for o in outcomes if o.status == 404)} x 404); writes {writes}")
    assert not problems, f"{len(problems)} bad responses among {summary}:\n  " + "\n  ".join(problems[:15])
    assert writes["put"] and writes["multipart"] and writes["delete"], summary
    assert ok[single] >= 3 and ok[multi] >= 3, f"too few successful GETs to mean anything: {summary}"


# ==============================================================================================
# b. Slow connections
# ==============================================================================================

# The bar: /health keeps answering under 10k slow connections.
CONNECTIONS = 10000
TIMEOUT_ENV = ("ROLESTACK_HEADER_TIMEOUT_SECS", "ROLESTACK_IDLE_TIMEOUT_SECS")


@pytest.fixture
def many_fds():
    """Raises the soft RLIMIT_NOFILE to the hard limit (the server started afterwards inherits
    it); returns how many connections this test can afford."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    try:
        n = min(CONNECTIONS, target - 512)
        if n < CONNECTIONS:
            pytest.fail(f"RLIMIT_NOFILE hard limit {hard} is too low for {CONNECTIONS} test connections; "
                        "raise it (ulimit -Hn) to run this test")
        yield n
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


KINDS = ["idle", "idle", "idle", "idle", "keepalive", "line", "line", "headers", "headers", "headers"]


def partial_bytes(kind: str, host: str) -> bytes:
    if kind == "line":
        return b"GET /hea"
    if kind == "headers":
        return f"GET /health HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode()
    return b""


def read_one_response(s: socket.socket) -> bytes:
    """Reads one HTTP/1.1 response with a Content-Length body from a blocking socket."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise AssertionError(f"connection closed mid-response: {buf!r}")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            break
        body += chunk
    return head.split(b"\r\n")[0]


class Flood:
    """n raw client connections to one server: half idle (of which some after one complete
    keep-alive request), half having sent part of a request line or of the headers."""

    def __init__(self, srv: h.RolestackServer, n: int):
        self.srv = srv
        self.socks: List[socket.socket] = []
        self.kind: Dict[int, str] = {}
        self.opened: Dict[int, float] = {}
        host = srv.endpoint
        port = srv.port
        for i in range(n):
            kind = KINDS[i % len(KINDS)]
            s = socket.create_connection(("127.0.0.1", port), timeout=15)
            if kind == "keepalive":
                s.sendall(f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                status = read_one_response(s)
                assert status.startswith(b"HTTP/1.1 200"), status
            else:
                data = partial_bytes(kind, host)
                if data:
                    s.sendall(data)
            s.setblocking(False)
            self.socks.append(s)
            self.kind[s.fileno()] = kind
            self.opened[s.fileno()] = time.monotonic()

    def close(self):
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass


class Drip:
    """Slowloris: connections that send one header byte every 0.5 s, never finishing the head.
    A connection counts as closed when the server's EOF / reset is seen or a send fails."""

    def __init__(self, srv: h.RolestackServer, n: int = 5):
        self.socks: List[socket.socket] = []
        self.opened = time.monotonic()
        self.closed_at: Dict[int, float] = {}
        self.stop = threading.Event()
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
            s.sendall(f"GET /health HTTP/1.1\r\nHost: {srv.endpoint}\r\nX-Drip: ".encode())
            s.setblocking(False)
            self.socks.append(s)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _closed(self, s: socket.socket) -> bool:
        try:
            while True:
                if not s.recv(65536):  # EOF (possibly after a 408 the server sent first)
                    return True
        except BlockingIOError:
            pass
        except OSError:
            return True
        try:
            s.send(b"a")
        except BlockingIOError:
            pass
        except OSError:
            return True
        return False

    def _run(self):
        while not self.stop.wait(0.5):
            for i, s in enumerate(self.socks):
                if i not in self.closed_at and self._closed(s):
                    self.closed_at[i] = time.monotonic()

    def still_open(self) -> int:
        return len(self.socks) - len(self.closed_at)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        for s in self.socks:
            s.close()


def probe_health(srv: h.RolestackServer, times: int, pause: float = 0.2) -> List[str]:
    bad = []
    for i in range(times):
        t0 = time.monotonic()
        try:
            r = requests.get(f"{srv.base_url}/health", timeout=2)
            elapsed = time.monotonic() - t0
            if r.status_code != 200 or elapsed >= 2:
                bad.append(f"probe {i}: HTTP {r.status_code} after {elapsed:.2f}s")
        except requests.RequestException as e:
            bad.append(f"probe {i}: no answer within 2 s ({type(e).__name__})")
        time.sleep(pause)
    return bad


def test_health_answers_while_thousands_of_slow_connections_are_open(own_server, many_fds):
    # long timeouts: the connections must stay open while /health is probed
    srv = own_server.start(env={k: "120" for k in TIMEOUT_ENV})
    flood = Flood(srv, many_fds)
    drip = Drip(srv)
    try:
        bad = probe_health(srv, 10)
        assert not bad, (f"GET /health with {many_fds} slow connections open:\n  " + "\n  ".join(bad)
                         + f"\n--- server log ---\n{srv.log_tail(20)}")
        assert srv.proc.poll() is None, "the server died under the connection flood"
    finally:
        drip.close()
        flood.close()
    assert not probe_health(srv, 2), "GET /health fails after the flood was closed"


def test_server_closes_idle_and_half_sent_connections(own_server, many_fds):
    srv = own_server.start(env={k: "2" for k in TIMEOUT_ENV})
    allowed = 6.0  # 3x the configured timeouts
    flood = Flood(srv, many_fds)
    drip = Drip(srv)
    try:
        sel = selectors.DefaultSelector()
        for s in flood.socks:
            sel.register(s, selectors.EVENT_READ)
        loop_start = time.monotonic()
        closed: Dict[int, float] = {}
        end = max(max(flood.opened.values()), drip.opened) + allowed + 1.0
        while (len(closed) < len(flood.socks) or drip.still_open()) and time.monotonic() < end:
            for key, _ in sel.select(timeout=0.2):
                s = key.fileobj
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:  # reset counts as closed
                    data = b""
                if not data:  # closed by the server (a 408 or the like before it is fine)
                    closed[s.fileno()] = time.monotonic()
                    sel.unregister(s)
        sel.close()

        late: Dict[str, int] = {}
        for s in flood.socks:
            fd = s.fileno()
            at = closed.get(fd)
            # sockets the server closed while the flood was still being opened are seen at loop start
            if at is None or at > max(flood.opened[fd] + allowed, loop_start + 0.5):
                late[flood.kind[fd]] = late.get(flood.kind[fd], 0) + 1
        # the drip thread notices a close within ~0.5 s
        drip_late = sum(1 for i in range(len(drip.socks))
                        if drip.closed_at.get(i, float("inf")) > drip.opened + allowed + 0.6)
        per_kind = {k: KINDS.count(k) * len(flood.socks) // len(KINDS) for k in sorted(set(KINDS))}
        assert not late and not drip_late, (
            f"with {TIMEOUT_ENV[0]}=2 and {TIMEOUT_ENV[1]}=2 the server must close connections that stay "
            f"idle or never finish their request head within {allowed:.0f}s; still open (of ~{per_kind}): "
            f"{late or 'none'}; slowloris connections (a header byte every 0.5 s) still open: "
            f"{drip_late}/{len(drip.socks)}")
        assert not probe_health(srv, 2), "GET /health fails after the server closed the slow connections"
    finally:
        drip.close()
        flood.close()


# ==============================================================================================
# c. Permissions of the data dir
# ==============================================================================================

def mode_violations(root: Path) -> List[str]:
    """Everything under root (root included) that is not 0700 (dirs) / 0600 (files); sockets,
    FIFOs and symlinks are skipped."""
    out = []

    def check(p: Path):
        try:
            st = p.lstat()
        except FileNotFoundError:  # e.g. a SQLite journal that came and went
            return
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISDIR(st.st_mode):
            if mode != 0o700:
                out.append(f"dir  {p.relative_to(root.parent)}: {mode:04o} (want 0700)")
        elif stat.S_ISREG(st.st_mode):
            if mode != 0o600:
                out.append(f"file {p.relative_to(root.parent)}: {mode:04o} (want 0600)")

    check(root)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            check(Path(dirpath) / name)
    return sorted(out)


def write_some_state(srv: h.RolestackServer) -> None:
    """An object (simple and multipart), an in-progress upload, a RAM user: blobs, the database."""
    b = oss_bucket(srv.endpoint, srv.root, f"perm-{uuid.uuid4().hex[:10]}")
    b.create_bucket()
    b.put_object("one", b"x" * 1000)
    upload_id = b.init_multipart_upload("multi").upload_id
    parts = [oss2.models.PartInfo(n, b.upload_part("multi", upload_id, n, bytes([n]) * (100 * KiB)).etag)
             for n in (1, 2)]
    b.complete_multipart_upload("multi", upload_id, parts)
    b.upload_part("pending", b.init_multipart_upload("pending").upload_id, 1, b"p" * (100 * KiB))
    h.RpcApi("v3", srv.endpoint, srv.root["AccessKeyId"], srv.root["AccessKeySecret"]).call(
        "CreateUser", {"UserName": h.unique_name("perm")})


def test_data_dir_is_private(own_server):
    srv = own_server.start(umask=0o022)
    write_some_state(srv)
    bad = mode_violations(srv.data_dir)
    assert not bad, "with umask 022, the running server's data dir has loose modes:\n  " + "\n  ".join(bad)
    assert (srv.data_dir / "blobs").is_dir()
    srv.stop()
    bad = mode_violations(srv.data_dir)
    assert not bad, "after a clean stop, loose modes in the data dir:\n  " + "\n  ".join(bad)


def loosen(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            p = Path(dirpath) / f
            if stat.S_ISREG(p.lstat().st_mode):
                os.chmod(p, 0o644)


def test_existing_loose_data_dir_is_tightened(own_server, tmp_path):
    data = tmp_path / "preexisting"
    data.mkdir()
    os.chmod(data, 0o755)
    notes = data / "notes.txt"
    notes.write_text("left here by the operator\n")
    os.chmod(notes, 0o644)

    srv = own_server.start(data_dir=data, umask=0o022)
    write_some_state(srv)
    bad = mode_violations(data)
    assert not bad, "a data dir created beforehand (0755, with a 0644 file) was not tightened:\n  " + "\n  ".join(bad)

    # a data dir left with loose modes (e.g. by an older version, or a copy): tightened at start
    srv.stop()
    loosen(data)
    own_server.restart(srv)
    bad = mode_violations(data)
    assert not bad, "a data dir loosened to 0755/0644 between runs was not tightened at start:\n  " + "\n  ".join(bad)


# ==============================================================================================
# d. RPC POST with every parameter in the form body
# ==============================================================================================

@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "application/x-www-form-urlencoded; charset=UTF-8"])
@pytest.mark.parametrize("action,version", [("ListRoles", h.RAM_VERSION), ("GetCallerIdentity", h.STS_VERSION)])
def test_rpc_post_with_action_only_in_form_body(server, root, content_type, action, version):
    p = h.v1_params(root["AccessKeyId"], action, version)
    p["Signature"] = h.v1_signature(p, root["AccessKeySecret"], "POST")
    body = "&".join(f"{h.pct(k)}={h.pct(v)}" for k, v in p.items())
    r = requests.post(f"{server.base_url}/", data=body.encode(), headers={"Content-Type": content_type}, timeout=30)
    assert r.status_code == 200, f"form-body RPC POST answered {r.status_code}: {r.text[:300]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    j = r.json()
    h.assert_request_id(j)
    if action == "ListRoles":
        h.wrapped_list(j, "Roles", "Role")
    else:
        assert j["AccountId"] == root["AccountId"], j


def test_rpc_post_form_body_errors_are_rpc_errors(server, root):
    """A form-body call with a wrong signature is still judged by the RPC gateway (JSON error)."""
    p = h.v1_params(root["AccessKeyId"], "ListRoles")
    p["Signature"] = h.v1_signature(p, root["AccessKeySecret"] + "x", "POST")
    body = "&".join(f"{h.pct(k)}={h.pct(v)}" for k, v in p.items())
    r = requests.post(f"{server.base_url}/", data=body.encode(),
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert r.status_code in (400, 403), f"{r.status_code}: {r.text[:300]}"
    j = r.json()
    assert j.get("Code") == "SignatureDoesNotMatch", j
    h.assert_request_id(j)


# ==============================================================================================
# e. V4 presigned URL longer than 7 days
# ==============================================================================================

def test_v4_presigned_url_longer_than_seven_days_is_refused(bucket, server):
    b4 = oss_bucket(server.endpoint, server.root, bucket.bucket_name, "v4")
    b4.put_object("week.txt", b"seven days")
    url = b4.sign_url("GET", "week.txt", 604800)
    assert "x-oss-expires=604800" in url
    r = requests.get(url, timeout=30)
    assert r.status_code == 200 and r.content == b"seven days", f"{r.status_code}: {r.text[:300]}"
    url = b4.sign_url("GET", "week.txt", 604801)
    assert "x-oss-expires=604801" in url
    r = requests.get(url, timeout=30)
    assert r.status_code == 403, f"a V4 URL valid 604801 s was answered {r.status_code}: {r.text[:300]}"
    assert b"<Code>AccessDenied</Code>" in r.content, r.text[:300]
