#!/usr/bin/env bash
# Starts or stops the two extra mesh-sandbox instances that tests/sandbox_tls.rs needs: one serving
# HTTPS with a generated local CA (TLS) and one that also demands a client certificate (mTLS). Each
# has its own state directory (pid, log, certificates); both share the plain sandbox's virtualenv.
#
# Usage:
#   eval "$(adapters/mesh/tests/tls-sandboxes.sh start [STATE_DIR])"
#   adapters/mesh/tests/tls-sandboxes.sh stop [STATE_DIR]
#
# STATE_DIR defaults to $CARGO_TARGET_DIR/mesh-sandbox (else ./target/mesh-sandbox); the instances
# live in STATE_DIR/tls and STATE_DIR/mtls. `start` writes only export lines to stdout:
#   export MESH_SANDBOX_TLS_URL=https://127.0.0.1:8701   MESH_SANDBOX_TLS_DIR=STATE_DIR/tls/tls
#   export MESH_SANDBOX_MTLS_URL=https://127.0.0.1:8702  MESH_SANDBOX_MTLS_DIR=STATE_DIR/mtls/tls
# (each *_DIR holds ca.pem, client.pem, client.key). Progress goes to stderr. When the second
# instance fails to start, the first is stopped again. `stop` stops only these two instances, by
# the pid files start.sh wrote, and never the plain sandbox.
#
# Settings (environment): MESH_SANDBOX_TLS_PORT (8701), MESH_SANDBOX_MTLS_PORT (8702),
# MESH_SANDBOX_VENV (default STATE_DIR/venv), GPC_SHARED_DIR (default <repository>/../shared).
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../../.." && pwd)"
shared="${GPC_SHARED_DIR:-$repo_root/../shared}"
tools="$shared/tools/mesh-sandbox"

log() { printf 'tls-sandboxes: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

[[ -x "$tools/start.sh" && -x "$tools/stop.sh" ]] || die "mesh-sandbox tools not found in $tools (set GPC_SHARED_DIR)"

action="${1:-}"
if [[ -n "${2:-}" ]]; then
  state="$2"
elif [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
  state="${CARGO_TARGET_DIR%/}/mesh-sandbox"
else
  state="$repo_root/target/mesh-sandbox"
fi
mkdir -p "$state"
state="$(cd "$state" && pwd)"
venv="${MESH_SANDBOX_VENV:-$state/venv}"
tls_port="${MESH_SANDBOX_TLS_PORT:-8701}"
mtls_port="${MESH_SANDBOX_MTLS_PORT:-8702}"

# Runs start.sh / stop.sh for one instance with only the settings meant for it: a caller's own
# MESH_SANDBOX_* variables (test.sh exports MESH_SANDBOX_HOME for the plain sandbox) must not leak in.
instance() {
  local script="$1" name="$2" port="$3" tls="$4" mtls="$5"
  env -u MESH_SANDBOX_PID_FILE -u MESH_SANDBOX_DATA_DIR -u MESH_SANDBOX_STORE_MODE \
    -u MESH_SANDBOX_FRESH \
    MESH_SANDBOX_HOME="$state/$name" MESH_SANDBOX_VENV="$venv" MESH_SANDBOX_PORT="$port" \
    MESH_SANDBOX_TLS="$tls" MESH_SANDBOX_MTLS="$mtls" \
    "$tools/$script"
}

case "$action" in
  start)
    log "starting the TLS sandbox on port $tls_port"
    tls_url="$(instance start.sh tls "$tls_port" 1 0)" || die "the TLS sandbox did not start"
    log "starting the mTLS sandbox on port $mtls_port"
    if ! mtls_url="$(instance start.sh mtls "$mtls_port" 1 1)"; then
      instance stop.sh tls "$tls_port" 1 0 || true
      die "the mTLS sandbox did not start (the TLS one was stopped again)"
    fi
    printf 'export MESH_SANDBOX_TLS_URL=%q\n' "$tls_url"
    printf 'export MESH_SANDBOX_TLS_DIR=%q\n' "$state/tls/tls"
    printf 'export MESH_SANDBOX_MTLS_URL=%q\n' "$mtls_url"
    printf 'export MESH_SANDBOX_MTLS_DIR=%q\n' "$state/mtls/tls"
    ;;
  stop)
    status=0
    instance stop.sh mtls "$mtls_port" 1 1 || status=1
    instance stop.sh tls "$tls_port" 1 0 || status=1
    exit "$status"
    ;;
  *)
    die "usage: $0 start|stop [STATE_DIR]"
    ;;
esac
