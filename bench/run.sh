#!/usr/bin/env bash
# Gateway vs null relay, side by side on the local RabbitMQ and a fresh MESH simulator per run.
# Usage: bench/run.sh            (see bench/README.md for the knobs, all environment variables)
# Talks to 127.0.0.1 only. Prints the comparison table; records and logs go to $OUT.
# Also: SKIP_BUILD=1 with BIN_DIR=<folder of gpc-gateway, null-relay, loadgen> to benchmark
# binaries built elsewhere (LABEL names them in the report).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
N="${N:-20000}"                    # events per measured run
REPS="${REPS:-3}"                  # measured runs per side and mode (alternating)
WARMUP_N="${WARMUP_N:-3000}"       # events of the unrecorded warm-up run of each side
PACED_RATE="${PACED_RATE:-2000}"   # events/s of the paced (latency) mode; 0 = skip that mode
PACED_N="${PACED_N:-10000}"        # events per paced run
MODES="${MODES:-flood paced}"      # which modes to run
TIMEOUT="${TIMEOUT:-240}"          # seconds one run may take before it counts as incomplete
GATEWAY_LOG="${GATEWAY_LOG:-info}" # the gateway's RUST_LOG (info is what `run` uses by default)
RELAY_ARGS="${RELAY_ARGS:-}"       # extra null-relay flags, e.g. --min-body-bytes 32859
AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
run_id="bench-$(date +%Y%m%d-%H%M%S)-$$"
OUT="${OUT:-$CARGO_TARGET_DIR/bench/$run_id}"
bin="${BIN_DIR:-$CARGO_TARGET_DIR/release}"  # BIN_DIR: benchmark binaries built elsewhere
records="$OUT/records.jsonl"
log() { printf '== %s\n' "$*" >&2; }

case "$AMQP_URL" in
  amqp://*@127.0.0.1:*|amqp://127.0.0.1:*) ;;
  *) echo "run.sh: AMQP_URL must point at 127.0.0.1" >&2; exit 2 ;;
esac

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  log "building release binaries"
  cargo build --release -p gpc-gateway -p gateway-bench >&2
fi
for b in gpc-gateway null-relay loadgen; do
  [[ -x "$bin/$b" ]] || { echo "run.sh: $bin/$b missing" >&2; exit 2; }
done

amqp_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
if ! amqp_up; then
  log "starting RabbitMQ"
  rabbitmq-server -detached >&2 || true
  for _ in $(seq 1 60); do amqp_up && break; sleep 1; done
  amqp_up || { echo "run.sh: RabbitMQ is not reachable on 127.0.0.1:5672" >&2; exit 2; }
  for _ in $(seq 1 30); do rabbitmqctl -q await_startup >/dev/null 2>&1 && break; sleep 1; done
fi
broker_pid="$(pgrep -o -x beam.smp || true)"
mkdir -p "$OUT"
: >"$records"

