"""Requests refused from their headers alone while their body is still on the way.

rolestack answers many requests before it reads their body: a PUT with too many tags, a bad
signature, an unknown AccessKey, a denied caller. The client is then still sending the body;
the server must read (and discard) that body, up to a bound, so that the client can finish
sending and read the error, and the connection stays usable. Were the connection closed with
the body unread, the kernel would answer the client's next bytes with a reset and the client
would see a dropped connection (oss2 status -2) instead of the error (see ARCHITECTURE.md,
robustness). A body declared larger than the bound is answered with `Connection: close`.

Raw sockets check the wire deterministically: the error arrives before the body is sent, the
body is then drained and the same connection answers the next request (before the fix the server
closed the connection without `Connection: close`, and sending the body failed with a broken
pipe on every run); a body beyond the bound gets `Connection: close`. Official clients (oss2,
boto3) loop on refusals with bodies larger than the socket buffers and with one byte; their
failure before the fix was a race (a reset, or a pooled connection the server was closing) that
these loops did not hit reliably, so they guard the client-side outcome, not the reproduction.
ali-oss does reproduce it on every run before the fix: tests/node/early_refusal.test.js.
Only loopback is contacted."""

from __future__ import annotations

import socket
import uuid

import boto3
import oss2
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "cn-hangzhou"
MiB = 1024 * 1024
# Larger than loopback's socket buffers, so the client is still sending when the answer comes.
BIG = b"r" * (4 * MiB)
ROUNDS = 12
# The server's drain bound (connections::Limits::unread_body_limit).
DRAIN_LIMIT = 16 * MiB


@pytest.fixture
def bucket(server):
    auth = oss2.Auth(server.root["AccessKeyId"], server.root["AccessKeySecret"])
    b = oss2.Bucket(auth, f"http://{server.endpoint}", f"er-{uuid.uuid4().hex[:12]}", region=REGION)
    b.create_bucket()
    yield b
    b.delete_object("k")  # the only key the tests write
    b.delete_bucket()


def oss_error(fn) -> oss2.exceptions.OssError:
    with pytest.raises(oss2.exceptions.OssError) as info:
        fn()
    return info.value


@pytest.mark.parametrize("body", [BIG, b"x"], ids=["4MiB", "1B"])
def test_oss2_refused_put_reads_the_error(server, bucket, body):
    too_many_tags = "&".join(f"a{i}=b" for i in range(11))
    wrong_secret = oss2.Bucket(oss2.Auth(server.root["AccessKeyId"], "not-the-secret"), bucket.endpoint,
                               bucket.bucket_name, region=REGION)
    unknown_key = oss2.Bucket(oss2.AuthV4("LTAIunknownunknown00", "secret"), bucket.endpoint,
                              bucket.bucket_name, region=REGION)
    anonymous = oss2.Bucket(oss2.AnonymousAuth(), bucket.endpoint, bucket.bucket_name, region=REGION)
    for _ in range(ROUNDS):
        e = oss_error(lambda: bucket.put_object("k", body, headers={"x-oss-tagging": too_many_tags}))
        assert (e.status, e.code) == (400, "InvalidTag"), e
        e = oss_error(lambda: wrong_secret.put_object("k", body))
        assert (e.status, e.code) == (403, "SignatureDoesNotMatch"), e
        e = oss_error(lambda: unknown_key.put_object("k", body))
        assert (e.status, e.code) == (403, "InvalidAccessKeyId"), e
        e = oss_error(lambda: anonymous.put_object("k", body))
        assert (e.status, e.code) == (403, "AccessDenied"), e
        e = oss_error(lambda: bucket.append_object("k", 5, body))
        assert e.status in (404, 409), e
    # The same session's connections still work.
    bucket.put_object("k", body)
    assert bucket.get_object("k").read() == body


def test_boto3_refused_put_reads_the_error(server, bucket):
    cfg = Config(signature_version="s3v4", region_name=REGION, retries={"max_attempts": 1},
                 s3={"addressing_style": "path"})
    s3 = boto3.client("s3", endpoint_url=f"http://{server.endpoint}", aws_access_key_id=server.root["AccessKeyId"],
                      aws_secret_access_key="not-the-secret", config=cfg)
    for _ in range(ROUNDS):
        with pytest.raises(ClientError) as info:
            s3.put_object(Bucket=bucket.bucket_name, Key="k", Body=BIG)
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert info.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


