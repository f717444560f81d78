#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The calls-per-second benchmark (`make bench-cps`): SIPp caller -> target ->
# SIPp callee over UDP on 127.0.0.1, for three targets in one run:
#   sipp      the caller straight to the callee: the rig's own ceiling
#   duet      BUILD_DIR/app/duet, one B2BUA process
#   kamailio  Debian's Kamailio with bench/cps/kamailio.cfg (transaction
#             stateful, record-routing, 2 UDP workers for 2 cores, TLSF
#             allocator)
#
#   bench/cps/run.sh BUILD_DIR
#
# 1. A ladder of call rates per target (CPS_STEPS), CPS_STEP_SECONDS of calls
#    at each rate; a call is INVITE/[100]/180/200/ACK, CPS_CALL_MS of talk,
#    BYE/200 (bench/cps/uac.xml, uas.xml). A step is clean when every call
#    succeeded, neither SIPp counted a failed call, retransmissions (sent by
#    either SIPp) stayed under 1% of the 6 messages SIPp sends per call, and
#    the caller kept to the rate (placing the calls took at most 10% longer
#    than planned). A target's ladder stops at its first unclean step.
# 2. Sustained: a 10 s step ends before the transactions of its first calls
#    do (64*T1 = 32 s on UDP), so the highest clean rate of duet and Kamailio
#    is run again on a fresh process for CPS_SUSTAIN_SECONDS; if unclean,
#    the next lower clean rate (3 tries at most). The targets' ratio uses
#    this sustained rate.
# 3. CPU per call: the time on a CPU of the target (every Kamailio process;
#    the scheduler's nanoseconds from /proc/PID/task/*/schedstat, not tick
#    samples) across a CPS_REF_RATE step plus CPS_DRAIN_SECONDS after
#    it, so the timers that end the calls' transactions fire inside the
#    window, divided by the calls completed. The step starts
#    CPS_DRAIN_SECONDS after the target's previous step ended, so that the
#    window holds the work of its own calls only: the earlier steps'
#    transactions (lingering up to 64*T1 on UDP in duet, RFC 6026; about
#    5 s in Kamailio) end before it opens, not inside it. One such window
#    moves by 10-15% from run to run on a shared machine, so the verdict
#    takes the median of CPS_CPU_ROUNDS windows per target (5: three left
#    the medians swinging by as much, runs 14-16), duet's and
#    Kamailio's alternating on two processes kept running (after one
#    unmeasured warm-up window each), so that a slow minute of the host
#    falls on both. The ladder's CPS_REF_RATE step is shown too, and the
#    caller's mean INVITE-to-200 time (inv_ms): the latency each target
#    adds, which duet's UDP read window trades for CPU.
#    CPS_CPU_MODE=steady measures the steady state instead: each window is
#    CPS_DRAIN_SECONDS + CPS_STEADY_SECONDS + 3 s of calls at CPS_REF_RATE,
#    the CPU read between CPS_DRAIN_SECONDS in and 3 s before the end
#    (aligned to the caller's statistics lines), divided by the calls
#    completed in between: by then as many transactions end each second
#    as start, and memory the target gave back after an earlier burst is
#    in use again.
# 4. Memory per call held open: a fresh target, CPS_HOLD calls set up (at
#    CPS_HOLD_RATE, or the target's ladder rate if lower) and held until
#    their transactions are gone; resident memory (duet: VmRSS; Kamailio:
#    the sum of Pss over its processes, as its shared memory is mapped by
#    all of them) before the calls and with all of them up, divided by the
#    calls. Kamailio runs here with its dialog module (in memory, no
#    database: -A WITH_DIALOG) so it keeps per-call state as duet does. Then
#    the calls end with BYEs and the target must still be alive.
#
# Targets (the cps issue), as ratios from this one run: duet's CPU per call
# at most 0.3 of Kamailio's, its highest clean rate at least twice
# Kamailio's, at most 2 KiB resident per call held open. A FAIL is printed,
# not returned: this is a benchmark, not a test (exit 1 only when it cannot
# run at all). Everything binds 127.0.0.1 on free ports picked at start;
# every process started here is killed on exit. About 22 minutes.
#
# Environment: CPS_STEPS (default "250 500 1000 2000 3000 4000 6000 8000"),
# CPS_STEP_SECONDS (10), CPS_SUSTAIN_SECONDS (40), CPS_CALL_MS (1000),
# CPS_REF_RATE (1000), CPS_DRAIN_SECONDS (34), CPS_HOLD (20000),
# CPS_HOLD_RATE (2000), CPS_CPU_ROUNDS (5; 0: the ladder's step decides),
# CPS_CPU_MODE (burst; steady: see 3.), CPS_STEADY_SECONDS (20),
# CPS_TARGETS (default "sipp duet kamailio"), CPS_PHASES (default "ladder
# cpu memory": the phases to run; the summary shows what ran),
# CPS_KEEP=1 keeps the work directory (SIPp statistics, logs), CPS_DEBUG=1
# has the caller write the history of every failed call there.
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/cps/lib.sh
. "$here/lib.sh"
duet_bin=$(bench_duet_bin bench-cps "$1")
steps=${CPS_STEPS:-"250 500 1000 2000 3000 4000 6000 8000"}
step_s=${CPS_STEP_SECONDS:-10}
sustain_s=${CPS_SUSTAIN_SECONDS:-40}
call_ms=${CPS_CALL_MS:-1000}
ref_rate=${CPS_REF_RATE:-1000}
drain_s=${CPS_DRAIN_SECONDS:-34}
hold_n=${CPS_HOLD:-20000}
hold_rate=${CPS_HOLD_RATE:-2000}
targets=${CPS_TARGETS:-"sipp duet kamailio"}
cpu_rounds=${CPS_CPU_ROUNDS:-5}
cpu_mode=${CPS_CPU_MODE:-burst}
steady_s=${CPS_STEADY_SECONDS:-20}
phases=${CPS_PHASES:-"ladder cpu memory"}
max_retr_pct=1
cpu_ratio_max=0.3
rate_ratio_min=2
mem_max=2048

