"""What browser applications of OSS rely on, through oss2 (V1 and V4), boto3 and plain HTTP: bucket
CORS rules (Put/Get/DeleteBucketCors, the preflight `OPTIONS`, the CORS headers of ordinary
answers), hotlink protection (Put/GetBucketReferer, checked for anonymous requests and presigned
URLs) and upload callbacks (`x-oss-callback`: OSS POSTs to the application and relays its answer;
rolestack calls back only to loopback). The Chromium side is tests/browser/oss_cors.test.js."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import urllib.parse
import uuid

import oss2
import pytest
import requests

import rshelpers as h

REGION = "cn-hangzhou"
ORIGIN = "http://127.0.0.1:1"  # an origin is only a string here; nothing connects to it


def b64json(d) -> str:
    return base64.b64encode(json.dumps(d).encode()).decode()


@pytest.fixture(scope="module")
def ep(server):
    return server.endpoint


@pytest.fixture(params=["v1", "v4"])
def sig(request):
    return request.param


@pytest.fixture
def bkt(ep, root, sig):
    auth = oss2.AuthV4(root["AccessKeyId"], root["AccessKeySecret"]) if sig == "v4" else oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"])
    b = oss2.Bucket(auth, f"http://{ep}", f"bf-{uuid.uuid4().hex[:12]}", region=REGION)
    b.create_bucket()
    yield b
    for obj in oss2.ObjectIterator(b):
        b.delete_object(obj.key)
    b.delete_bucket()


def oss_error(fn):
    with pytest.raises(oss2.exceptions.OssError) as info:
        fn()
    return info.value


# -- CORS ----------------------------------------------------------------------------------------

def test_cors_rules_round_trip(bkt):
    e = oss_error(bkt.get_bucket_cors)
    assert (e.status, e.code) == (404, "NoSuchCORSConfiguration")
    rule = oss2.models.CorsRule(allowed_origins=["https://*.example.com", ORIGIN], allowed_methods=["GET", "PUT"],
                                allowed_headers=["x-oss-*", "content-type"], expose_headers=["ETag"], max_age_seconds=100)
    bkt.put_bucket_cors(oss2.models.BucketCors([rule], response_vary=True))
    got = bkt.get_bucket_cors()
    assert len(got.rules) == 1 and got.response_vary is True
    r = got.rules[0]
    assert (r.allowed_origins, r.allowed_methods, r.allowed_headers, r.expose_headers, r.max_age_seconds) == \
        (["https://*.example.com", ORIGIN], ["GET", "PUT"], ["x-oss-*", "content-type"], ["ETag"], 100)
    bad = oss2.models.CorsRule(allowed_origins=["*"], allowed_methods=["PATCH"])
    e = oss_error(lambda: bkt.put_bucket_cors(oss2.models.BucketCors([bad])))
    assert (e.status, e.code) == (400, "InvalidArgument")
    bkt.delete_bucket_cors()
    assert oss_error(bkt.get_bucket_cors).code == "NoSuchCORSConfiguration"


def test_preflight_and_response_headers(bkt, ep):
    bkt.put_object("page.txt", b"hi")
    url = f"http://{ep}/{bkt.bucket_name}/page.txt"
    pre = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
           "Access-Control-Request-Headers": "Content-Type, X-Oss-Security-Token"}
    r = requests.options(url, headers=pre)
    assert r.status_code == 403 and "<Code>AccessForbidden</Code>" in r.text  # no rules at all
    rule = oss2.models.CorsRule(allowed_origins=["https://*.example.com"], allowed_methods=["GET", "PUT"],
                                allowed_headers=["x-oss-*", "content-type"], expose_headers=["ETag", "x-oss-request-id"],
                                max_age_seconds=100)
    bkt.put_bucket_cors(oss2.models.BucketCors([rule]))
    r = requests.options(url, headers=pre)
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert r.headers["Access-Control-Allow-Headers"].lower() == "content-type, x-oss-security-token"
    assert r.headers["Access-Control-Expose-Headers"] == "ETag, x-oss-request-id"
    assert r.headers["Access-Control-Max-Age"] == "100"
    for refused in [dict(pre, Origin="https://example.org"), dict(pre, **{"Access-Control-Request-Method": "DELETE"}),
                    dict(pre, **{"Access-Control-Request-Headers": "Authorization"})]:
        r = requests.options(url, headers=refused)
        assert r.status_code == 403 and "<Code>AccessForbidden</Code>" in r.text, refused
    assert requests.options(url, headers={"Access-Control-Request-Method": "GET"}).status_code in (400, 403)
    # Ordinary requests with an Origin get the headers; the answer itself is unchanged.
    got = bkt.get_object("page.txt", headers={"Origin": "https://app.example.com"})
    assert got.read() == b"hi"
    assert got.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "ETag" in got.headers["Access-Control-Expose-Headers"]
    got = bkt.get_object("page.txt", headers={"Origin": "https://example.org"})
    assert "Access-Control-Allow-Origin" not in got.headers


def test_cors_through_boto3(ep, root, bkt):
    import boto3
    from botocore.config import Config
    s3 = boto3.client("s3", endpoint_url=f"http://{ep}", aws_access_key_id=root["AccessKeyId"],
                      aws_secret_access_key=root["AccessKeySecret"], region_name=REGION,
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    s3.put_bucket_cors(Bucket=bkt.bucket_name, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["*"], "MaxAgeSeconds": 5}]})
    rules = s3.get_bucket_cors(Bucket=bkt.bucket_name)["CORSRules"]
    assert rules[0]["AllowedOrigins"] == ["*"] and rules[0]["AllowedMethods"] == ["GET"]
    assert bkt.get_bucket_cors().rules[0].allowed_headers == ["*"]
    s3.delete_bucket_cors(Bucket=bkt.bucket_name)
    assert oss_error(bkt.get_bucket_cors).code == "NoSuchCORSConfiguration"


# -- referer -------------------------------------------------------------------------------------

def test_referer_rules(bkt, ep):
    got = bkt.get_bucket_referer()
    assert got.allow_empty_referer is True and got.referers == []
    bkt.put_object("pic.png", b"png", headers={"x-oss-object-acl": "public-read"})
    url = f"http://{ep}/{bkt.bucket_name}/pic.png"
    assert requests.get(url).status_code == 200
    bkt.put_bucket_referer(oss2.models.BucketReferer(False, ["http://*.example.com", "https://app.test"],
                                                     black_referers=["http://bad.example.com"]))
    got = bkt.get_bucket_referer()
    assert (got.allow_empty_referer, got.referers, got.black_referers) == \
        (False, ["http://*.example.com", "https://app.test"], ["http://bad.example.com"])

    def anonymous(referer=None):
        return requests.get(url, headers={"Referer": referer} if referer else {})
    assert anonymous("http://www.example.com?x=1").content == b"png"  # the query string is not matched
    assert anonymous("http://www.example.com/page").status_code == 403  # the path is (TruncatePath off)
    assert anonymous("https://app.test").status_code == 200
    for referer, ec in [(None, "0003-00000501"), ("http://bad.example.com", "0003-00000502"), ("http://other.test", "0003-00000503")]:
        r = anonymous(referer)
        assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text, referer
        assert f"<EC>{ec}</EC>" in r.text and "referer policy" in r.text
    # Presigned URLs are checked too; header-signed requests are not.
    signed = bkt.sign_url("GET", "pic.png", 300)
    assert requests.get(signed).status_code == 403
    assert requests.get(signed, headers={"Referer": "http://cdn.example.com"}).content == b"png"
    assert bkt.get_object("pic.png").read() == b"png"
    e = oss_error(lambda: bkt.put_bucket_referer(oss2.models.BucketReferer(True, [""])))
    assert e.code in ("InvalidArgument", "MalformedXML")


# -- upload callbacks ---------------------------------------------------------------------------------

class _App(http.server.BaseHTTPRequestHandler):
    answers: list = []
    seen: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        status, payload = type(self).answers.pop(0) if type(self).answers else (200, b'{"Status":"OK"}')
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def _serving(srv):
    """Runs `srv` (an `_App` server) in a thread with a fresh record until the test ends."""
    _App.answers, _App.seen = [], []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def app():
    yield from _serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), _App))


def test_callback_relayed(bkt, app):
    port = app.server_address[1]
    cb = {"callbackUrl": f"http://127.0.0.1:{port}/uploaded?from=oss", "callbackHost": "app.test",
          "callbackBody": "bucket=${bucket}&object=${object}&size=${size}&etag=${etag}&mime=${mimeType}&who=${x:user}",
          "callbackBodyType": "application/x-www-form-urlencoded"}
    headers = {"x-oss-callback": b64json(cb), "x-oss-callback-var": b64json({"x:user": "ada lovelace"}),
               "Content-Type": "text/plain"}
    r = bkt.put_object("dir/cb file.txt", b"12345", headers=headers)
    assert r.status == 200
    assert json.loads(r.resp.read()) == {"Status": "OK"}
    path, sent_headers, body = _App.seen[0]
    assert path == "/uploaded?from=oss" and sent_headers["host"] == "app.test"
    assert sent_headers["content-type"] == "application/x-www-form-urlencoded"
    form = dict(p.split("=", 1) for p in body.decode().split("&"))
    assert form["bucket"] == bkt.bucket_name and form["object"] == "dir%2Fcb+file.txt" and form["size"] == "5"
    assert form["mime"] == "text%2Fplain" and form["who"] == "ada+lovelace" and len(form["etag"]) == 32
    assert bkt.get_object("dir/cb file.txt").read() == b"12345"

    # JSON bodies, and a multipart upload completed with a callback.
    cb_json = {"callbackUrl": f"http://localhost:{port}/mp", "callbackBody": '{"object":"${object}","size":${size}}',
               "callbackBodyType": "application/json"}
    up = bkt.init_multipart_upload("mp.bin").upload_id
    part = bkt.upload_part("mp.bin", up, 1, b"abc")
    r = bkt.complete_multipart_upload("mp.bin", up, [oss2.models.PartInfo(1, part.etag)],
                                      headers={"x-oss-callback": b64json(cb_json)})
    assert r.status == 200
    assert json.loads(_App.seen[1][2]) == {"object": "mp.bin", "size": 3}


def verify_like_oss_sample(path, headers, body):
    """What OSS's sample callback server does: fetch the PEM public key from the base64 URL in
    `x-oss-pub-key-url`, then check the base64 `authorization`, MD5withRSA (PKCS#1 v1.5) over the
    URL-decoded path, `?` + the query as sent, a newline and the body."""
    from Crypto.Hash import MD5
    from Crypto.PublicKey import RSA
    from Crypto.Signature import pkcs1_15

    key_url = base64.b64decode(headers["x-oss-pub-key-url"]).decode()
    pem = requests.get(key_url, timeout=10).text
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    raw_path, _, query = path.partition("?")
    signed = urllib.parse.unquote(raw_path) + ("?" + query if query else "")
    digest = MD5.new(signed.encode() + b"\n" + body)
    pkcs1_15.new(RSA.import_key(pem)).verify(digest, base64.b64decode(headers["authorization"]))  # raises if wrong
    return key_url


def test_callback_signed(bkt, app, server):
    port = app.server_address[1]
    cb = {"callbackUrl": f"http://127.0.0.1:{port}/up%20loaded/x?from=oss&a=%20b", "callbackBody": "object=${object}&size=${size}"}
    assert bkt.put_object("signed.txt", b"12345", headers={"x-oss-callback": b64json(cb)}).status == 200
    cb2 = dict(cb, callbackUrl=f"http://127.0.0.1:{port}/plain", callbackBody='{"o":"${object}"}', callbackBodyType="application/json")
    assert bkt.put_object("signed2.txt", b"6", headers={"x-oss-callback": b64json(cb2)}).status == 200
    (path, headers, body), (path2, headers2, body2) = _App.seen
    assert path == "/up%20loaded/x?from=oss&a=%20b"
    key_url = verify_like_oss_sample(path, headers, body)
    # The key is served by rolestack where the upload was sent, and is the same for every callback.
    assert key_url == f"http://{server.endpoint}/callback_pub_key_v1.pem"
    assert verify_like_oss_sample(path2, headers2, body2) == key_url
    # A signature is bound to its path and body.
    with pytest.raises(ValueError):
        verify_like_oss_sample(path, headers, body + b"&size=9")
    with pytest.raises(ValueError):
        verify_like_oss_sample("/other", headers, body)


@pytest.fixture
def https_app(tmp_path):
    """The same application behind TLS with a self-signed certificate no one trusts; records the
    SNI name each handshake carried."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "callback-app.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    sni = []
    ctx.sni_callback = lambda sock, server_name, context: sni.append(server_name)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _App)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.sni = sni
    yield from _serving(srv)