# What the current run started or declared, so an interrupted run leaves nothing behind.
live_pids=""
live_topo=""
stop_pid() { # SIGTERM (the gateway drains), SIGKILL after 10 s
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup_all() {
  local pid
  for pid in $live_pids; do stop_pid "$pid"; done
  live_pids=""
  if [[ -n "$live_topo" ]]; then
    # shellcheck disable=SC2086
    "$bin/loadgen" cleanup --url "$AMQP_URL" $live_topo >/dev/null 2>&1 || true
    live_topo=""
  fi
}
trap cleanup_all EXIT
trap 'exit 130' INT TERM

clk_tck="$(getconf CLK_TCK)"
cpu_s() { # user+system CPU seconds of a process
  [[ -n "$1" && -r "/proc/$1/stat" ]] || { echo 0; return; }
  awk -v t="$clk_tck" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / t }' "/proc/$1/stat"
}
vmhwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# One run: fresh simulator, fresh names, the side under test, the load generator.
# Args: side (relay|gateway), mode (warmup|flood|paced), rep, count, rate.
one_run() {
  local side="$1" mode="$2" rep="$3" count="$4" rate="$5"
  local name="$run_id.$side.$mode.$rep" dir="$OUT/$side-$mode-$rep"
  local topo="--queue $name.in --dead-letter-queue $name.dead --exchange $name.out"
  mkdir -p "$dir"
  live_topo="$topo"
  "$bin/gpc-gateway" mesh-sim --listen 127.0.0.1:0 --no-responder >"$dir/sim.out" 2>"$dir/sim.err" &
  local sim_pid=$!
  live_pids="$sim_pid"
  for _ in $(seq 1 100); do [[ -s "$dir/sim.out" ]] && break; sleep 0.1; done
  local sim_url
  sim_url="$(head -n 1 "$dir/sim.out")"
  [[ "$sim_url" == http://127.0.0.1:* ]] || { echo "run.sh: simulator did not start" >&2; exit 1; }

  local sent_type side_pid
  if [[ "$side" == relay ]]; then
    sent_type="bench.relay.sent"
    # shellcheck disable=SC2086
    "$bin/null-relay" --url "$AMQP_URL" $topo --mesh-url "$sim_url" $RELAY_ARGS \
      >"$dir/side.out" 2>"$dir/side.err" &
    side_pid=$!
  else
    sent_type="gpc.message.sent"
    cat >"$dir/gateway.toml" <<EOF
data_dir = "$dir/data"
[store]
path = "gateway.db"
synchronous_full = true
[mesh]
url = "$sim_url"
shared_key = "TestKey"
[mesh.mailboxes.PHARM001]
password = "pharm001-pass"
ods_codes = ["FA001"]
[bus]
url = "$AMQP_URL"
exchange = "$name.out"
[inputs.amqp]
queue = "$name.in"
dead_letter_queue = "$name.dead"
[admin]
enabled = false
EOF
    RUST_LOG="$GATEWAY_LOG" "$bin/gpc-gateway" run --config "$dir/gateway.toml" \
      >"$dir/side.out" 2>"$dir/side.err" &
    side_pid=$!
  fi
  live_pids="$side_pid $sim_pid"

  local load1 cpu_side broker_after cpu_sim result
  load1="$(cut -d' ' -f1 /proc/loadavg)"
  # In the background so that a signal interrupts `wait` and the trap cleans up at once.
  # shellcheck disable=SC2086
  timeout $((TIMEOUT + 120)) "$bin/loadgen" run --url "$AMQP_URL" $topo \
    --sent-type "$sent_type" --count "$count" --rate "$rate" --timeout-secs "$TIMEOUT" \
    --label "$side-$mode-$rep" >"$dir/result.json" 2>"$dir/loadgen.err" &
  local loadgen_pid=$!
  live_pids="$loadgen_pid $side_pid $sim_pid"
  wait "$loadgen_pid" || true
  live_pids="$side_pid $sim_pid"
  result="$(tail -n 1 "$dir/result.json")"
  # CPU is counted from the side's start: its start-up is part of what a run costs.
  cpu_side="$(cpu_s "$side_pid")"
  broker_after="$(cpu_s "$broker_pid")"
  cpu_sim="$(cpu_s "$sim_pid")"
  local rss
  rss="$(vmhwm_kb "$side_pid")"
  cleanup_all
  rm -rf "$dir/data"
  gzip -1 -f "$dir/side.err" 2>/dev/null || true  # the gateway logs ~2 KB per message at info
  [[ "$result" == \{* ]] || result='{"complete":false}'
  local record
  record="$(printf '{"side":"%s","mode":"%s","rep":%s,"rss_kb":%s,"cpu_s":%s,"broker_cpu_s":%s,"sim_cpu_s":%s,"load1":%s,"result":%s}' \
    "$side" "$mode" "$rep" "${rss:-0}" "$cpu_side" \
    "$(awk -v a="$broker_after" -v b="$broker_before" 'BEGIN { printf "%.3f", a - b }')" \
    "$cpu_sim" "$load1" "$result")"
  [[ "$mode" == warmup ]] || printf '%s\n' "$record" >>"$records"
  log "$side $mode #$rep: $record"
}

run_pair() { # mode rep count rate: relay then gateway, each with its own broker CPU baseline
  local side
  for side in relay gateway; do
    broker_before="$(cpu_s "$broker_pid")"
    one_run "$side" "$@"
  done
}

log "run $run_id: N=$N REPS=$REPS PACED_RATE=$PACED_RATE PACED_N=$PACED_N; load: $(cut -d' ' -f1-3 /proc/loadavg)"
run_pair warmup 0 "$WARMUP_N" 0
if [[ " $MODES " == *" flood "* ]]; then
  for rep in $(seq 1 "$REPS"); do run_pair flood "$rep" "$N" 0; done
fi
if [[ " $MODES " == *" paced "* && "$PACED_RATE" != 0 ]]; then
  for rep in $(seq 1 "$REPS"); do run_pair paced "$rep" "$PACED_N" "$PACED_RATE"; done
fi

{
  printf '## gateway-bench %s\n\n' "$run_id"
  printf 'Machine: %s cores, %s; load average at the end: %s\n' "$(nproc)" "$(uname -sr)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'Binaries: %s (%s)\n' "$bin" "${LABEL:-$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)}"
  printf 'Modes: %s; N=%s (paced: %s at %s/s), %s runs per side and mode, gateway RUST_LOG=%s, relay flags: %s\n\n' \
    "$MODES" "$N" "$PACED_N" "$PACED_RATE" "$REPS" "$GATEWAY_LOG" "${RELAY_ARGS:-none}"
  "$bin/loadgen" report "$records"
} | tee "$OUT/report.md"
log "records: $records"