# -- the wire --------------------------------------------------------------------------------------

def read_response(sock: socket.socket, buf: bytearray) -> tuple[int, dict, bytes]:
    """Reads one response with a Content-Length body from `sock` (leftover bytes stay in `buf`)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection before answering (got {bytes(buf)!r})"
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    body = bytearray(rest)
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection in the middle of a response"
        body += chunk
    buf[:] = body[length:]
    return status, headers, bytes(body[:length])


def refused_put(host: str, path: str, length: int, authorization: str) -> bytes:
    return (f"PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {length}\r\n"
            f"Authorization: {authorization}\r\nContent-Type: application/octet-stream\r\n\r\n").encode()


# Refused from the headers (an unknown AccessKey): OSS's header signature and S3's SigV4. (The
# RPC gateway reads a POST's body before it answers, so it has no early refusal.)
REFUSALS = {
    "oss": ("/some-bucket/key", "OSS LTAIunknownunknown00:c2lnbmF0dXJl"),
    "s3": ("/some-bucket/key", "AWS4-HMAC-SHA256 Credential=LTAIunknownunknown00/20260101/cn-hangzhou/s3/aws4_request, "
           "SignedHeaders=host, Signature=" + "0" * 64),
}


@pytest.mark.parametrize("api", sorted(REFUSALS))
def test_the_error_comes_first_and_the_connection_stays(server, api):
    path, authorization = REFUSALS[api]
    body = b"z" * (2 * MiB)
    with socket.create_connection(tuple(server.endpoint.rsplit(":", 1)), timeout=30) as sock:
        buf = bytearray()
        for _ in range(3):
            sock.sendall(refused_put(server.endpoint, path, len(body), authorization))
            # The answer comes from the headers alone, before any byte of the body is sent.
            status, headers, answer = read_response(sock, buf)
            assert status == 403 and b"<Code>" in answer, (status, answer)
            assert headers.get("connection", "").lower() != "close", headers
            # The server reads the body it did not need, and the connection serves the next request.
            sock.sendall(body)
        sock.sendall(f"GET /health HTTP/1.1\r\nHost: {server.endpoint}\r\n\r\n".encode())
        status, _, answer = read_response(sock, buf)
        assert (status, answer) == (200, b"ok")


def test_a_body_beyond_the_bound_is_not_read(server):
    path, authorization = REFUSALS["oss"]
    with socket.create_connection(tuple(server.endpoint.rsplit(":", 1)), timeout=30) as sock:
        sock.sendall(refused_put(server.endpoint, path, DRAIN_LIMIT + 1, authorization))
        status, headers, answer = read_response(sock, bytearray())
        assert status == 403 and b"<Code>" in answer, (status, answer)
        # Announced: the server will not read that much, and closes the connection after the answer.
        assert headers.get("connection", "").lower() == "close", headers
        sock.settimeout(30)
        assert sock.recv(1) == b""


def test_a_body_waiting_for_100_continue_is_not_asked_for(server):
    path, authorization = REFUSALS["oss"]
    head = refused_put(server.endpoint, path, 1024, authorization).replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n")
    with socket.create_connection(tuple(server.endpoint.rsplit(":", 1)), timeout=30) as sock:
        sock.sendall(head)
        # The final answer, not 100 Continue, and the client is told not to send the body here.
        status, headers, answer = read_response(sock, bytearray())
        assert status == 403 and b"<Code>" in answer, (status, answer)
        assert headers.get("connection", "").lower() == "close", headers


def test_a_chunked_body_is_read_only_up_to_the_bound(server):
    path, authorization = REFUSALS["oss"]
    head = refused_put(server.endpoint, path, 0, authorization).replace(b"Content-Length: 0", b"Transfer-Encoding: chunked")
    chunk = b"%x\r\n%s\r\n" % (MiB, b"c" * MiB)
    with socket.create_connection(tuple(server.endpoint.rsplit(":", 1)), timeout=30) as sock:
        sock.sendall(head)
        status, _, answer = read_response(sock, bytearray())
        assert status == 403 and b"<Code>" in answer, (status, answer)
        # Its length unknown, the body is read on, but past the bound the server stops reading
        # and closes the connection: sending four times the bound fails before the end.
        with pytest.raises(OSError):
            for _ in range(4 * DRAIN_LIMIT // MiB):
                sock.sendall(chunk)