for tool in sipp python3 ss; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "bench-cps: $tool not found (scripts/install-deps.sh bench)" >&2
		exit 1
	}
done
wants() { [[ " $targets " == *" $1 "* ]]; }
if wants kamailio && ! command -v kamailio >/dev/null 2>&1; then
	echo "bench-cps: kamailio not found: installing the Debian package" >&2
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get install -y -qq --no-install-recommends kamailio >/dev/null 2>&1 ||
		{ $SUDO apt-get update -qq &&
			$SUDO apt-get install -y -qq --no-install-recommends kamailio >/dev/null; } ||
		true
fi
if wants kamailio && ! command -v kamailio >/dev/null 2>&1; then
	echo "bench-cps: no kamailio: its rows and the ratios are skipped" >&2
	targets=${targets//kamailio/}
fi

# many calls held open: as many descriptors as allowed (UDP needs one)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# Socket buffers: at a few thousand calls per second the kernel's default
# UDP buffer limit (net.core.rmem_max, about 200 KB) loses datagrams in
# every process's socket during a stall of milliseconds, and each loss is
# a retransmission counted against the step. When allowed (root), every
# process gets up to 4 MiB for the run (SIPp -buff_size, Kamailio
# maxbuffer, duet's own request) and the old limits come back at the end.
old_rmem='' old_wmem=''
if [ -w /proc/sys/net/core/rmem_max ] && [ -w /proc/sys/net/core/wmem_max ]; then
	old_rmem=$(cat /proc/sys/net/core/rmem_max)
	old_wmem=$(cat /proc/sys/net/core/wmem_max)
	echo 4194304 >/proc/sys/net/core/rmem_max
	echo 4194304 >/proc/sys/net/core/wmem_max
fi

tmp=$(mktemp -d /tmp/bench-cps.XXXXXX)
pids=()
cleanup() {
	local p all
	trap - EXIT INT TERM
	[ -n "$old_rmem" ] && echo "$old_rmem" >/proc/sys/net/core/rmem_max
	[ -n "$old_wmem" ] && echo "$old_wmem" >/proc/sys/net/core/wmem_max
	# what this script started: the targets, the callees, and the background
	# jobs (a subshell running `timeout sipp`); each with its children
	# shellcheck disable=SC2207 # PIDs: no spaces
	all=($(jobs -p) "${pids[@]}")
	for p in "${all[@]}"; do
		pgrep -P "$p" 2>/dev/null | xargs -r kill -TERM 2>/dev/null || true
		kill -TERM "$p" 2>/dev/null || true
	done
	sleep 0.5
	for p in "${all[@]}"; do
		pgrep -P "$p" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ "${CPS_KEEP:-0}" = 1 ]; then
		echo "bench-cps: work dir kept: $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r p_uas p_uac p_duet p_kam < <(free_udp_ports 4)

# ------------------------------------------------------------ measuring

# The counters of the last line of a SIPp -trace_stat file (written every
# second and at exit): 10 IncomingCall(C), 12 OutgoingCall(C), 14 CurrentCall,
# 16 SuccessfulCall(C), 18 FailedCall(C), 58 Retransmissions(C).
# stat_get FILE NAME
stat_get() {
	local f=$1
	if [ ! -s "$f" ] || [ "$(wc -l <"$f")" -lt 2 ]; then
		echo 0
		return
	fi
	tail -n 1 "$f" | awk -F';' -v k="$2" '{
		v["in"] = $10; v["out"] = $12; v["cur"] = $14; v["ok"] = $16
		v["fail"] = $18; v["retr"] = $58; print v[k] + 0 }'
}

