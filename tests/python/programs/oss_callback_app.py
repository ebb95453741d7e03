"""An application inside an instance that receives OSS upload callbacks: it listens on the
instance's own loopback, uploads with the role's credentials from the metadata service and a
callback to http://127.0.0.1:<its port>/cb, and prints what OSS answered, what it received, and
whether each callback's signature verifies the way OSS's sample callback server checks it (the
public key fetched from the URL in x-oss-pub-key-url, from inside the instance).
Usage: oss_callback_app.py <role> <bucket>"""

import base64
import http.server
import json
import os
import sys
import threading
import urllib.parse
import urllib.request

from Crypto.Hash import MD5
from Crypto.PublicKey import RSA
from Crypto.Signature import pkcs1_15

role, bucket_name = sys.argv[1], sys.argv[2]
seen = []
signatures = []


def verify(path, headers, body):
    key_url = base64.b64decode(headers["x-oss-pub-key-url"]).decode()
    with urllib.request.urlopen(key_url, timeout=10) as r:
        pem = r.read()
    raw_path, _, query = path.partition("?")
    signed = urllib.parse.unquote(raw_path).encode() + (b"?" + query.encode() if query else b"") + b"\n" + body
    try:
        pkcs1_15.new(RSA.import_key(pem)).verify(MD5.new(signed), base64.b64decode(headers["authorization"]))
        return "ok"
    except ValueError:
        return "bad"


class App(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        seen.append(body.decode())
        signatures.append(verify(self.path, self.headers, body))
        body = b'{"from":"inside the instance"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), App)
threading.Thread(target=srv.serve_forever, daemon=True).start()
with urllib.request.urlopen(f"http://100.100.100.200/latest/meta-data/ram/security-credentials/{role}") as r:
    creds = json.load(r)

import oss2
bucket = oss2.Bucket(oss2.StsAuth(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"]),
                     os.environ["ROLESTACK_ENDPOINT"], bucket_name)
cb = {"callbackUrl": f"http://127.0.0.1:{srv.server_address[1]}/cb", "callbackBody": "object=${object}&size=${size}"}
r = bucket.put_object("from-instance.txt", b"hello", headers={"x-oss-callback": base64.b64encode(json.dumps(cb).encode()).decode()})
print(r.status, r.resp.read().decode())
print("received:", seen)
print("signatures:", signatures)
