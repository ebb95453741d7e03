#!/usr/bin/env bash
# OSS throughput benchmark (not a test): 1 MiB GET and PUT through rolestack's OSS front-end versus
# the same files served (GET) and stored (PUT, WebDAV) by nginx on this machine, as a ratio.
# Kept for its old name: it is the `oss` section of benches/run.sh (read its header).
#
#   ./benches/oss_throughput.sh                # 200 requests per phase, 4 connections
#   REQUESTS=500 CONCURRENCY=8 ./benches/oss_throughput.sh
#
# Both servers are driven by the same client (benches/oss_throughput_client.py: keep-alive
# http.client connections, one thread per connection), so the ratio compares the servers. rolestack
# requests are real signed OSS requests (presigned V1 URLs made with oss2), so every one is
# authenticated, authorized against RAM, and its body streamed to/from disk with MD5 and CRC-64.
# Environment: ROLESTACK_BIN (default: a release build made here), REQUESTS, CONCURRENCY, SIZE (bytes).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export OSS_REQUESTS="${REQUESTS:-${OSS_REQUESTS:-200}}"
export OSS_CONCURRENCY="${CONCURRENCY:-${OSS_CONCURRENCY:-4}}"
export OSS_SIZE="${SIZE:-${OSS_SIZE:-1048576}}"
exec ./benches/run.sh oss --keep-rows