# the processes of a target: duet's pid, or Kamailio's main and children
proc_list() {
	echo "$1"
	pgrep -P "$1" 2>/dev/null || true
}
# CPU nanoseconds summed over the target's processes (lib.sh: cpu_ns)
cpu_target_ns() {
	# shellcheck disable=SC2046 # one pid per word
	cpu_ns $(proc_list "$1")
}
# rt_ms FILE: the caller's mean INVITE-to-200 time so far, in ms (SIPp's
# ResponseTime1(C), "HH:MM:SS:mmmuuu"), or - when there is none
rt_ms() {
	[ -s "$1" ] || { echo -; return; }
	awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "ResponseTime1(C)") c = i }
		END { if (!c) { print "-"; exit } split($c, t, ":")
			printf "%.1f\n", t[1] * 3600000 + t[2] * 60000 + t[3] * 1000 + t[4] / 1000 }' "$1"
}
# resident kB: duet's VmRSS, or the sum of Pss over Kamailio's processes
mem_kb() {
	local kind=$1 p=$2 t=0 v q
	if [ "$kind" = duet ]; then
		awk '/^VmRSS:/ { print $2 }' "/proc/$p/status"
		return
	fi
	for q in $(proc_list "$p"); do
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$q/smaps_rollup" 2>/dev/null || echo 0)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null &&
		[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
bound() { ss -Hunl "sport = :$1" 2>/dev/null | grep -q .; }
wait_bound() { # PORT: until something listens there, at most 5 s
	for _ in $(seq 50); do
		bound "$1" && return 0
		sleep 0.1
	done
	return 1
}
wait_free() { # PORT: until nothing listens there, at most 3 s
	for _ in $(seq 30); do
		bound "$1" || return 0
		sleep 0.1
	done
}
now() { date +%s.%N; }
# sleep and run in the background, then wait: a trapped INT or TERM is
# handled at once, not when the foreground command ends
nap() { sleep "$1" & wait $! || true; }
fdiv() { awk -v a="$1" -v b="$2" -v f="${3:-%.1f}" 'BEGIN { if (b == 0) print "-"; else printf f "\n", a / b }'; }

# ------------------------------------------------------------ processes

# start_target KIND [dialog] -> tgt_pid (empty for sipp), tgt_addr
start_target() {
	local kind=$1 extra=${2:-}
	case $kind in
	sipp)
		tgt_pid=
		tgt_addr=127.0.0.1:$p_uas
		;;
	duet)
		bench_duet_json "$p_duet" "$p_uas" >"$tmp/duet.json"
		echo "--- duet started $(date +%T)" >>"$tmp/duet.log"
		"$duet_bin" -c "$tmp/duet.json" >>"$tmp/duet.log" 2>&1 &
		tgt_pid=$!
		pids+=("$tgt_pid")
		tgt_addr=127.0.0.1:$p_duet
		wait_bound "$p_duet" || {
			echo "bench-cps: duet did not start" >&2
			tail "$tmp/duet.log" >&2
			exit 1
		}
		;;
	kamailio)
		local defs=(-A "CALLEE=\"sip:127.0.0.1:$p_uas\"")
		[ "$extra" = dialog ] && defs+=(-A WITH_DIALOG)
		mkdir -p "$tmp/kamrun"
		# -x tlsf: Kamailio's fast allocator (the default, qm, costs it
		# about twice the CPU per call in this benchmark)
		kamailio -f "$here/kamailio.cfg" -DD -E -n 2 -l "udp:127.0.0.1:$p_kam" \
			-m 512 -M 16 -x tlsf -Y "$tmp/kamrun" -w "$tmp" "${defs[@]}" \
			>>"$tmp/kamailio.log" 2>&1 &
		tgt_pid=$!
		pids+=("$tgt_pid")
		tgt_addr=127.0.0.1:$p_kam
		wait_bound "$p_kam" || {
			echo "bench-cps: kamailio did not start" >&2
			tail "$tmp/kamailio.log" >&2
			exit 1
		}
		sleep 0.5 # its workers
		;;
	esac
}

