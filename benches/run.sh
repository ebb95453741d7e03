#!/usr/bin/env bash
# Benchmarks, each as a ratio against a reference run in the same go (never a pass/fail test):
#   policy     rolestack's RAM policy engine vs Cedar, same decisions (criterion medians)
#   metadata   GET of an instance's credential document from rolestack vs nginx serving the same
#              bytes as a static file (wrk, loopback only, bounded duration)
#   oss        1 MiB GET/PUT throughput vs nginx serving the same files (benches/oss_throughput.sh)
# Usage: benches/run.sh [policy] [metadata]   (default: all). Installs wrk and nginx with apt when
# missing and running as root. Only loopback addresses are used.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
which=("$@"); [[ ${#which[@]} -eq 0 ]] && which=(policy metadata oss)
export CARGO_TARGET_DIR="${BENCH_TARGET_DIR:-$ROOT/target/bench}"

median_ns() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['median']['point_estimate'])" "$1"; }

bench_policy() {
  echo "== policy decision: rolestack vs Cedar (criterion) =="
  (cd benches/policy-vs-cedar && cargo bench --quiet --bench decision >/dev/null)
  local dir="$CARGO_TARGET_DIR/criterion/decision"
  printf '%-28s %14s %14s %10s\n' case rolestack_ns cedar_ns ratio
  for case in "allow after every deny" "explicit deny" "implicit deny"; do
    local r c
    r=$(median_ns "$dir/rolestack_${case}/new/estimates.json")
    c=$(median_ns "$dir/cedar_${case}/new/estimates.json")
    python3 -c "import sys; r,c=float(sys.argv[2]),float(sys.argv[3]); print(f'{sys.argv[1]:<28} {r:14.0f} {c:14.0f} {r/c:10.3f}')" "$case" "$r" "$c"
  done
  echo "(ratio < 1: rolestack faster)"
}

need() {
  command -v "$1" >/dev/null && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq "$2" >/dev/null
  else
    echo "error: $1 is missing (apt-get install $2)" >&2; exit 1
  fi
}

bench_metadata() {
  echo "== instance metadata credential GET: rolestack vs nginx static file (wrk, 10 s each) =="
  need wrk wrk
  need nginx nginx
  cargo build --quiet --release -p rolestack
  local bin="$CARGO_TARGET_DIR/release/rolestack" tmp port np
  tmp=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$bin" serve --data-dir "$tmp/data" --listen "127.0.0.1:$port" --tls-listen 127.0.0.1:0 --instance-namespaces off >"$tmp/server.log" 2>&1 &
  local spid=$!
  trap 'kill $spid 2>/dev/null; [[ -f $tmp/nginx.pid ]] && kill $(cat $tmp/nginx.pid) 2>/dev/null; rm -rf $tmp' RETURN
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  export ROLESTACK_ENDPOINT="http://127.0.0.1:$port" ROLESTACK_DATA_DIR="$tmp/data"
  local trust='{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}'
  "$bin" api ram CreateRole RoleName=BenchRole AssumeRolePolicyDocument="$trust" >/dev/null
  local get='import json,sys; print(json.load(sys.stdin)[sys.argv[1]])'
  local vpc vsw iid proxy
  vpc=$("$bin" api ecs CreateVpc RegionId=cn-hangzhou CidrBlock=192.168.0.0/16 | python3 -c "$get" VpcId)
  vsw=$("$bin" api ecs CreateVSwitch RegionId=cn-hangzhou ZoneId=cn-hangzhou-i VpcId="$vpc" CidrBlock=192.168.1.0/24 | python3 -c "$get" VSwitchId)
  iid=$("$bin" api ecs CreateInstance RegionId=cn-hangzhou ImageId=centos_7_03_64_40G_alibase_20170503.vhd InstanceType=ecs.xn4.small VSwitchId="$vsw" RamRoleName=BenchRole | python3 -c "$get" InstanceId)
  proxy=$("$bin" api rolestack PrepareInstanceEnvironment InstanceId="$iid" | python3 -c "$get" Proxy)
  local path=/latest/meta-data/ram/security-credentials/BenchRole
  mkdir -p "$tmp/www$(dirname $path)"
  curl -sf "http://$proxy$path" >"$tmp/www$path"
  np=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$tmp/nginx.conf" <<CONF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 256; }
http { access_log off; server { listen 127.0.0.1:$np; root $tmp/www; default_type application/json; } }
CONF
  nginx -c "$tmp/nginx.conf"
  sleep 0.3
  local a b
  a=$(wrk -t1 -c8 -d10s "http://$proxy$path" | awk '/Requests\/sec/ {print $2}')
  b=$(wrk -t1 -c8 -d10s "http://127.0.0.1:$np$path" | awk '/Requests\/sec/ {print $2}')
  python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'rolestack {a:10.0f} req/s   nginx {b:10.0f} req/s   ratio (rolestack/nginx) {a/b:.3f}')" "$a" "$b"
}

for w in "${which[@]}"; do
  case "$w" in
    policy) bench_policy ;;
    metadata) bench_metadata ;;
    oss) echo "== OSS 1 MiB GET/PUT: rolestack vs nginx =="; "$ROOT/benches/oss_throughput.sh" ;;
    *) echo "unknown benchmark $w (policy, metadata, oss)" >&2; exit 2 ;;
  esac
done
