#!/usr/bin/env bash
# The whole test suite, on real parts: formatting, lints, unit tests, and integration tests against
# the local RabbitMQ, NHS England's mesh-sandbox and the independent fhir-validate checker.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
shared="${GPC_SHARED_DIR:-$root/../shared}"
[[ -d "$shared/tools" ]] || { echo "test.sh: shared folder not found at $shared (set GPC_SHARED_DIR)" >&2; exit 2; }
export GPC_SHARED_DIR="$shared"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
log() { printf '== %s\n' "$*" >&2; }

# 1. The independent FHIR/ITK3 checker (a Python venv, installed from PyPI on first use).
export FHIR_VALIDATE_VENV="${FHIR_VALIDATE_VENV:-$root/target/fhir-validate-venv}"
if ! "$FHIR_VALIDATE_VENV/bin/python" -c 'import fhir.resources, lxml' 2>/dev/null; then
  log "setting up fhir-validate in $FHIR_VALIDATE_VENV"
  bash "$shared/tools/fhir-validate/setup.sh" >&2
fi

# 1b. socat terminates TLS in front of the plain broker for the AMQP TLS tests.
if ! command -v socat >/dev/null 2>&1; then
  log "installing socat"
  (apt-get update -qq && apt-get install -y -qq socat) >&2
fi

# 2. RabbitMQ: use the running broker, start the machine's one if it is down.
amqp_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
if ! amqp_up; then
  log "starting RabbitMQ"
  rabbitmq-server -detached >&2 || true
  for _ in $(seq 1 60); do amqp_up && break; sleep 1; done
  amqp_up || { echo "test.sh: RabbitMQ is not reachable on 127.0.0.1:5672" >&2; exit 2; }
  # The port opens before the vhost is ready.
  for _ in $(seq 1 30); do rabbitmqctl -q await_startup >/dev/null 2>&1 && break; sleep 1; done
fi
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"

# 3. NHS England's mesh-sandbox, started here and stopped when the tests end.
export MESH_SANDBOX_HOME="${MESH_SANDBOX_HOME:-$CARGO_TARGET_DIR/mesh-sandbox}"
log "starting mesh-sandbox"
MESH_SANDBOX_URL="$("$shared/tools/mesh-sandbox/start.sh")"
export MESH_SANDBOX_URL
trap '"$shared/tools/mesh-sandbox/stop.sh" >&2 || true' EXIT

# 3b. TLS and mTLS mesh-sandbox instances (127.0.0.1:8701 / 8702) for the MESH client's TLS tests.
log "starting the TLS and mTLS mesh-sandboxes"
trap '"$root/adapters/mesh/tests/tls-sandboxes.sh" stop "$MESH_SANDBOX_HOME" >&2 || true; "$shared/tools/mesh-sandbox/stop.sh" >&2 || true' EXIT
# A separate assignment: `eval "$(...)"` would hide a failed start under `set -e`.
tls_env="$("$root/adapters/mesh/tests/tls-sandboxes.sh" start "$MESH_SANDBOX_HOME")"
eval "$tls_env"   # exports MESH_SANDBOX_TLS_URL/_DIR and MESH_SANDBOX_MTLS_URL/_DIR

# 4. Format, lints, build (the integration tests run the real binary), tests.
log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
log "cargo build"
cargo build --workspace --bins
log "cargo test"
cargo test --workspace --no-fail-fast "$@"