stop_target() {
	local p=$1
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null || true
	for _ in $(seq 50); do
		alive "$p" || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	wait_free "$p_duet"
	wait_free "$p_kam"
}

# start_uas TAG [TIMEOUT_S] -> uas_pid, statistics in $tmp/uas.TAG.csv
start_uas() {
	local f=$tmp/uas.$1.csv
	rm -f "$f"
	# -buff_size: the rig's own sockets get 4 MiB buffers (SIPp's
	# default lost datagrams at 3000 calls/s, counted against the target)
	sipp -sf "$here/uas.xml" -t u1 -i 127.0.0.1 -p "$p_uas" -nostdin -l 200000 \
		-buff_size 4194304 \
		-timeout "${2:-600}s" -trace_stat -stf "$f" -fd 1 \
		-trace_err -error_file "$tmp/uas.$1.err" -max_log_size 1000000 \
		>/dev/null 2>&1 &
	uas_pid=$!
	pids+=("$uas_pid")
	wait_bound "$p_uas" || { echo "bench-cps: SIPp callee did not start" >&2; exit 1; }
	for _ in $(seq 30); do
		[ -s "$f" ] && break
		sleep 0.1
	done
}
stop_uas() {
	kill -KILL "$uas_pid" 2>/dev/null || true
	wait "$uas_pid" 2>/dev/null || true
	wait_free "$p_uas"
}

# run_uac TAG ADDR RATE CALLS CALL_MS TIMEOUT_S [LIMIT], in the foreground.
# The call length is the wait after the ACK in uac.xml (see there).
run_uac() {
	local tag=$1 addr=$2 rate=$3 calls=$4 d=$5 to=$6 limit=${7:-}
	local lim=() sf=$tmp/uac.$5.xml
	[ -n "$limit" ] && lim=(-l "$limit")
	if [ ! -s "$sf" ]; then
		sed -e "s/timeout=\"1000\" ontimeout=\"bye\"/timeout=\"$d\" ontimeout=\"bye\"/" \
			-e "s/<pause milliseconds=\"1000\"\\/>/<pause milliseconds=\"$d\"\\/>/" \
			"$here/uac.xml" >"$sf"
		[ "$(grep -c "\"$d\"" "$sf")" -ge 2 ] || {
			echo "bench-cps: uac.xml: no call length (1000) to set" >&2
			exit 1
		}
	fi
	rm -f "$tmp/uac.$tag.csv"
	# no -trace_err: each call's end of talk is a warning there. The
	# history of each failed call with CPS_DEBUG=1 (it slows the caller)
	local dbg=()
	[ "${CPS_DEBUG:-0}" = 1 ] && dbg=(-trace_calldebug -calldebug_file
		"$tmp/uac.$tag.calldebug" -max_log_size 20000000)
	timeout -k 5 "$to" sipp -sf "$sf" -t u1 -i 127.0.0.1 -buff_size 4194304 \
		-p "$p_uac" "$addr" -r "$rate" -rp 1000 -m "$calls" "${lim[@]}" \
		"${dbg[@]}" -nostdin -timeout "${to}s" \
		-trace_stat -stf "$tmp/uac.$tag.csv" -fd 1 >/dev/null 2>&1 &
	wait $! || true
}

# ------------------------------------------------------------ one step

declare -A max_clean sustained cpu_us cpu_note cpu_samples ladder_cpu mem_b mem_note dead rt_samples
declare -A clean_rates
step_hdr() {
	printf '  %-9s %-7s %6s %7s %7s %6s %6s %8s %7s %7s %11s %6s %8s %5s\n' \
		target step cps calls ok fail_c fail_s retrans retr% placed cpu_us/call inv_ms verdict load
}

# next_stat FILE: wait (at most 2 s) for the caller's next statistics line
# (-fd 1), so that a count read from it and the CPU read right after it
# describe the same moment
next_stat() {
	local n
	n=$(wc -l <"$1" 2>/dev/null || echo 0)
	for _ in $(seq 100); do
		[ "$(wc -l <"$1" 2>/dev/null || echo 0)" -gt "$n" ] && return 0
		sleep 0.02
	done
}

