#!/usr/bin/env bash
# OSS throughput benchmark (not a test): 1 MiB GET and PUT through rolestack's OSS front-end versus
# the same files served (GET) and stored (PUT, WebDAV) by nginx on this machine, as a ratio.
#
#   ./benches/oss_throughput.sh                # 200 requests per phase, 4 connections
#   REQUESTS=500 CONCURRENCY=8 ./benches/oss_throughput.sh
#
# Both servers are driven by the same client (benches/oss_throughput_client.py: keep-alive
# http.client connections, one thread per connection), so the ratio compares the servers. rolestack
# requests are real signed OSS requests (presigned V1 URLs made with oss2), so every one is
# authenticated, authorized against RAM, and its body streamed to/from disk with MD5 and CRC-64.
# nginx comes from Debian (installed with apt-get when missing and we are root).
# Environment: ROLESTACK_BIN (default: a release build made here), REQUESTS, CONCURRENCY, SIZE (bytes).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
REQUESTS="${REQUESTS:-200}"
CONCURRENCY="${CONCURRENCY:-4}"
SIZE="${SIZE:-1048576}"
PY="$ROOT/.venv/bin/python"
[[ -x "$PY" ]] || { echo "error: $PY missing; run ./scripts/test.sh once to create .venv" >&2; exit 1; }

if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1 \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
  else
    echo "error: nginx is not installed (apt-get install nginx)" >&2; exit 1
  fi
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

if [[ -z "${ROLESTACK_BIN:-}" ]]; then
  cargo build --release -q -p rolestack
  ROLESTACK_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/rolestack"
fi

WORK="$(mktemp -d /tmp/rolestack-bench.XXXXXX)"
RS_PID=""; NGINX_STARTED=0
cleanup() {
  [[ -n "$RS_PID" ]] && kill "$RS_PID" 2>/dev/null || true
  [[ "$NGINX_STARTED" == 1 ]] && "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -s stop 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RS_PORT="$(free_port)"; NG_PORT="$(free_port)"

# rolestack on a fresh data dir
ROLESTACK_LOG=warn "$ROLESTACK_BIN" serve --data-dir "$WORK/rs" --listen "127.0.0.1:$RS_PORT" --tls-listen 127.0.0.1:0 >"$WORK/rs.log" 2>&1 &
RS_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$RS_PORT/health" >/dev/null && break; sleep 0.1; done

# nginx: GET from files/, PUT into dav/
mkdir -p "$WORK/nginx/logs" "$WORK/nginx/files" "$WORK/nginx/dav" "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  sendfile on;
  client_max_body_size 64m;
  client_body_temp_path $WORK/nginx/tmp;
  proxy_temp_path $WORK/nginx/tmp; fastcgi_temp_path $WORK/nginx/tmp; uwsgi_temp_path $WORK/nginx/tmp; scgi_temp_path $WORK/nginx/tmp;
  server {
    listen 127.0.0.1:$NG_PORT;
    location /files/ { alias $WORK/nginx/files/; }
    location /dav/ { alias $WORK/nginx/dav/; dav_methods PUT; create_full_put_path on; }
  }
}
CONF
# nginx's workers run as an unprivileged user when started by root: let them in
chmod 755 "$WORK"; chmod -R a+rwX "$WORK/nginx"
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
NGINX_STARTED=1

"$PY" "$ROOT/benches/oss_throughput_client.py" \
  --rolestack "127.0.0.1:$RS_PORT" --credentials "$WORK/rs/credentials.json" \
  --nginx "127.0.0.1:$NG_PORT" --nginx-files "$WORK/nginx/files" \
  --requests "$REQUESTS" --concurrency "$CONCURRENCY" --size "$SIZE"
