#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run one end-to-end test: the real duet binary on free loopback ports,
# driven by a SIPp scenario (and, for calls, a SIPp callee).
#   run.sh DUET_BINARY UAC_SCENARIO [-t u1|t1] [-m|-calls CALLS] [-6]
#          [-uas UAS_SCENARIO] [-timers 'JSON'] [-key NAME VALUE]...
#          [-uac_opt ARG]... [-uas_opt ARG]...
#          [-config TEMPLATE] [-uas2 UAS_SCENARIO] [-uas_calls N]
#          [-uas2_calls N] [-uas2_opt ARG]... [-reload TEMPLATE]
#          [-reload_at SECONDS] [-expect_log REGEX]...
#          [-reject_log REGEX]... [-reload_when REGEX] [-dns NAME]
#   -t        SIPp transport, u1 (UDP, default) or t1 (TCP); the callee
#             uses the same one
#   -m/-calls calls the caller places and the callee answers (default 1)
#   -6        IPv6 loopback (::1) instead of 127.0.0.1
#   -uas      start a SIPp callee with this scenario on a free port before
#             duet, and give duet a default route to it
#             (sip:callee@IP:PORT;transport=udp|tcp)
#   -timers   duet's "timers" object, or its members alone
#             ('"t1": 100, "ring_timeout": 2000')
#   -key      a SIPp keyword [NAME] = VALUE, for both SIPp instances
#   -uas_t    the callee's transport (u1 or t1) when it differs from the
#             caller's; the route target then names no transport, so duet
#             picks one itself (RFC 3261 §18.1.1: UDP, or TCP when the
#             request is too big)
#   -uas_idle the callee must receive nothing (duet answers the caller
#             itself): it is stopped after the caller and its message log
#             must hold no request
#   -sigterm MS  send duet SIGTERM MS milliseconds after duet logs its
#             first answered call (calls in progress drain; duet must then
#             stop by itself)
#   -sigterm_on TEXT  count those MS from the first log line with TEXT
#             instead (default "--> ready": a call answered)
#   -after_sigterm SCENARIO  then run a second SIPp caller (one call, e.g.
#             a new INVITE that must get 503); it must exit 0 too
#   -uac_opt / -uas_opt  one more SIPp argument for the caller / callee
#             (e.g. -nr: every retransmission reaches the scenario)
#   -config   duet's routes from a JSON template (tests/e2e/conf_*.json)
#             instead of the default route; the placeholders @IP@ (the
#             loopback address, IPv6 in brackets), @PROTO@ (udp or tcp),
#             @UAS_PORT@ and @UAS2_PORT@ (the callees' ports) are
#             replaced; run.sh sets listen and log_level (and -timers)
#   -uas2     a second SIPp callee (its own free port, @UAS2_PORT@)
#   -uas_calls / -uas2_calls  calls each callee takes (default: -m)
#   -uas2_opt one more SIPp argument for the second callee
#   -reload   SECONDS (-reload_at, default 1) after the caller starts,
#             duet's configuration file is replaced by this template and
#             duet gets SIGHUP
#   -reload_when  reload once duet's log matches this regular expression
#             (at most 20 s) instead of after -reload_at seconds
#   -dns      run tests/e2e/dns_server.py on a free port, answering NAME
#             with the loopback address (A only), and point duet at it
#             (DUET_DNS_SERVER); templates may use the name (IPv4 only)
#   -expect_log  a regular expression (grep -E) duet's log must match
#   -reject_log  a regular expression duet's log must not match
#   (templates may also name @FREE_PORT@: a port nothing listens on)
# Passes when the caller's SIPp exits 0 (every call passed its checks), the
# callee's SIPp (with -uas) exits 0, and duet stops cleanly on SIGTERM; on
# failure the tails of all logs are printed. Every wait is bounded. With
# DUET_VALGRIND=1 duet runs under valgrind and fails on any leak or error.
set -euo pipefail

