#!/usr/bin/env bash
# rolestack's benchmark suite (issue 13). Never a test: it prints figures, each next to a reference
# run in the same go and as a ratio; nothing passes or fails on a number (not part of scripts/test.sh).
#
#   benches/run.sh                       all sections (about 15 min, 5 of them loading the listing's 1M objects)
#   benches/run.sh rpc metadata          only these sections (rows of the others are dropped;
#                                        --keep-rows keeps them from the last results.json)
#   benches/run.sh --quick               every section with tiny durations/counts (smoke run, ~3 min)
#   benches/run.sh --dry-run             check the scripts and tools, print the plan; starts nothing
#   benches/run.sh --update-readme       put the table of target/bench/results.json into README.md
#                                        (between the bench-table markers); with sections: run, then put
#
# Sections (in this order):
#   startup   start to first /health 200 and to the first signed GetCallerIdentity 200, rolestack (new
#             and existing data dir) vs moto_server (its /health stand-in: /moto-api/config); median
#             of STARTUP_RUNS starts, polled every 1 ms
#   rpc       signed RPC, STS GetCallerIdentity and RAM ListRoles: rolestack (signature V1, HMAC-SHA1,
#             every request pre-signed with its own SignatureNonce and sent exactly once) vs moto_server
#             (STS GetCallerIdentity / IAM ListRoles, SigV4-signed by botocore; moto verifies no signature
#             by default). wrk -c16 -t2 with benches/wrk_list.lua walking the pre-made list; a warm-up run
#             calibrates the list to about RPC_DURATION seconds; req/s, p50/p99, non-2xx (printed loudly)
#   metadata  instance metadata credential GET (wrk -c16) vs nginx serving the same bytes as a file
#   oss       1 MiB GET/PUT through rolestack's OSS (presigned, authorized, fsynced) vs nginx (static
#             GET, WebDAV PUT) with one Python client (benches/oss_throughput_client.py), with each
#             server's CPU per MiB (and the client's, in the notes), and the PUT against this disk's
#             durable-write ceiling (a bare loop at the same concurrency). Bodies in
#             an S3-compatible store (--blob-url) vs on local disk: benches/oss_blob_store.sh (moto or
#             a real store; same client, two rolestack servers). Why PUT stays below nginx's page-cache
#             PUT on this disk: benches/disk_durable.py (1 MiB bodies made durable several ways, no server)
#   list      LIST_OBJECTS empty objects put into one bucket (presigned PUTs by wrk, each once), then
#             ListObjectsV2 paged through (max-keys 1000, one connection): keys/s vs nginx serving the
#             same pages, and the server's RSS before/peak/after
#   policy    rolestack's policy engine vs Cedar, same decisions (criterion, benches/policy-vs-cedar)
# Server RSS (VmRSS from /proc/<pid>/status): rolestack idle (right after start) and after the rpc,
# metadata and oss sections, vs moto_server idle and after its RPC runs. Next to req/s, the rpc,
# metadata and list rows give the server's CPU per request (user+system from /proc/<pid>/stat over
# the run / responses): on a shared 2-core machine req/s moves with whatever else runs, CPU per
# request hardly does. The load average before each section is recorded (and shouted when > cores).
#
# One rolestack (fresh data dir), one moto_server and one nginx serve the rpc/metadata/oss/list
# sections; everything listens on 127.0.0.1 only and is stopped at the end.
#
# Output: target/bench/results.json, target/bench/results.md (the README table), wrk's raw reports in
# target/bench/wrk/, server logs in target/bench/*.log. Two runs at once share the machine (and, with
# the same BENCH_OUT, these files): give each its own BENCH_OUT, and better, run one at a time.
#
# Environment (defaults):
#   ROLESTACK_BIN         the server binary (target/release/rolestack; built with
#                         `cargo build --release -p rolestack` when missing)
#   BENCH_OUT             target/bench            BENCH_VENV  target/bench-venv (benches/requirements.txt)
#   ROUNDS 3              the rpc and metadata rows run rolestack and its reference alternately this
#                         many times and report the round with the median ratio (every round's ratio
#                         is in the row's notes): one run of each moves 15-30% with the host
#   OSS_ROUNDS 5          the same for the oss rows, whose median of 3 still moved by a fifth between
#                         runs (docs/STATUS.md); more RPC rounds would also raise the RSS after load
#                         (6 bytes per signed request kept for the replay window)
#   RPC_DURATION 4        seconds per RPC run      RPC_WARMUP 2   RPC_CONNECTIONS 16   WRK_THREADS 2
#   RPC_WARMUP_REQUESTS 20000  MOTO_WARMUP_REQUESTS 1500   RPC_MAX_REQUESTS 3000000 (list size cap)
#   METADATA_DURATION 4   METADATA_CONNECTIONS 16  NGINX_WORKERS 2
#   OSS_REQUESTS 200      OSS_CONCURRENCY 4        OSS_SIZE 1048576 (per round, into a new bucket)
#   STARTUP_RUNS 5
#   LIST_OBJECTS 1000000  (the issue's figure; loading takes ~LIST_OBJECTS / load rate, printed;
#                         100000 for a quicker run) LIST_MAX_KEYS 1000  LIST_LOAD_CONNECTIONS 16
#   LIST_LOAD_TIMEOUT 1800 (seconds, upper bound of loading)  LIST_TIMEOUT 600 (of paging)
#   ROLESTACK_LOG         passed to the server (unset: its default, info)
#   BENCH_KEEP_WORK=1     keep the temporary directory (data dirs, nginx root)
# Installs wrk and nginx with apt-get when missing and running as root; creates BENCH_VENV with pip.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
DRY=0; ARGS=()
for a in "$@"; do
  case "$a" in
    --dry-run) DRY=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) ARGS+=("$a") ;;
  esac
