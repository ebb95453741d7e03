# shellcheck shell=bash
# A throwaway PostgreSQL for the tests. Source this file, then:
#
#   rs_pg_start   # initdb in a temp dir, start on 127.0.0.1:<free port>, create a database,
#                 # export ROLESTACK_TEST_POSTGRES_URL (used by the Rust tests and the SDK suite),
#                 # and ROLESTACK_TEST_POSTGRES_CA (the CA of its TLS certificate, when openssl exists)
#   rs_pg_stop    # stop the server and delete the temp dir (call it from your EXIT trap)
#
# Installs Debian's `postgresql` when initdb/pg_ctl are missing and we are root. initdb refuses
# to run as root, so as root the cluster belongs to the `postgres` user (or `nobody`). The server
# listens on 127.0.0.1 only, with password authentication and a random password, fsync off
# (nothing in it outlives the run).

RS_PG_DIR=""
RS_PG_BIN=""
RS_PG_USER=""

# Runs a PostgreSQL program as the cluster's owner.
rs_pg_as_owner() {
  if [[ -n "$RS_PG_USER" ]]; then
    runuser -u "$RS_PG_USER" -- "$@"
  else
    "$@"
  fi
}

rs_pg_find_bin() {
  local d
  # Debian keeps the server programs out of PATH, one directory per major version: newest first.
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -V -r); do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
      echo "$d"
      return 0
    fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return 0
  fi
  return 1
}

rs_pg_start() {
  if ! RS_PG_BIN="$(rs_pg_find_bin)"; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      echo "installing Debian's postgresql for the PostgreSQL store tests"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      RS_PG_BIN="$(rs_pg_find_bin)" || { echo "error: postgresql installed, but no initdb/pg_ctl found" >&2; return 1; }
    else
      echo "error: the PostgreSQL store tests need initdb and pg_ctl (on Debian: sudo apt-get install postgresql)" >&2
      return 1
    fi
  fi
  RS_PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/rolestack-pg.XXXXXX")"
  if [[ $(id -u) -eq 0 ]]; then
    RS_PG_USER=postgres
    id -u postgres >/dev/null 2>&1 || RS_PG_USER=nobody
    chown "$RS_PG_USER" "$RS_PG_DIR"
  fi
  local password
  password="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
  printf '%s\n' "$password" >"$RS_PG_DIR/pwfile"
  chmod 600 "$RS_PG_DIR/pwfile"
  [[ -z "$RS_PG_USER" ]] || chown "$RS_PG_USER" "$RS_PG_DIR/pwfile"
  if ! rs_pg_as_owner "$RS_PG_BIN/initdb" -D "$RS_PG_DIR/data" -U postgres --pwfile="$RS_PG_DIR/pwfile" \
      --auth=scram-sha-256 -E UTF8 --no-locale --no-sync >"$RS_PG_DIR/initdb.log" 2>&1; then
    cat "$RS_PG_DIR/initdb.log" >&2
    echo "error: initdb failed" >&2
    return 1
  fi
  rm -f "$RS_PG_DIR/pwfile"
  # TLS: a throwaway CA and a certificate for 127.0.0.1, so the store's TLS is tested too
  # (ROLESTACK_TEST_POSTGRES_CA; plain connections keep working: sslmode decides).
  local ssl_opts=""
  if ! command -v openssl >/dev/null && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq openssl >/dev/null || true
  fi
  if command -v openssl >/dev/null; then
    if openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=rolestack test CA" \
          -keyout "$RS_PG_DIR/ca.key" -out "$RS_PG_DIR/ca.pem" >/dev/null 2>&1 \
        && openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
          -keyout "$RS_PG_DIR/server.key" -out "$RS_PG_DIR/server.csr" >/dev/null 2>&1 \
        && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$RS_PG_DIR/san.ext" \
        && openssl x509 -req -in "$RS_PG_DIR/server.csr" -CA "$RS_PG_DIR/ca.pem" -CAkey "$RS_PG_DIR/ca.key" \
          -CAcreateserial -days 2 -extfile "$RS_PG_DIR/san.ext" -out "$RS_PG_DIR/server.pem" >/dev/null 2>&1; then
      chmod 600 "$RS_PG_DIR/server.key"
      [[ -z "$RS_PG_USER" ]] || chown "$RS_PG_USER" "$RS_PG_DIR/server.key" "$RS_PG_DIR/server.pem"
      ssl_opts="-c ssl=on -c ssl_cert_file=$RS_PG_DIR/server.pem -c ssl_key_file=$RS_PG_DIR/server.key"
      export ROLESTACK_TEST_POSTGRES_CA="$RS_PG_DIR/ca.pem"
    else
      echo "error: could not make the test PostgreSQL's TLS certificate with openssl" >&2
      return 1
    fi
  elif [[ "${CI:-}" == "true" ]]; then
    echo "error: openssl is needed for the PostgreSQL TLS test (CI=true)" >&2
    return 1
  fi
  local port attempt
  for attempt in 1 2 3; do
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    if rs_pg_as_owner "$RS_PG_BIN/pg_ctl" -D "$RS_PG_DIR/data" -l "$RS_PG_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$RS_PG_DIR' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 $ssl_opts" \
        start >/dev/null; then
      break
    fi
    if [[ $attempt -eq 3 ]]; then
      tail -n 20 "$RS_PG_DIR/server.log" >&2
      echo "error: PostgreSQL did not start" >&2
      return 1
    fi
  done
  local base="postgres://postgres:${password}@127.0.0.1:${port}"
  PGCONNECT_TIMEOUT=10 "$RS_PG_BIN/psql" -q -v ON_ERROR_STOP=1 "$base/postgres" -c "CREATE DATABASE rolestack_test" >/dev/null \
    || { echo "error: could not create the test database" >&2; return 1; }
  export ROLESTACK_TEST_POSTGRES_URL="$base/rolestack_test"
  # psql for tests/python/rshelpers.py, which creates one database per server
  export ROLESTACK_TEST_PSQL="$RS_PG_BIN/psql"
  echo "PostgreSQL $("$RS_PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $RS_PG_DIR)"
}

rs_pg_stop() {
  if [[ -n "$RS_PG_DIR" && -d "$RS_PG_DIR" ]]; then
    if [[ -f "$RS_PG_DIR/data/postmaster.pid" ]]; then
      rs_pg_as_owner "$RS_PG_BIN/pg_ctl" -D "$RS_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$RS_PG_DIR"
  fi
  RS_PG_DIR=""
}
