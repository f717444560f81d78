#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A/B of duet builds (or of one build with two read windows) on the
# bench-cps call: SIPp caller -> duet -> SIPp callee on 127.0.0.1, a fresh
# duet per run, AB_RATE calls/s for AB_SECONDS, then AB_DRAIN seconds so
# the lingering transactions end inside the window; the builds alternate,
# AB_ROUNDS times, so a slow minute of a shared host falls on both. Prints
# one line per run: CPU per call (the scheduler's nanoseconds, lib.sh
# cpu_ns; then utime and stime, the 10 ms tick samples of /proc/PID/stat),
# page faults per call, and duet's own counts of read windows and sendmmsg
# calls. A measuring tool for a change, not a verdict: see
# run.sh for the targets.
#
#   bench/cps/ab.sh BUILD_A BUILD_B      e.g. /tmp/old/build build
#
# Environment: AB_ROUNDS (3), AB_RATE (1000), AB_SECONDS (10), AB_DRAIN
# (34), AB_WINDOW_A / AB_WINDOW_B (timers.udp_read_window_us of each side;
# unset: duet's default).
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_A BUILD_B" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/cps/lib.sh
. "$here/lib.sh"
rounds=${AB_ROUNDS:-3} rate=${AB_RATE:-1000} secs=${AB_SECONDS:-10}
drain=${AB_DRAIN:-34}
hz=$(getconf CLK_TCK)
bench_duet_bin ab "$1" >/dev/null
bench_duet_bin ab "$2" >/dev/null
tmp=$(mktemp -d /tmp/bench-ab.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
read -r p_uas p_uac p_duet < <(free_udp_ports 3)

# one run: BUILD WINDOW_US -> its line
one() {
	local b=$1 win=$2 d uas u0 s0 f0 u1 s1 f1 r0 r1 wj=
	[ -n "$win" ] && wj=", \"udp_read_window_us\": $win"
	# log_level info: the read window and sendmmsg counts at exit
	bench_duet_json "$p_duet" "$p_uas" "$wj" |
		sed 's/"log_level": "warn"/"log_level": "info"/' >"$tmp/duet.json"
	"$b/app/duet" -c "$tmp/duet.json" >"$tmp/duet.log" 2>&1 &
	d=$!
	pids+=("$d")
	sipp -sf "$here/uas.xml" -t u1 -i 127.0.0.1 -p "$p_uas" -nostdin \
		-buff_size 4194304 -timeout $((secs + drain + 60))s >/dev/null 2>&1 &
	uas=$!
	pids+=("$uas")
	sleep 1
	read -r u0 s0 f0 < <(awk '{ print $14, $15, $10 }' "/proc/$d/stat")
	r0=$(cpu_ns "$d")
	timeout $((secs + 30)) sipp -sf "$here/uac.xml" -t u1 -i 127.0.0.1 \
		-buff_size 4194304 -p "$p_uac" "127.0.0.1:$p_duet" -r "$rate" \
		-rp 1000 -m $((rate * secs)) -nostdin >/dev/null 2>&1 || true
	sleep "$drain"
	read -r u1 s1 f1 < <(awk '{ print $14, $15, $10 }' "/proc/$d/stat")
	r1=$(cpu_ns "$d")
	kill -TERM "$d"
	wait "$d" 2>/dev/null || true
	kill -KILL "$uas"
	wait "$uas" 2>/dev/null || true
	sleep 1
	awk -v b="$b" -v w="${win:-default}" -v n=$((rate * secs)) -v hz="$hz" \
		-v c=$((u1 - u0 + s1 - s0)) -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v f=$((f1 - f0)) \
		-v r=$((r1 - r0)) -v st="$(grep -oE '[0-9]+ read windows( \([0-9]+ resized\))?, [0-9]+ sendmmsg' "$tmp/duet.log" || true)" \
		'BEGIN { printf "%-28s window %-7s cpu_us/call %4.0f (ticks %4.0f: user %3.0f, sys %3.0f) faults/call %.2f; %s\n",
			b, w, r / 1e3 / n, c * 1e6 / hz / n, u * 1e6 / hz / n, s * 1e6 / hz / n, f / n, st }'
}

echo "ab: $rounds rounds of $((rate * secs)) calls at $rate/s + ${drain} s, fresh duet each"
for _ in $(seq "$rounds"); do
	one "$1" "${AB_WINDOW_A:-}"
	one "$2" "${AB_WINDOW_B:-}"
done