duet=$1
uac=$2
shift 2
transport=u1
calls=1
family=4
uas=
uas_idle=0
uas_transport=
sigterm_ms=
sigterm_on="--> ready"
after_sigterm=
uas2=
timers=
keys=()
uac_opts=()
uas_opts=()
uas2_opts=()
config_tmpl=
reload_tmpl=
reload_at=1
reload_when=
uas_calls=
uas2_calls=
expect_logs=()
reject_logs=()
dns_name=
while [ $# -gt 0 ]; do
	case "$1" in
	-t) transport=$2; shift 2 ;;
	-m | -calls) calls=$2; shift 2 ;;
	-6) family=6; shift ;;
	-uas) uas=$2; shift 2 ;;
	-uas_idle) uas_idle=1; shift ;;
	-uas_t) uas_transport=$2; shift 2 ;;
	-sigterm) sigterm_ms=$2; shift 2 ;;
	-sigterm_on) sigterm_on=$2; shift 2 ;;
	-after_sigterm) after_sigterm=$2; shift 2 ;;
	-timers) timers=$2; shift 2 ;;
	-key) keys+=(-key "$2" "$3"); shift 3 ;;
	-uac_opt) uac_opts+=("$2"); shift 2 ;;
	-uas_opt) uas_opts+=("$2"); shift 2 ;;
	-uas2) uas2=$2; shift 2 ;;
	-uas2_opt) uas2_opts+=("$2"); shift 2 ;;
	-uas_calls) uas_calls=$2; shift 2 ;;
	-uas2_calls) uas2_calls=$2; shift 2 ;;
	-config) config_tmpl=$2; shift 2 ;;
	-reload) reload_tmpl=$2; shift 2 ;;
	-reload_at) reload_at=$2; shift 2 ;;
	-reload_when) reload_when=$2; shift 2 ;;
	-expect_log) expect_logs+=("$2"); shift 2 ;;
	-reject_log) reject_logs+=("$2"); shift 2 ;;
	-dns) dns_name=$2; shift 2 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
case "$transport" in
u1) proto=udp ;;
t1) proto=tcp ;;
*) echo "run.sh: -t expects u1 or t1, not $transport" >&2; exit 2 ;;
esac
case "$calls" in
'' | *[!0-9]*) echo "run.sh: -m expects a number, not $calls" >&2; exit 2 ;;
esac

