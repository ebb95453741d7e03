"""Capture server for gen_vectors.py: records every request exactly as received and answers 200."""
import threading, http.server
CAPTURED = []
class H(http.server.BaseHTTPRequestHandler):
    def _any(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n) if n else b''
        CAPTURED.append({'method': self.command, 'target': self.path,
                         'headers': [[k, v] for k, v in self.headers.items()], 'body': body})
        self.send_response(200)
        self.send_header('Content-Length', '0')
        self.send_header('x-oss-request-id', 'x')
        self.end_headers()
    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any
    def log_message(self, *a): pass
def start():
    s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s.server_address[1]
