# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Shared by bench/cps/run.sh, ab.sh and soak.sh (sourced, not run).

# free_udp_ports N: N free UDP ports on 127.0.0.1, on one line, held
# together while picked so that they differ
free_udp_ports() {
	python3 -c '
import socket, sys
s = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"
}

# bench_duet_bin WHO BUILD_DIR: the absolute path of BUILD_DIR's duet on
# stdout; a message from WHO and status 1 when it is not built
bench_duet_bin() {
	local bin
	bin=$(cd "$2" 2>/dev/null && pwd || :)/app/duet
	if [ ! -x "$bin" ]; then
		echo "$1: $2/app/duet not built" >&2
		return 1
	fi
	printf '%s\n' "$bin"
}

# bench_duet_json PORT CALLEE_PORT [TIMERS]: duet's config for the bench
# call, on stdout: one UDP listener, one route to the SIPp callee, TIMERS
# (e.g. ', "udp_read_window_us": 5000') added to its timers.
# max_transactions: a call keeps four transactions for about 101 s in all
# on UDP (64*T1 lingering, RFC 6026), so the default 500000 holds about
# 5000 calls/s; the ladder goes to 8000.
bench_duet_json() {
	cat <<JSON
{ "listen": [ {"transport":"udp","address":"127.0.0.1","port":$1} ],
  "routes": [ {"name":"bench","targets":[{"uri":"sip:callee@127.0.0.1:$2"}]} ],
  "timers": {"ring_timeout": 60000${3:-}}, "log_level": "warn",
  "limits": {"max_transactions": 2000000} }
JSON
}

# cpu_ns PID...: nanoseconds on a CPU so far, summed over the processes and
# all their threads, from the scheduler's own clock (/proc/PID/task/*/
# schedstat, first field). Exact, where utime + stime are 10 ms tick
# samples: a run of 10,000 calls at 100 µs each is only 100 ticks, and a
# process that wakes in step with the tick is sampled unevenly.
cpu_ns() {
	local p t=0 v f
	for p in "$@"; do
		for f in /proc/"$p"/task/*/schedstat; do
			read -r v _ <"$f" 2>/dev/null || v=0
			t=$((t + ${v:-0}))
		done
	done
	echo "$t"
}