uas_t=${uas_transport:-$transport}
case "$uas_t" in
u1) uas_proto=udp ;;
t1) uas_proto=tcp ;;
*) echo "run.sh: -uas_t expects u1 or t1, not $uas_t" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
duet_pid=
uas_pid=
uas2_pid=
uas2_port=
reload_pid=
[ -n "$uas_calls" ] || uas_calls=$calls
case "$config_tmpl" in '' | /*) ;; *) config_tmpl=$here/$config_tmpl ;; esac
case "$reload_tmpl" in '' | /*) ;; *) reload_tmpl=$here/$reload_tmpl ;; esac
[ -n "$uas2_calls" ] || uas2_calls=$calls
# stop PID: TERM (timeout(1) passes it on to SIPp), KILL after 2 s
stop() {
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 1 20); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null || true
}
dns_pid=
cleanup() {
	[ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null
	[ -n "$reload_pid" ] && kill "$reload_pid" 2>/dev/null
	[ -n "$uas_pid" ] && stop "$uas_pid"
	[ -n "$uas2_pid" ] && stop "$uas2_pid"
	[ -n "$duet_pid" ] && kill -9 "$duet_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# wait_pid PID SECONDS: wait for a background child, at most SECONDS; sets
# waited to its exit status, or to "timeout" (the child is then killed)
waited=
wait_pid() {
	local pid=$1 limit=$(($2 * 10))
	while kill -0 "$pid" 2>/dev/null && [ "$limit" -gt 0 ]; do
		sleep 0.1
		limit=$((limit - 1))
	done
	waited=0
	if kill -0 "$pid" 2>/dev/null; then
		stop "$pid"
		wait "$pid" 2>/dev/null || true
		waited=timeout
		return 0
	fi
	wait "$pid" || waited=$?
}

# wait_listen PROTO PORT PID: until something listens there (at most 10 s)
# while PID lives; returns 1 if it never did
wait_listen() {
	local flag=-ltnH
	[ "$1" = udp ] && flag=-lunH
	for _ in $(seq 1 100); do
		if ss "$flag" 2>/dev/null | grep -q ":$2 "; then return 0; fi
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

ip=127.0.0.1
[ "$family" = 6 ] && ip=::1
uri_host=$ip
[ "$family" = 6 ] && uri_host="[::1]"
sipp_ip=$ip
[ "$family" = 6 ] && sipp_ip="[::1]"

# free_port: a port free for both UDP and TCP, drawn at random below the
# kernel's ephemeral range (where connect() and other tests' port-0 binds
# do not reach), so that parallel tests rarely collide; a start that still
# collides is retried with another port
free_port() {
	python3 - "$ip" <<'PY'
import random, socket, sys
ip = sys.argv[1]
fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
try:
    lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
except (OSError, ValueError):
    lo, hi = 32768, 60999
span = (10000, lo - 1) if lo - 10000 > 2000 else (hi + 1, 65535) if 65535 - hi > 2000 else None
for _ in range(500):
    t = socket.socket(fam, socket.SOCK_STREAM)
    u = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        t.bind((ip, random.randint(*span) if span else 0))
        p = t.getsockname()[1]
        u.bind((ip, p))
        print(p)
        sys.exit(0)
    except OSError:
        pass
    finally:
        t.close(); u.close()
sys.exit("run.sh: no free port")
PY
}

dump() {
	local f
	[ -f "$work/duet.json" ] && { echo "--- duet config"; cat "$work/duet.json"; }
	for f in sipp.out sipp_errors.log sipp_messages.log uas.out \
		uas_errors.log uas_messages.log uas2.out uas2_errors.log \
		uas2_messages.log; do
		[ -s "$work/$f" ] || continue
		echo "--- $f"; tail -n 60 "$work/$f"
	done
	[ -f "$work/duet.log" ] && { echo "--- duet.log"; tail -n 80 "$work/duet.log"; }
	return 0
}

# start_callee NAME SCENARIO CALLS OPTS...: a SIPp callee on a free port
# (three tries, should its port be taken meanwhile); sets callee_pid and
# callee_port; logs in $work/NAME*
start_callee() {
	local name=$1 scen=$2 n=$3
	shift 3
	for try in 1 2 3; do
		callee_port=$(free_port)
		rm -f "$work/$name".out "$work/$name"_*.log
		timeout 75 sipp -sf "$here/$scen" -t "$uas_t" -i "$ip" \
			-p "$callee_port" -m "$n" -timeout 60s -timeout_error \
			-nostdin -trace_err -error_file "$work/${name}_errors.log" \
			-trace_msg -message_file "$work/${name}_messages.log" \
			${keys[@]+"${keys[@]}"} "$@" \
			>"$work/$name.out" 2>&1 &
		callee_pid=$!
		wait_listen "$uas_proto" "$callee_port" "$callee_pid" && return 0
		stop "$callee_pid"
		wait "$callee_pid" 2>/dev/null || true
		callee_pid=
		if [ "$try" = 3 ] || ! grep -qi "bind" "$work/$name.out"; then
			echo "e2e $uac: the callee SIPp ($scen) did not start"
			dump
			exit 1
		fi
	done
}

dead_port=$(free_port)

# a DNS server of the test's own (-dns)
if [ -n "$dns_name" ]; then
	dns_port=$(free_port)
	python3 "$here/dns_server.py" "$ip" "$dns_port" "$dns_name" "$ip" \
		>"$work/dns.out" 2>&1 &
	dns_pid=$!
	wait_listen udp "$dns_port" "$dns_pid" || {
		echo "e2e $uac: the DNS server did not start"
		exit 1
	}
	export DUET_DNS_SERVER="$ip:$dns_port"
fi

# the callees first: duet's route must lead somewhere when the first call
# arrives
if [ -n "$uas" ]; then
	start_callee uas "$uas" "$uas_calls" ${uas_opts[@]+"${uas_opts[@]}"}
	uas_pid=$callee_pid
	uas_port=$callee_port
fi
if [ -n "$uas2" ]; then
	start_callee uas2 "$uas2" "$uas2_calls" ${uas2_opts[@]+"${uas2_opts[@]}"}
	uas2_pid=$callee_pid
	uas2_port=$callee_port
fi

# duet's configuration; with a callee, a default route to it and the timers
target=
if [ -n "$uas" ] && [ -n "$uas_transport" ]; then
	target="sip:callee@$uri_host:$uas_port"
elif [ -n "$uas" ]; then
	target="sip:callee@$uri_host:$uas_port;transport=$proto"
fi
runner=()
if [ "${DUET_VALGRIND:-0}" = 1 ]; then
	# DUET_NO_POOL: call state from the heap, where valgrind sees
	# each object (alloc.h)
	runner=(env DUET_NO_POOL=1 valgrind --quiet --leak-check=full
		--show-leak-kinds=all --errors-for-leak-kinds=all
		--error-exitcode=99)
fi
# make_config [TEMPLATE]: duet's configuration on stdout: listen on $port,
# the routes of TEMPLATE (placeholders replaced) or a default route to the
# callee, -timers, log_level
make_config() {
	python3 - "$ip" "$port" "$target" "$timers" "${1:-}" "$uri_host" \
		"$proto" "${uas_port:-0}" "${uas2_port:-0}" "$dead_port" <<'PY'
import json, sys
ip, port, target, timers, tmpl = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
uri_host, proto, uas_port, uas2_port, dead_port = sys.argv[6:11]
cfg = {}
if tmpl:
    text = open(tmpl).read()
    for k, v in (("@IP@", uri_host), ("@PROTO@", proto),
                 ("@UAS_PORT@", uas_port), ("@UAS2_PORT@", uas2_port),
                 ("@FREE_PORT@", dead_port)):
        text = text.replace(k, v)
    try:
        cfg = json.loads(text)
    except ValueError:
        print(text)  # a broken template stays broken (reload tests)
        sys.exit(0)
elif target:
    cfg["routes"] = [{"name": "default", "targets": [{"uri": target}]}]
cfg["listen"] = [{"transport": "udp", "address": ip, "port": port},
                 {"transport": "tcp", "address": ip, "port": port}]
if timers.strip():
    frag = timers.strip()
    try:
        cfg.setdefault("timers", {}).update(json.loads(frag if frag.startswith("{") else "{" + frag + "}"))
    except ValueError as e:
        sys.exit("run.sh: -timers is not a JSON object or its members: %s (%s)" % (timers, e))
cfg["log_level"] = "debug" if (target or tmpl) else "info"
print(json.dumps(cfg, indent=2))
PY
}

for try in 1 2 3; do
	port=$(free_port)
	if ! make_config "$config_tmpl" >"$work/duet.json"; then
		exit 2
	fi
	${runner[@]+"${runner[@]}"} "$duet" -c "$work/duet.json" 2>"$work/duet.log" &
	duet_pid=$!
	wait_listen tcp "$port" "$duet_pid" && break
	kill -9 "$duet_pid" 2>/dev/null || true
	wait "$duet_pid" 2>/dev/null || true
	duet_pid=
	if [ "$try" = 3 ] || ! grep -q "in use" "$work/duet.log"; then
		echo "e2e $uac: duet did not start"
		dump
		exit 1
	fi
done

# SIGTERM during the calls, then perhaps a second caller
signaller=
if [ -n "$sigterm_ms" ]; then
	(
		# a loaded machine may take a while to start the caller: count
		# from the first answered call, not from the start (bounded)
		for _ in $(seq 1 200); do
			grep -qF -- "$sigterm_on" "$work/duet.log" && break
			sleep 0.05
		done
		sleep "$(awk -v ms="$sigterm_ms" 'BEGIN { print ms / 1000 }')"
		kill -TERM "$duet_pid" 2>/dev/null
		echo "sigterm sent" >"$work/sigterm.out"
		[ -z "$after_sigterm" ] && exit 0
		st=0
		timeout 30 sipp -sf "$here/$after_sigterm" -t "$transport" \
			-i "$ip" -p "$(free_port)" -m 1 -timeout 20s \
			-timeout_error -nostdin -trace_err -error_file \
			"$work/after_errors.log" -trace_msg -message_file \
			"$work/after_messages.log" "$sipp_ip:$port" \
			>"$work/after.out" 2>&1 || st=$?
		echo "$st" >"$work/after.status"
	) &
	signaller=$!
fi

# a configuration reload under the running caller (-reload)
if [ -n "$reload_tmpl" ]; then
	make_config "$reload_tmpl" >"$work/reload.json" || exit 2
	(
		if [ -n "$reload_when" ]; then
			for _ in $(seq 1 200); do
				grep -qE -- "$reload_when" "$work/duet.log" && break
				sleep 0.1
			done
		else
			sleep "$reload_at"
		fi
		cp "$work/reload.json" "$work/duet.json.new"
		mv "$work/duet.json.new" "$work/duet.json"
		kill -HUP "$duet_pid"
	) &
	reload_pid=$!
fi
# the caller (a new port if SIPp cannot bind its own: exit status 254)
for try in 1 2 3; do
	sipp_port=$(free_port)
	status=0
	timeout 60 sipp -sf "$here/$uac" -t "$transport" -i "$ip" \
		-p "$sipp_port" -m "$calls" -timeout 30s -timeout_error -nostdin \
		-trace_err -error_file "$work/sipp_errors.log" -trace_msg \
		-message_file "$work/sipp_messages.log" ${keys[@]+"${keys[@]}"} \
		${uac_opts[@]+"${uac_opts[@]}"} "$sipp_ip:$port" \
		>"$work/sipp.out" 2>&1 || status=$?
	[ "$status" -ge 254 ] && grep -qi "bind" "$work/sipp.out" || break
done

if [ -n "$signaller" ]; then
	wait "$signaller" 2>/dev/null || true
	if [ -n "$after_sigterm" ] &&
		[ "$(cat "$work/after.status" 2>/dev/null)" != 0 ]; then
		echo "e2e: the caller after SIGTERM ($after_sigterm) failed:"
		tail -5 "$work/after.out" "$work/after_errors.log" 2>/dev/null || true
		status=95
	fi
fi

uas_status=0
if [ -n "$uas" ] && [ "$uas_idle" = 1 ]; then
	sleep 0.5 # anything duet sent would have arrived by now
	stop "$uas_pid"
	wait "$uas_pid" 2>/dev/null || true
	uas_pid=
	if grep -Eq "^[A-Z]+ [^ ]+ SIP/2\.0" "$work/uas_messages.log" 2>/dev/null; then
		echo "e2e: the callee received a request it should not have:"
		grep -E "^[A-Z]+ [^ ]+ SIP/2\.0" "$work/uas_messages.log" | head -3
		uas_status=96
	fi
elif [ -n "$uas" ]; then
	# the callee ends with its last call (the caller may finish first)
	wait_pid "$uas_pid" 20
	uas_status=$waited
	uas_pid=
fi
uas2_status=0
if [ -n "$uas2" ]; then
	wait_pid "$uas2_pid" 20
	uas2_status=$waited
	uas2_pid=
fi
[ -n "$reload_pid" ] && { wait "$reload_pid" 2>/dev/null || true; reload_pid=; }

kill -TERM "$duet_pid" 2>/dev/null || true
limit=15
[ "${DUET_VALGRIND:-0}" = 1 ] && limit=40
wait_pid "$duet_pid" "$limit"
duet_status=$waited
duet_pid=

# every call ended: duet's closing line counts no call left active (its
# dialogs, timers and buffers are owned by calls), and once everything is
# freed no allocation is left
if [ "$duet_status" = 0 ] && ! grep -q "stopped: calls .* 0 active;" "$work/duet.log"; then
	echo "e2e: duet stopped with calls still active:"
	grep "stopped:" "$work/duet.log" || true
	duet_status=98
fi
if [ "$duet_status" = 0 ] && ! grep -q "exit: 0 allocations left" "$work/duet.log"; then
	echo "e2e: duet lost memory:"
	grep "exit:" "$work/duet.log" || echo "(no exit line)"
	duet_status=97
fi

log_status=0
for re in ${expect_logs[@]+"${expect_logs[@]}"}; do
	if ! grep -qE -- "$re" "$work/duet.log"; then
		echo "e2e: duet's log has no line matching: $re"
		log_status=1
	fi
done
for re in ${reject_logs[@]+"${reject_logs[@]}"}; do
	if grep -qE -- "$re" "$work/duet.log"; then
		echo "e2e: duet's log has a line it must not have: $re"
		grep -E -- "$re" "$work/duet.log" | head -3
		log_status=1
	fi
done

callee_st=none
[ -n "$uas" ] && callee_st=$uas_status
[ -n "$uas2" ] && callee_st="$callee_st, second callee sipp exit $uas2_status"
what="$uac${uas:+ -> $uas}${uas2:+ + $uas2}${config_tmpl:+ [$(basename "$config_tmpl")]} ($transport, IPv$family, $calls calls)"
if [ "$status" != 0 ] || [ "$uas_status" != 0 ] || [ "$uas2_status" != 0 ] ||
	[ "$duet_status" != 0 ] || [ "$log_status" != 0 ]; then
	echo "e2e $what: caller sipp exit $status, callee sipp exit $callee_st, duet exit $duet_status"
	dump
	exit 1
fi
echo "e2e $what: passed"
