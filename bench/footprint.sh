#!/usr/bin/env bash
# Footprint of the Kiểm kê agent next to its peers, on this machine, in one
# run (issue 9). Not a test: it prints figures (Markdown), and with --write
# puts them into docs/benchmarks.md between the footprint markers.
#
#   bench/footprint.sh [--write]        # as root (the peers need it)
#
# Measures, each inventory RUNS times (default 3, the median is shown):
#   - one full inventory, wall / CPU time / peak RSS from /usr/bin/time -v:
#       kiemke-agent inventory --json
#       fusioninventory-agent --local OUTDIR      (Debian: fusioninventory-agent)
#       ocsinventory-agent --local OUTDIR         (Debian: ocsinventory-agent)
#   - the agent daemon's RSS after an hour-equivalent of scheduled work
#     (kiemke-agent run against a real kiemke-server on loopback, inventory
#     every 5 s and ping bursts every 30 s for IDLE_SECS, default 60 s: 12
#     inventories, more than a real day's), read from /proc/PID/status;
#   - the release binaries' sizes (Linux, Windows x86_64, Windows i686 when
#     that target is installed);
#   - one report as it goes on the wire (the gzip body the spool keeps).
# Needs: /usr/bin/time (Debian: time), curl, python3, the two peers
# (apt-get install fusioninventory-agent ocsinventory-agent), MinGW for the
# Windows builds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
RUNS=${RUNS:-3}
IDLE_SECS=${IDLE_SECS:-60}
WRITE=0
[[ ${1:-} == --write ]] && WRITE=1

for tool in /usr/bin/time fusioninventory-agent ocsinventory-agent curl python3; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

echo "== release builds" >&2
cargo build --release -q -p kiemke-agent -p kiemke-server
cargo build --release -q -p kiemke-agent --target x86_64-pc-windows-gnu
I686=""
if rustup target list --installed 2>/dev/null | grep -q i686-pc-windows-gnu \
  && command -v i686-w64-mingw32-gcc >/dev/null; then
  cargo build --release -q -p kiemke-agent --target i686-pc-windows-gnu && I686=1
fi
AGENT=$TARGET/release/kiemke-agent
SERVER=$TARGET/release/kiemke-server