# run_step KIND LABEL RATE SECONDS DRAIN_S [WARM_S]: one step against the
# running target; sets step_verdict and step_cpu and prints its row. With
# WARM_S, the CPU is that of the steady state: read WARM_S into the step
# and 2 s before its end, divided by the calls completed in between (3.
# above); otherwise over the whole step and DRAIN_S after it.
run_step() {
	local kind=$1 label=$2 rate=$3 secs=$4 drain=$5 warm=${6:-}
	local tag=$kind.$label.$rate calls=$((rate * secs)) to c0=0 c1=0 t0 t1
	local ok ufail sfail retr pct wall place_s placed n0=0 n1=0 f uac_job
	to=$((secs + call_ms / 1000 + 20))
	f=$tmp/uac.$tag.csv
	start_uas "$tag"
	if [ -n "$warm" ]; then
		t0=$(now)
		run_uac "$tag" "$tgt_addr" "$rate" "$calls" "$call_ms" "$to" &
		uac_job=$!
		nap "$warm"
		next_stat "$f"
		[ -n "$tgt_pid" ] && c0=$(cpu_target_ns "$tgt_pid")
		n0=$(stat_get "$f" ok)
		nap $((secs - warm - 3))
		next_stat "$f"
		[ -n "$tgt_pid" ] && alive "$tgt_pid" && c1=$(cpu_target_ns "$tgt_pid")
		n1=$(stat_get "$f" ok)
		wait "$uac_job" || true
		t1=$(now)
		nap 1.2
	else
		[ -n "$tgt_pid" ] && c0=$(cpu_target_ns "$tgt_pid")
		t0=$(now)
		run_uac "$tag" "$tgt_addr" "$rate" "$calls" "$call_ms" "$to"
		t1=$(now)
		nap 1.2 # the callee's last statistics line (-fd 1)
		[ "$drain" -gt 0 ] && nap "$drain"
		[ -n "$tgt_pid" ] && alive "$tgt_pid" && c1=$(cpu_target_ns "$tgt_pid")
	fi
	ok=$(stat_get "$f" ok)
	[ -n "$warm" ] || n1=$ok
	ufail=$(stat_get "$tmp/uac.$tag.csv" fail)
	sfail=$(stat_get "$tmp/uas.$tag.csv" fail)
	retr=$(($(stat_get "$tmp/uac.$tag.csv" retr) + $(stat_get "$tmp/uas.$tag.csv" retr)))
	stop_uas
	pct=$(awk -v r="$retr" -v n="$calls" 'BEGIN { printf "%.2f", 100 * r / (6 * n) }')
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	place_s=$(awk -v w="$wall" -v d="$call_ms" 'BEGIN { p = w - d / 1000; if (p < 0.001) p = 0.001; printf "%.3f", p }')
	placed=$(fdiv "$calls" "$place_s" "%.0f")
	step_cpu=-
	if [ -n "$tgt_pid" ] && [ $((n1 - n0)) -gt 0 ] && [ "$c1" -gt 0 ]; then
		step_cpu=$(awk -v t=$((c1 - c0)) -v n=$((n1 - n0)) \
			'BEGIN { printf "%.0f", t / 1e3 / n }')
	fi
	step_verdict=clean
	if [ "$ok" -ne "$calls" ] || [ "$ufail" -ne 0 ] || [ "$sfail" -ne 0 ]; then
		step_verdict=UNCLEAN
	elif awk -v p="$pct" -v m="$max_retr_pct" 'BEGIN { exit !(p >= m) }'; then
		step_verdict=UNCLEAN
	elif awk -v p="$place_s" -v s="$secs" 'BEGIN { exit !(p > 1.1 * s) }'; then
		step_verdict=UNCLEAN
	fi
	if [ -n "$tgt_pid" ] && ! alive "$tgt_pid"; then
		step_verdict=DIED
		dead[$kind]=1
	fi
	step_rt=$(rt_ms "$f")
	printf '  %-9s %-7s %6s %7s %7s %6s %6s %8s %6s%% %7s %11s %6s %8s %5s\n' \
		"$kind" "$label" "$rate" "$calls" "$ok" "$ufail" "$sfail" "$retr" "$pct" \
		"$placed" "$step_cpu" "$step_rt" "$step_verdict" "$(cut -d' ' -f1 /proc/loadavg)"
}

log_tail() { # why a target died
	if [ "$1" = duet ]; then
		echo "  duet DIED; its log's tail:"
		tail -n 30 "$tmp/duet.log" | sed 's/^/    /'
	else
		echo "  $1 DIED; its log's tail:"
		tail -n 30 "$tmp/$1.log" 2>/dev/null | sed 's/^/    /'
	fi
}

# ------------------------------------------------------------ phases

