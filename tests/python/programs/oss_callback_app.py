"""An application inside an instance that receives OSS upload callbacks: it listens on the
instance's own loopback, uploads with the role's credentials from the metadata service and a
callback to http://127.0.0.1:<its port>/cb, and prints what OSS answered and what it received.
Usage: oss_callback_app.py <role> <bucket>"""

import base64
import http.server
import json
import os
import sys
import threading
import urllib.request

role, bucket_name = sys.argv[1], sys.argv[2]
seen = []


class App(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        seen.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode())
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
