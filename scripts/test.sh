#!/usr/bin/env bash
# The single test command: ./scripts/test.sh
# Builds the workspace, runs the Rust tests and clippy, then the official-SDK suites
# against the freshly built server binary.
#
# Environment:
#   PYTHON            python3 to create .venv with (default: python3)
#   ROLESTACK_BIN     server binary for the SDK suites (default: target/debug/rolestack)
#   SKIP_CLIPPY=1     skip clippy (local iteration only; CI always runs it)
#   PYTEST_ARGS       extra pytest arguments, e.g. "-k gateway -x"
#   CHROMIUM_BIN      Chromium for the console's browser tests (default: /usr/bin/chromium)
#
# A throwaway PostgreSQL (scripts/postgres.sh, installed with apt-get when missing and root) backs
# the PostgreSQL store's tests and one more run of an SDK slice; it is stopped at exit. The OSS
# slice runs once more with bodies in moto's S3 server (tests/python/requirements.txt).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

declare -a SUMMARY=()
step() { printf '\n==== %s ====\n' "$*"; }
ok() { SUMMARY+=("ok    $*"); }

on_exit() {
  local rc=$?
  rs_pg_stop
  printf '\n==== summary ====\n'
  if ((${#SUMMARY[@]})); then printf '%s\n' "${SUMMARY[@]}"; fi
  if [[ $rc -ne 0 ]]; then
    printf 'FAILED (exit %s) during: %s\n' "$rc" "${CURRENT_STEP:-setup}"
  else
    printf 'all steps passed\n'
  fi
}
# shellcheck source=scripts/postgres.sh
source "$ROOT/scripts/postgres.sh"
trap on_exit EXIT

# --- Rust -------------------------------------------------------------------------------
CURRENT_STEP="cargo fmt --check"
step "$CURRENT_STEP"
cargo fmt --all --check
ok "cargo fmt --check"

CURRENT_STEP="cargo build"
step "$CURRENT_STEP"
cargo build --workspace
ok "cargo build --workspace"

CURRENT_STEP="postgresql"
step "$CURRENT_STEP"
rs_pg_start
ok "throwaway PostgreSQL (ROLESTACK_TEST_POSTGRES_URL)"

CURRENT_STEP="cargo test"
step "$CURRENT_STEP"
cargo test --workspace
ok "cargo test --workspace"

if [[ "${SKIP_CLIPPY:-0}" != "1" || "${CI:-}" == "true" ]]; then
  CURRENT_STEP="cargo clippy"
  step "$CURRENT_STEP"
  cargo clippy --workspace --all-targets -- -D warnings
  ok "cargo clippy --workspace --all-targets -D warnings"
fi

export ROLESTACK_BIN="${ROLESTACK_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/rolestack}"
if [[ ! -x "$ROLESTACK_BIN" ]]; then
  echo "error: server binary $ROLESTACK_BIN was not built" >&2
  exit 1
fi

# --- Python official-SDK suite -----------------------------------------------------------
CURRENT_STEP="python venv"
step "$CURRENT_STEP"
PY="${PYTHON:-python3}"
VENV="$ROOT/.venv"
REQ="$ROOT/tests/python/requirements.txt"
STAMP="$VENV/.requirements.sha256"
if [[ ! -x "$VENV/bin/python" ]]; then
  if ! "$PY" -m venv "$VENV"; then
    # Debian's python3 ships venv separately; install it when we may.
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$VENV"
      "$PY" -m venv "$VENV"
    else
      echo "error: '$PY -m venv' failed (on Debian: sudo apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
fi
want="$( (sha256sum "$REQ"; "$VENV/bin/python" --version) | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$want" ]]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
  echo "$want" > "$STAMP"
  echo "installed tests/python/requirements.txt into .venv"
else
  echo ".venv up to date"
fi
ok "python venv (.venv)"

# Debian's rclone for the S3-compatible API tests (tests/python/test_s3.py); never skipped.
if ! command -v rclone >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "installing Debian's rclone for the S3-compatible API tests"
    apt-get update -qq && apt-get install -y -qq rclone >/dev/null
  else
    echo "error: tests/python/test_s3.py needs rclone (on Debian: sudo apt-get install rclone)" >&2
    exit 1
  fi
fi

CURRENT_STEP="pytest tests/python"
step "$CURRENT_STEP"
# shellcheck disable=SC2086
"$VENV/bin/python" -m pytest tests/python -q -p no:cacheprovider ${PYTEST_ARGS:-}
ok "pytest tests/python"

# A slice of the suite again with each server on a fresh PostgreSQL database (--database-url).
CURRENT_STEP="pytest (PostgreSQL store)"
step "$CURRENT_STEP"
ROLESTACK_TEST_DATABASE_URL="$ROLESTACK_TEST_POSTGRES_URL" "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
  tests/python/test_ram_seed.py tests/python/test_sts.py tests/python/test_oss.py tests/python/test_persistence_cli.py \
  tests/python/test_replay.py tests/python/test_faults.py tests/python/test_oss_versioning.py tests/python/test_user_data.py
ok "pytest slice with --database-url (PostgreSQL store)"

# The OSS slice again with object bodies in an S3-compatible store: each server gets a fresh bucket
# on moto's S3 server (started by the tests on a loopback port) behind --blob-url s3://….
CURRENT_STEP="pytest (bodies in an object store)"
step "$CURRENT_STEP"
ROLESTACK_TEST_BLOB_URL=moto "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
  tests/python/test_oss.py tests/python/test_crash.py tests/python/test_oss_body.py
ok "pytest slice with --blob-url s3:// (moto)"

# --- Node official-SDK suite (hook) -------------------------------------------------------
# When tests/node/ exists: install with `npm ci` (lockfile) and run `node --test`.
if [[ -f "$ROOT/tests/node/package.json" ]]; then
  CURRENT_STEP="node tests"
  step "$CURRENT_STEP"
  (cd "$ROOT/tests/node" && npm ci --no-audit --no-fund --silent && npm test)
  ok "node tests (tests/node)"
fi

# --- Web console in a real browser ---------------------------------------------------------
# Debian's chromium driven by playwright-core (tests/browser); never skipped.
if [[ -f "$ROOT/tests/browser/package.json" ]]; then
  CURRENT_STEP="browser tests"
  step "$CURRENT_STEP"
  CHROMIUM_BIN="${CHROMIUM_BIN:-/usr/bin/chromium}"
  if [[ ! -x "$CHROMIUM_BIN" ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      echo "installing Debian's chromium for the browser tests"
      apt-get update -qq && apt-get install -y -qq chromium >/dev/null
    else
      echo "error: the browser tests need Chromium at $CHROMIUM_BIN (on Debian: sudo apt-get install chromium; or set CHROMIUM_BIN)" >&2
      exit 1
    fi
  fi
  export CHROMIUM_BIN
  (cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund --silent && npm test)
  ok "browser tests (tests/browser; screenshots in target/console-screenshots/)"
fi

CURRENT_STEP="done"