ladder() {
	local kind=$1 rate drain
	start_target "$kind"
	max_clean[$kind]=0
	clean_rates[$kind]=
	for rate in $steps; do
		drain=0
		if [ "$rate" = "$ref_rate" ] && [ -n "$tgt_pid" ]; then
			drain=$drain_s
			# quiet before the CPU window too (3. above)
			[ "$rate" = "${steps%% *}" ] || nap "$drain_s"
		fi
		run_step "$kind" ladder "$rate" "$step_s" "$drain"
		if [ "$rate" = "$ref_rate" ] && [ -n "$tgt_pid" ]; then
			cpu_us[$kind]=$step_cpu
			ladder_cpu[$kind]=$step_cpu
			cpu_note[$kind]="at $rate cps over ${step_s} s + ${drain} s, after ${drain} s quiet"
			[ "$step_verdict" = clean ] || cpu_note[$kind]+=" (step $step_verdict)"
		fi
		[ "$step_verdict" = clean ] || break
		max_clean[$kind]=$rate
		clean_rates[$kind]="$rate ${clean_rates[$kind]}"
	done
	[ "${dead[$kind]:-0}" = 1 ] && log_tail "$kind"
	stop_target "$tgt_pid"
}

sustain() {
	local kind=$1 rate tries=0
	sustained[$kind]=0
	for rate in ${clean_rates[$kind]}; do
		[ $tries -lt 3 ] || break
		tries=$((tries + 1))
		start_target "$kind"
		run_step "$kind" sustain "$rate" "$sustain_s" 0
		[ "${dead[$kind]:-0}" = 1 ] && log_tail "$kind"
		stop_target "$tgt_pid"
		if [ "$step_verdict" = clean ]; then
			sustained[$kind]=$rate
			break
		fi
	done
}