WORK=$(mktemp -d)
SERVER_PID=""
AGENT_PID=""
cleanup() {
  [[ -n $AGENT_PID ]] && kill "$AGENT_PID" 2>/dev/null || true
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# One measured run: prints "wall_s cpu_s peak_kb".
measure_once() {
  local log=$WORK/time.txt start end
  start=$(date +%s%N)
  /usr/bin/time -v -o "$log" "$@" >/dev/null 2>&1 || {
    echo "failed: $*" >&2
    cat "$log" >&2
    exit 1
  }
  end=$(date +%s%N)
  # Wall time from the clock in ns (time -v rounds to 10 ms).
  python3 - "$log" "$((end - start))" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def f(label):
    return re.search(re.escape(label) + r":\s*(.+)", t).group(1).strip()
secs = int(sys.argv[2]) / 1e9
cpu = float(f("User time (seconds)")) + float(f("System time (seconds)"))
print(f"{secs:.4f} {cpu:.3f} {f('Maximum resident set size (kbytes)')}")
EOF
}

# RUNS runs; prints the medians "wall_s cpu_s peak_kb".
measure() {
  local rows=()
  for _ in $(seq "$RUNS"); do rows+=("$(measure_once "$@")"); done
  printf '%s\n' "${rows[@]}" | python3 -c '
import sys, statistics
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
print(" ".join(f"{statistics.median(c):.4f}" for c in zip(*rows)))'
}

echo "== inventories ($RUNS runs each)" >&2
mkdir -p "$WORK/fusion" "$WORK/ocs"
KIEMKE=$(measure "$AGENT" inventory --json)
FUSION=$(measure fusioninventory-agent --local "$WORK/fusion")
OCS=$(measure ocsinventory-agent --local "$WORK/ocs")

echo "== daemon for ${IDLE_SECS}s against a loopback server" >&2
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ADMIN=bench-admin-token-0123456789abcdef
"$SERVER" serve --listen "127.0.0.1:$PORT" --data "$WORK/server" --admin-token "$ADMIN" \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
  sleep 0.1
done
TOKEN=$(curl -fs -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
  -d '{"commune":"24118","uses":1,"expires":"1d"}' \
  "http://127.0.0.1:$PORT/api/v1/admin/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
DATA=$WORK/agent
"$AGENT" enroll --server "http://127.0.0.1:$PORT" --token "$TOKEN" --data "$DATA" >/dev/null
cat >"$DATA/kiemke-agent.toml" <<EOF
startup-delay-max = "1s"
probe-interval = "30s"
probe-report-interval = "30s"
probe-count = 20
speed-tests-per-day = 0
EOF
KIEMKE_LOG=warn "$AGENT" run --interval 5s --data "$DATA" >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
sleep "$IDLE_SECS"
RSS_KB=$(awk '/^VmRSS/ {print $2}' "/proc/$AGENT_PID/status")
HWM_KB=$(awk '/^VmHWM/ {print $2}' "/proc/$AGENT_PID/status")
kill "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
AGENT_PID=""
REPORTS=$(curl -fs -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$PORT/api/v1/devices" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin)["devices"]; print(len(d))' || echo "?")

echo "== one report on the wire" >&2
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
# Server gone: the report stays in the spool, gzip-encoded as it is sent.
WIRE=$WORK/wire
"$AGENT" report --server "http://127.0.0.1:$PORT" --data "$WIRE" >/dev/null 2>&1 || true
WIRE_BYTES=$("$AGENT" status --data "$WIRE" --lang en | sed -n 's/^Queue: 1 report(s) waiting (\([0-9]*\) bytes).*/\1/p')
JSON_BYTES=$("$AGENT" inventory --json | wc -c)

size() { stat -c %s "$1"; }
LINUX_SIZE=$(size "$AGENT")
WIN64_SIZE=$(size "$TARGET/x86_64-pc-windows-gnu/release/kiemke-agent.exe")
WIN32_SIZE=""
[[ -n $I686 ]] && WIN32_SIZE=$(size "$TARGET/i686-pc-windows-gnu/release/kiemke-agent.exe")

TABLE=$(python3 - "$KIEMKE" "$FUSION" "$OCS" "$RSS_KB" "$HWM_KB" "$LINUX_SIZE" "$WIN64_SIZE" "$WIN32_SIZE" "$WIRE_BYTES" "$JSON_BYTES" "$IDLE_SECS" "$REPORTS" <<'EOF'
import sys
k, f, o = (list(map(float, a.split())) for a in sys.argv[1:4])
rss, hwm, lin, w64, w32, wire, js, idle, reports = sys.argv[4:13]
mb = lambda kb: f"{float(kb) / 1024:.1f} MB"
def row(name, r):
    return f"| {name} | {r[0] * 1000:.0f} ms | {r[1] * 1000:.0f} ms | {mb(r[2])} |"
lightest = min((f, "fusioninventory-agent"), (o, "ocsinventory-agent"), key=lambda x: x[0][2])
print("| One full inventory | Wall | CPU (user+sys) | Peak RSS |")
print("| --- | ---: | ---: | ---: |")
print(row("`kiemke-agent inventory --json`", k))
print(row("`fusioninventory-agent --local DIR`", f))
print(row("`ocsinventory-agent --local DIR`", o))
print()
print(f"Ratios, Kiểm kê to the lightest peer by peak RSS ({lightest[1]}): "
      f"peak RSS {k[2] / lightest[0][2]:.3f} (goal ≤ 0.2), "
      f"wall {k[0] / lightest[0][0]:.3f} (goal ≤ 0.2), "
      f"CPU {k[1] / max(lightest[0][1], 1e-3):.3f} (time -v counts CPU in 10 ms steps). "
      f"To fusioninventory-agent: RSS {k[2] / f[2]:.3f}, wall {k[0] / f[0]:.3f}; "
      f"to ocsinventory-agent: RSS {k[2] / o[2]:.3f}, wall {k[0] / o[0]:.3f}.")
print()
print("| Other figure | Kiểm kê | Goal |")
print("| --- | ---: | ---: |")
print(f"| Daemon RSS after {idle} s of 5 s inventories and 30 s ping bursts ({reports} device(s) on the server) | {mb(rss)} (peak {mb(hwm)}) | ≤ 15 MB |")
print(f"| Release binary, Linux x86_64 | {int(lin) / 1e6:.1f} MB | |")
print(f"| Release `kiemke-agent.exe`, Windows x86_64 | {int(w64) / 1e6:.1f} MB | ≤ 15 MB |")
if w32:
    print(f"| Release `kiemke-agent.exe`, Windows i686 | {int(w32) / 1e6:.1f} MB | ≤ 15 MB |")
print(f"| One report on the wire (gzip; this machine's inventory JSON is {int(js)} bytes) | {int(wire) / 1000:.1f} KB | ≤ 10 KB |")
EOF
)

MACHINE="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d)"
OUT=$(printf '%s\n\nMachine: %s; %s runs per inventory, medians.\n' "$TABLE" "$MACHINE" "$RUNS")
echo "$OUT"

if ((WRITE)); then
  python3 - "$ROOT/docs/benchmarks.md" "$OUT" <<'EOF'
import sys, re
path, body = sys.argv[1], sys.argv[2]
text = open(path).read()
begin, end = "<!-- footprint:begin -->", "<!-- footprint:end -->"
block = f"{begin}\n{body}\n{end}"
if begin in text:
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
else:
    text = text.rstrip() + "\n\n" + block + "\n"
open(path, "w").write(text)
EOF
  echo "== written to docs/benchmarks.md" >&2
fi
