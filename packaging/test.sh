#!/usr/bin/env bash
# Builds the agent and server .deb packages and checks, on this machine,
# that they install and remove cleanly: files in place, units valid
# (systemd-analyze verify), nothing left after dpkg --purge. Called by
# .ci/run (as root); it touches the real system, so it removes any earlier
# kiemke packages first and purges its own at the end, also on failure.
#
# Uses the dev-profile binaries (cargo deb --profile dev), already built for
# the tests: the package layout is what is checked, not the optimiser.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
OUT=$(mktemp -d)
PACKAGES=(kiemke-agent kiemke-server)

fail() { echo "packaging test FAILED: $*" >&2; exit 1; }
purge() { dpkg --purge "${PACKAGES[@]}" >/dev/null 2>&1 || true; }
trap 'purge; rm -rf "$OUT"' EXIT

[[ $(id -u) == 0 ]] || fail "needs root (dpkg -i)"
command -v cargo-deb >/dev/null || fail "cargo-deb is missing: cargo install cargo-deb"

echo "== build"
cargo build -q -p kiemke-agent -p kiemke-server
for p in "${PACKAGES[@]}"; do
  cargo deb -q -p "$p" --profile dev --no-build -o "$OUT" >/dev/null
done
ls -l "$OUT"/*.deb

purge
echo "== dpkg -i"
dpkg -i "$OUT"/kiemke-agent_*.deb "$OUT"/kiemke-server_*.deb >/dev/null

expect_file() { [[ -e $1 ]] || fail "$1 is missing after dpkg -i"; }
expect_file /usr/bin/kiemke-agent
expect_file /usr/bin/kiemke-server
expect_file /usr/share/doc/kiemke-agent/install.md
expect_file /etc/default/kiemke-server
unit_dir=""
for d in /lib/systemd/system /usr/lib/systemd/system; do
  [[ -e $d/kiemke-agent.service ]] && unit_dir=$d
done
[[ -n $unit_dir ]] || fail "kiemke-agent.service is not installed"
expect_file "$unit_dir/kiemke-server.service"
cmp -s packaging/kiemke-agent.service "$unit_dir/kiemke-agent.service" \
  || fail "the installed agent unit differs from packaging/kiemke-agent.service"

# Output is captured before it is searched: `cmd | grep -q` closes the pipe
# at the first match, and a program still writing then fails with EPIPE.
version=$(/usr/bin/kiemke-agent --version) || fail "kiemke-agent --version"
[[ $version == *kiemke-agent* ]] || fail "kiemke-agent --version: $version"
version=$(/usr/bin/kiemke-server --version) || fail "kiemke-server --version"
[[ $version == *kiemke-server* ]] || fail "kiemke-server --version: $version"
# The packaged program is the one install uses: status finds the unit.
status=$(/usr/bin/kiemke-agent status --data "$OUT/data") || fail "kiemke-agent status"
grep -q "^Dịch vụ: " <<<"$status" || fail "kiemke-agent status: $status"
grep -q "CHƯA cài đặt" <<<"$status" && fail "status does not see the packaged unit: $status"

if command -v systemd-analyze >/dev/null; then
  echo "== systemd-analyze verify"
  # Warnings about the host (no running systemd, missing targets in a
  # container) are printed; only errors about our units fail.
  verify=$(systemd-analyze verify "$unit_dir/kiemke-agent.service" "$unit_dir/kiemke-server.service" 2>&1 || true)
  echo "$verify"
  if echo "$verify" | grep -E "kiemke-(agent|server)\.service" \
      | grep -viE "Failed to (connect|create|setup|determine)|bus|Cannot (add|load) dependency|not found.*target" \
      | grep -qiE "error|unknown|invalid|failed"; then
    fail "systemd-analyze verify reports problems in our units"
  fi
else
  echo "== systemd-analyze not available: units not verified"
fi

echo "== dpkg -r"
dpkg -r "${PACKAGES[@]}" >/dev/null
for f in /usr/bin/kiemke-agent /usr/bin/kiemke-server "$unit_dir/kiemke-agent.service" "$unit_dir/kiemke-server.service"; do
  [[ ! -e $f ]] || fail "$f is left after dpkg -r"
done
[[ -e /etc/default/kiemke-server ]] || fail "dpkg -r must keep the conffile /etc/default/kiemke-server"
echo "== dpkg --purge"
dpkg --purge "${PACKAGES[@]}" >/dev/null
[[ ! -e /etc/default/kiemke-server ]] || fail "/etc/default/kiemke-server is left after --purge"
dpkg -s kiemke-agent >/dev/null 2>&1 && fail "kiemke-agent is still known to dpkg"
echo "packaging test: 2 packages installed, checked and removed cleanly"