def test_callback_https(bkt, https_app):
    """https callbacks: the certificate is not checked (self-signed here), the request is signed
    like any other, and the server name is sent only with callbackSNI."""
    port = https_app.server_address[1]
    for sni in (False, True):
        cb = {"callbackUrl": f"https://localhost:{port}/secure?sni={sni}", "callbackBody": "object=${object}", "callbackSNI": sni}
        r = bkt.put_object(f"tls-{sni}.txt", b"x", headers={"x-oss-callback": b64json(cb)})
        assert r.status == 200 and json.loads(r.resp.read()) == {"Status": "OK"}
    assert [p for p, _, _ in _App.seen] == ["/secure?sni=False", "/secure?sni=True"]
    for path, headers, body in _App.seen:
        verify_like_oss_sample(path, headers, body)
    assert https_app.sni == [None, "localhost"]
    # Plain http to the TLS port is answered with no HTTP at all: 203 CallbackFailed.
    cb = {"callbackUrl": f"http://127.0.0.1:{port}/", "callbackBody": "o=${object}"}
    assert bkt.put_object("plain.txt", b"y", headers={"x-oss-callback": b64json(cb)}).status == 203


def test_callback_failures(bkt, app):
    port = app.server_address[1]
    cb = {"callbackUrl": f"http://127.0.0.1:{port}/", "callbackBody": "o=${object}"}
    _App.answers = [(500, b"oops"), (200, b"not json")]
    for message in ["Error status : 500.", "Response body is not valid json format."]:
        r = bkt.put_object("failed.txt", b"x", headers={"x-oss-callback": b64json(cb)})
        assert r.status == 203
        text = r.resp.read().decode()
        assert "<Code>CallbackFailed</Code>" in text and message in text
        assert bkt.get_object("failed.txt").read() == b"x"  # stored all the same
    # Anything but loopback is refused without a packet: 203, object stored.
    for url in ["http://cbsrv.oss.demo.com", "http://10.1.2.3/", "http://100.100.100.200/"]:
        r = bkt.put_object("elsewhere.txt", b"y", headers={"x-oss-callback": b64json(dict(cb, callbackUrl=url))})
        assert r.status == 203 and "<Code>CallbackFailed</Code>" in r.resp.read().decode()
    assert len(_App.seen) == 2
    e = oss_error(lambda: bkt.put_object("bad.txt", b"z", headers={"x-oss-callback": "%%%"}))
    assert (e.status, e.code) == (400, "InvalidArgument")
    assert not bkt.object_exists("bad.txt")
    # The presigned form (oss2's own test_sign_url_with_callback).
    params = {"callback": b64json(dict(cb, callbackUrl="http://cbsrv.oss.demo.com")),
              "callback-var": b64json({"x:my_var1": "my_val1"})}
    url = bkt.sign_url("PUT", "signed-cb.txt", 60, params=params)
    assert requests.put(url).status_code == 203