# the median of the numbers on stdin (an even count: the mean of the middle two)
median() {
	tr ' ' '\n' | grep -v '^$' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else if (NR) printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# CPU windows, duet's and Kamailio's alternating (3. above): both targets
# run side by side on their own ports, one measured while the other idles
cpu_rounds_run() {
	local d_pid d_addr k_pid k_addr r k samples_d='' samples_k='' rts_d='' rts_k=''
	start_target duet
	d_pid=$tgt_pid d_addr=$tgt_addr
	start_target kamailio
	k_pid=$tgt_pid k_addr=$tgt_addr
	local first=0
	[ "$cpu_mode" = steady ] && first=1
	for r in $(seq "$first" "$cpu_rounds"); do
		for k in duet kamailio; do
			if [ $k = duet ]; then
				tgt_pid=$d_pid tgt_addr=$d_addr
			else
				tgt_pid=$k_pid tgt_addr=$k_addr
			fi
			alive "$tgt_pid" || continue
			if [ "$cpu_mode" = steady ]; then
				run_step "$k" "cpu$r" "$ref_rate" \
					$((drain_s + steady_s + 3)) 0 "$drain_s"
			else # round 0 warms the process up and is not counted
				run_step "$k" "cpu$r" "$ref_rate" "$step_s" "$drain_s"
			fi
			if [ "$r" -eq 0 ] || [ "$step_verdict" != clean ]; then
				continue
			fi
			if [ $k = duet ]; then
				samples_d+=" $step_cpu" rts_d+=" $step_rt"
			else
				samples_k+=" $step_cpu" rts_k+=" $step_rt"
			fi
		done
	done
	for k in duet kamailio; do
		[ "${dead[$k]:-0}" = 1 ] && log_tail "$k"
	done
	stop_target "$d_pid"
	stop_target "$k_pid"
	cpu_samples[duet]=${samples_d# } cpu_samples[kamailio]=${samples_k# }
	rt_samples[duet]=${rts_d# } rt_samples[kamailio]=${rts_k# }
	for k in duet kamailio; do
		[ -n "${cpu_samples[$k]}" ] || continue
		cpu_us[$k]=$(echo "${cpu_samples[$k]}" | median)
		if [ "$cpu_mode" = steady ]; then
			cpu_note[$k]="median of ${cpu_samples[$k]// /, } at $ref_rate cps (steady: ${steady_s} s after ${drain_s} s, alternating)"
		else
			cpu_note[$k]="median of ${cpu_samples[$k]// /, } at $ref_rate cps (${step_s} s + ${drain_s} s each, alternating)"
		fi
	done
}

hold() {
	local kind=$1 extra=${2:-} rate=$hold_rate best
	local before up settled after hold_ms setup_s to out cur cur2 fail sfail ok
	local per_up per_set state=alive uac_job
	# a burst of setups as long as a ladder step: the ladder's clean rate
	best=${max_clean[$kind]:-0}
	[ "$best" -gt 0 ] && [ "$best" -lt "$rate" ] && rate=$best
	start_target "$kind" "$extra"
	nap 1
	before=$(mem_kb "$kind" "$tgt_pid")
	setup_s=$(((hold_n + rate - 1) / rate))
	hold_ms=$(((setup_s + drain_s + 6) * 1000))
	to=$((setup_s + hold_ms / 1000 + 40))
	start_uas "hold.$kind" $((to + 20))
	run_uac "hold.$kind" "$tgt_addr" "$rate" "$hold_n" "$hold_ms" "$to" "$hold_n" &
	uac_job=$!
	# all N placed, then answered
	for _ in $(seq $((setup_s * 10 + 300))); do
		out=$(stat_get "$tmp/uac.hold.$kind.csv" out)
		[ "$out" -ge "$hold_n" ] && break
		alive "$tgt_pid" || break
		sleep 0.1
	done
	nap 2.5
	cur=$(stat_get "$tmp/uac.hold.$kind.csv" cur)
	up=0
	alive "$tgt_pid" && up=$(mem_kb "$kind" "$tgt_pid")
	# the setup transactions end 64*T1 = 32 s after the last 2xx
	[ "$drain_s" -gt 2 ] && nap $((drain_s - 2))
	settled=0
	alive "$tgt_pid" && settled=$(mem_kb "$kind" "$tgt_pid")
	cur2=$(stat_get "$tmp/uac.hold.$kind.csv" cur)
	wait "$uac_job" || true
	nap 2
	ok=$(stat_get "$tmp/uac.hold.$kind.csv" ok)
	fail=$(stat_get "$tmp/uac.hold.$kind.csv" fail)
	sfail=$(stat_get "$tmp/uas.hold.$kind.csv" fail)
	after=0
	alive "$tgt_pid" && after=$(mem_kb "$kind" "$tgt_pid")
	stop_uas
	per_up=$(awk -v a="$up" -v b="$before" -v n="$hold_n" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
	per_set=$(awk -v a="$settled" -v b="$before" -v n="$hold_n" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
	alive "$tgt_pid" || { state=DIED; dead[$kind]=1; }
	printf '  %-15s %5s %6s %6s %6s %8s %8s %8s %8s %10s %10s %7s %7s %6s\n' \
		"$kind${extra:++$extra}" "$rate" "$hold_n" "$cur" "$ok" "$before" "$up" \
		"$settled" "$after" "$per_up" "$per_set" "$fail" "$sfail" "$state"
	if [ "$cur" -lt "$hold_n" ] || [ "$cur2" -lt "$hold_n" ]; then
		mem_note[$kind]="only $cur (later $cur2) of $hold_n calls were up"
	fi
	mem_b[$kind]=$per_set
	[ "$state" = DIED ] && log_tail "$kind"
	stop_target "$tgt_pid"
}

# ------------------------------------------------------------ the run

echo "bench-cps: ports callee $p_uas caller $p_uac duet $p_duet kamailio $p_kam; work dir $tmp"
echo "bench-cps: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg);" \
	"$(sipp -v 2>&1 | awk '/SIPp v/ { print "SIPp", $2 }')" \
	"$(command -v kamailio >/dev/null 2>&1 && kamailio -v 2>/dev/null | awk 'NR == 1 { print "kamailio", $3 }')"
phase() { [[ " $phases " == *" $1 "* ]]; }
if phase ladder; then
	echo
	echo "== ladder: $step_s s of calls per step, ${call_ms} ms calls; sustained: ${sustain_s} s =="
	step_hdr
	for k in $targets; do
		ladder "$k"
		[ "$k" = sipp ] || sustain "$k"
	done
fi
if phase cpu && [ "$cpu_rounds" -gt 0 ] && wants duet && wants kamailio; then
	echo
	if [ "$cpu_mode" = steady ]; then
		echo "== CPU: $cpu_rounds windows per target at $ref_rate cps, alternating; each measures ${steady_s} s after ${drain_s} s of calls =="
	else
		echo "== CPU: $cpu_rounds windows per target at $ref_rate cps, alternating (cpu0: warm-up, not counted) =="
	fi
	step_hdr
	cpu_rounds_run
fi
if phase memory; then
	echo
	echo "== memory: $hold_n calls held open (set up at up to $hold_rate cps) =="
	printf '  %-15s %5s %6s %6s %6s %8s %8s %8s %8s %10s %10s %7s %7s %6s\n' \
		target cps calls up ended kB_0 kB_up kB_held kB_end B/call_up B/call_held fail_c fail_s state
	for k in $targets; do
		case $k in
		duet) hold duet ;;
		kamailio) hold kamailio dialog ;;
		esac
	done
fi

# ------------------------------------------------------------ summary

verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo FAIL; fi; }
echo
echo "== summary =="
printf '  %-9s %12s %12s %14s %14s  %s\n' target ladder_cps sustained_cps \
	"cpu_us/call" B/held_call "(cpu window)"
for k in $targets; do
	printf '  %-9s %12s %12s %14s %14s  %s\n' "$k" "${max_clean[$k]:-0}" \
		"${sustained[$k]:--}" "${cpu_us[$k]:--}" "${mem_b[$k]:--}" "${cpu_note[$k]:-}"
done
for k in duet kamailio; do
	if [ -n "${mem_note[$k]:-}" ]; then echo "  note: $k: ${mem_note[$k]}"; fi
	if [ "${dead[$k]:-0}" = 1 ]; then echo "  note: $k DIED during the run"; fi
done
top=${steps##* }
if [ "${max_clean[duet]:-0}" = "$top" ]; then
	echo "  note: duet was clean at the top step ($top cps): its ceiling is higher"
fi
if [ "${max_clean[sipp]:-0}" -gt 0 ] && [ "${max_clean[duet]:-0}" -ge "${max_clean[sipp]}" ]; then
	echo "  note: duet reached the rig's own ceiling (${max_clean[sipp]} cps)"
fi
echo
d_cpu=${cpu_us[duet]:--} k_cpu=${cpu_us[kamailio]:--}
if [ "$d_cpu" != - ] && [ "$k_cpu" != - ]; then
	r=$(fdiv "$d_cpu" "$k_cpu" "%.2f")
	echo "CPU per call at $ref_rate cps: duet $d_cpu us, kamailio $k_cpu us, ratio $r (target <= $cpu_ratio_max): $(verdict "$r <= $cpu_ratio_max")"
	if [ -n "${cpu_samples[duet]:-}" ]; then
		echo "  (medians; windows: duet ${cpu_samples[duet]// /, }, kamailio ${cpu_samples[kamailio]// /, }; the ladder's step: duet ${ladder_cpu[duet]:--}, kamailio ${ladder_cpu[kamailio]:--}, ratio $(fdiv "${ladder_cpu[duet]:-0}" "${ladder_cpu[kamailio]:-0}" "%.2f"))"
		# the price of duet's read window (docs/ARCHITECTURE.md)
		echo "  the caller's mean INVITE-to-200 ms in those windows: duet ${rt_samples[duet]// /, }; kamailio ${rt_samples[kamailio]// /, }"
	fi
else
	echo "CPU per call at $ref_rate cps: duet $d_cpu us, kamailio $k_cpu us: not both measured: FAIL"
fi
d_max=${sustained[duet]:-0} k_max=${sustained[kamailio]:-0}
if ! phase ladder; then
	echo "highest clean rate: not run (CPS_PHASES)"
elif [ "$k_max" -gt 0 ]; then
	r=$(fdiv "$d_max" "$k_max" "%.2f")
	echo "highest clean rate (sustained): duet $d_max cps, kamailio $k_max cps, ratio $r (target >= $rate_ratio_min): $(verdict "$r >= $rate_ratio_min")"
else
	echo "highest clean rate (sustained): duet $d_max cps, kamailio $k_max cps: no ratio: FAIL"
fi
d_mem=${mem_b[duet]:--}
if [ "$d_mem" != - ]; then
	echo "memory per held call: duet $d_mem B (kamailio with dialogs ${mem_b[kamailio]:--} B), target <= $mem_max B: $(verdict "$d_mem <= $mem_max")"
fi
n_log=$(grep -vc '^--- duet started' "$tmp/duet.log" 2>/dev/null || true)
if [ "${n_log:-0}" -gt 0 ]; then
	echo
	echo "duet log: $n_log lines (warnings and errors); by message:"
	grep -v '^--- duet started' "$tmp/duet.log" | sed -E 's/^[0-9:.]+ +//; s/call [0-9]+/call N/; s/[0-9]+ bytes/N bytes/' |
		sort | uniq -c | sort -rn | head -n 8 | sed 's/^/  /'
	echo "  last lines:"
	tail -n 5 "$tmp/duet.log" | sed 's/^/    /'
fi
exit 0
