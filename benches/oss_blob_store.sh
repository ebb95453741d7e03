#!/usr/bin/env bash
# OSS GET/PUT throughput with object bodies in an S3-compatible store (`serve --blob-url s3://…`)
# versus on local disk (the default), issue 16. Not a test: it prints figures and a ratio.
#
#   benches/oss_blob_store.sh                 # moto's S3 server on a loopback port as the store
#   BLOB_URL='s3://BUCKET/PREFIX?endpoint=http://HOST:PORT&region=REGION' \
#     AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… benches/oss_blob_store.sh   # a real store
#
# Two rolestack servers from the same binary (fresh data dirs, loopback ports, no HTTPS): one with
# --blob-url, one with bodies in its data dir; benches/oss_throughput_client.py drives both with the
# same presigned GETs and PUTs (keep-alive connections, one thread each). moto is one Python process
# that keeps every body in memory: with it the figures measure moto as much as rolestack.
#
# Environment (defaults): ROLESTACK_BIN (target/release/rolestack, built when missing),
#   BENCH_VENV (target/bench-venv, made from benches/requirements.txt when missing),
#   BENCH_OUT (target/bench), OSS_REQUESTS (100), OSS_CONCURRENCY (4),
#   OSS_SIZES ("1048576 16777216": one PUT per body, and multipart uploads of 8 MiB parts)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
BIN="${ROLESTACK_BIN:-$ROOT/target/release/rolestack}"
VENV="${BENCH_VENV:-$ROOT/target/bench-venv}"
OUT="${BENCH_OUT:-$ROOT/target/bench}"
REQUESTS="${OSS_REQUESTS:-100}"
CONCURRENCY="${OSS_CONCURRENCY:-4}"
SIZES="${OSS_SIZES:-1048576 16777216}"

[[ -x "$BIN" ]] || cargo build --release -p rolestack
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/benches/requirements.txt"
fi
PY="$VENV/bin/python"
mkdir -p "$OUT"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() {  # wait_http URL
  local i
  for i in $(seq 1 600); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "error: nothing answers at $1" >&2; exit 1
}

if [[ -z "${BLOB_URL:-}" ]]; then
  MOTO_PORT=$(free_port)
  "$PY" -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" >"$OUT/oss-blob-store-moto.log" 2>&1 &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$MOTO_PORT/moto-api/"
  export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret
  "$PY" - "$MOTO_PORT" <<'EOF'
import sys, boto3
boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1",
             aws_access_key_id="bench", aws_secret_access_key="bench-secret").create_bucket(Bucket="bench-bodies")
EOF
  BLOB_URL="s3://bench-bodies?endpoint=http://127.0.0.1:$MOTO_PORT&region=us-east-1"
  STORE="moto_server $("$PY" -c 'import moto; print(moto.__version__)') on loopback"
else
  STORE="$BLOB_URL"
fi

serve() {  # serve NAME [ARGS...]: starts a server, sets PORT
  local name=$1; shift
  PORT=$(free_port)
  "$BIN" serve --data-dir "$WORK/$name" --listen "127.0.0.1:$PORT" --tls-listen off --instance-namespaces off "$@" \
    >"$OUT/oss-blob-store-$name.log" 2>&1 &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$PORT/health"
}
serve disk
DISK_PORT=$PORT
serve s3 --blob-url "$BLOB_URL"
S3_PORT=$PORT
wait_http "http://127.0.0.1:$S3_PORT/ready"

echo "== OSS GET/PUT: bodies in an object store ($STORE) vs on local disk; $REQUESTS objects, $CONCURRENCY connections =="
for size in $SIZES; do
  # A fresh bucket per size on each server.
  "$PY" "$ROOT/benches/oss_throughput_client.py" --get-passes 1 --rolestack "127.0.0.1:$S3_PORT" --credentials "$WORK/s3/credentials.json" \
    --versus "127.0.0.1:$DISK_PORT" --versus-credentials "$WORK/disk/credentials.json" --names "object-store,disk" --bucket "bench-$size" \
    --requests "$REQUESTS" --concurrency "$CONCURRENCY" --size "$size" --json "$OUT/oss-blob-store-$size.json"
done
