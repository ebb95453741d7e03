"""Replay protection across restarts (ARCHITECTURE.md, "Replay protection").

A signed RPC request carries a SignatureNonce; the server accepts each (AccessKey, nonce) once
while its Timestamp is inside the 15-minute window. Reads do not write their nonce to the store
synchronously (no fsync per request), so these tests check what the design promises: a replay is
refused after a clean stop, after kill -9 right after the request was answered, and after a kill
-9 once the journal had time to flush — with the same answer on the PostgreSQL store (where
nonces are checked in the shared database itself).
"""

from __future__ import annotations

import signal
import time
import uuid

import rshelpers as h

REFUSED = {"SignatureNonceUsed", "InvalidTimeStamp.Expired"}


def _root(srv):
    c = srv.credentials()
    return c["AccessKeyId"], c["AccessKeySecret"]


def _send(srv, ak, sk, action, nonce, timestamp, extra=None):
    return h.raw_v1(srv.endpoint, ak, sk, action, extra=extra, nonce=nonce, timestamp=timestamp)


def _kill9(srv):
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(timeout=15)
    srv.proc = None
    srv.start()


def test_replay_refused_after_clean_restart(fresh_server):
    ak, sk = _root(fresh_server)
    read = (uuid.uuid4().hex, h.utc_timestamp())
    # Signed ten minutes ahead: still inside the window, so its nonce must outlive "now + 15 min".
    ahead = (uuid.uuid4().hex, h.utc_timestamp(10 * 60))
    for nonce, ts in (read, ahead):
        r = _send(fresh_server, ak, sk, "ListRoles", nonce, ts)
        assert r.status_code == 200, r.text
    fresh_server.restart()
    for nonce, ts in (read, ahead):
        again = _send(fresh_server, ak, sk, "ListRoles", nonce, ts)
        assert again.status_code == 400, again.text
        assert again.json()["Code"] == "SignatureNonceUsed", again.text
    # A new signature still works.
    assert _send(fresh_server, ak, sk, "ListRoles", uuid.uuid4().hex, h.utc_timestamp()).status_code == 200


def test_replay_refused_after_kill9_at_once(fresh_server):
    """Killed right after answering: the read's nonce may not be in the store yet; the restart
    must still refuse the replay (the restart epoch), and take new requests."""
    ak, sk = _root(fresh_server)
    user = h.unique_name("replay")
    reads = [(uuid.uuid4().hex, h.utc_timestamp()) for _ in range(20)]
    for nonce, ts in reads:
        assert _send(fresh_server, ak, sk, "ListRoles", nonce, ts).status_code == 200
    write = (uuid.uuid4().hex, h.utc_timestamp())
    assert _send(fresh_server, ak, sk, "CreateUser", *write, extra={"UserName": user}).status_code == 200
    _kill9(fresh_server)
    for nonce, ts in reads:
        again = _send(fresh_server, ak, sk, "ListRoles", nonce, ts)
        assert again.status_code == 400 and again.json()["Code"] in REFUSED, again.text
    again = _send(fresh_server, ak, sk, "CreateUser", *write, extra={"UserName": user})
    assert again.status_code == 400 and again.json()["Code"] in REFUSED, again.text
    fresh = _send(fresh_server, ak, sk, "GetUser", uuid.uuid4().hex, h.utc_timestamp(), extra={"UserName": user})
    assert fresh.status_code == 200, fresh.text


def test_replay_refused_after_kill9_once_flushed_and_after_an_unclean_start(fresh_server):
    """Requests answered by a server that itself started after a crash are journalled as usual:
    after its own kill -9 (with time to flush) their replays are refused too."""
    ak, sk = _root(fresh_server)
    _kill9(fresh_server)
    signed = [(uuid.uuid4().hex, h.utc_timestamp()) for _ in range(5)]
    for nonce, ts in signed:
        r = _send(fresh_server, ak, sk, "ListRoles", nonce, ts)
        assert r.status_code == 200, r.text
    time.sleep(1.0)  # several journal rounds
    _kill9(fresh_server)
    for nonce, ts in signed:
        again = _send(fresh_server, ak, sk, "ListRoles", nonce, ts)
        assert again.status_code == 400 and again.json()["Code"] in REFUSED, again.text
    fresh_server.restart()
    for nonce, ts in signed:
        again = _send(fresh_server, ak, sk, "ListRoles", nonce, ts)
        assert again.status_code == 400 and again.json()["Code"] in REFUSED, again.text


def test_concurrent_replays_accept_exactly_one(fresh_server):
    """The same signed request sent from many threads at once: exactly one 200."""
    from concurrent.futures import ThreadPoolExecutor

    ak, sk = _root(fresh_server)
    for action in ("ListRoles", "CreateUser"):
        nonce, ts = uuid.uuid4().hex, h.utc_timestamp()
        extra = {"UserName": h.unique_name("race")} if action == "CreateUser" else None
        with ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(lambda _: _send(fresh_server, ak, sk, action, nonce, ts, extra).status_code, range(32)))
        assert codes.count(200) == 1, (action, codes)
        assert set(codes) <= {200, 400}, codes