done
VENV="${BENCH_VENV:-$ROOT/target/bench-venv}"
REQ="$ROOT/benches/requirements.txt"

need() {  # need COMMAND DEBIAN-PACKAGE
  command -v "$1" >/dev/null && return 0
  [[ -x "/usr/sbin/$1" ]] && return 0
  if [[ $DRY == 1 ]]; then echo "would install: $2"; return 0; fi
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "error: $1 is missing (apt-get install $2)" >&2; exit 1
  fi
}

if [[ $DRY == 1 ]]; then
  echo "dry run: checking scripts"
  bash -n "$0" && bash -n "$ROOT/benches/oss_throughput.sh" && bash -n "$ROOT/benches/oss_blob_store.sh"
  python3 -m py_compile "$ROOT"/benches/{suite,gen_requests,oss_throughput_client,disk_durable}.py && echo "  python: ok"
  if command -v luajit >/dev/null; then
    for f in "$ROOT"/benches/wrk_*.lua; do luajit -bl "$f" >/dev/null; done && echo "  lua: ok"
  fi
  need wrk wrk; need nginx nginx-light
  echo "  venv: $VENV ($([[ -x $VENV/bin/moto_server ]] && echo present || echo 'would be created'))"
  echo "  rolestack: ${ROLESTACK_BIN:-$ROOT/target/release/rolestack} ($([[ -x ${ROLESTACK_BIN:-$ROOT/target/release/rolestack} ]] && echo present || echo 'would be built'))"
  echo "  sections: ${ARGS[*]:-startup rpc metadata oss list policy}"
  sed -n '/^# Environment/,/^# Installs/p' "$0" | sed 's/^# \{0,1\}/  /'
  exit 0
fi

# only --update-readme: no servers, no tools
if [[ ${#ARGS[@]} -eq 1 && ${ARGS[0]} == --update-readme ]]; then
  exec python3 "$ROOT/benches/suite.py" --update-readme
fi

need wrk wrk
need nginx nginx-light
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV" || { echo "error: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
fi
stamp="$VENV/.requirements.sha256"
sum=$(sha256sum "$REQ" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$sum" ]]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
  echo "$sum" >"$stamp"
fi
if [[ -z "${ROLESTACK_BIN:-}" ]]; then
  export ROLESTACK_BIN="$ROOT/target/release/rolestack"
  [[ -x $ROLESTACK_BIN ]] || cargo build --release -p rolestack
fi
ulimit -n 65536 2>/dev/null || true
exec "$VENV/bin/python" "$ROOT/benches/suite.py" "${ARGS[@]}"
