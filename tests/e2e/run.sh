#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run one end-to-end test: the real duet binary on free loopback ports,
# driven by a SIPp scenario (and, for calls, a SIPp callee).
#   run.sh DUET_BINARY UAC_SCENARIO [-t u1|t1] [-m CALLS] [-6]
# Passes when SIPp exits 0 (every call passed its checks) and duet stops
# cleanly on SIGTERM. DUET_VALGRIND=1 runs duet under valgrind and fails on
# any leak or error.
set -euo pipefail

duet=$1
uac=$2
shift 2
transport=u1
calls=1
family=4
while [ $# -gt 0 ]; do
	case "$1" in
	-t) transport=$2; shift 2 ;;
	-m) calls=$2; shift 2 ;;
	-6) family=6; shift ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
duet_pid=
cleanup() {
	[ -n "$duet_pid" ] && kill -9 "$duet_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

ip=127.0.0.1
[ "$family" = 6 ] && ip=::1
# a free port for duet (UDP and TCP both free) and one for SIPp
read -r port sipp_port < <(python3 - "$ip" <<'PY'
import socket, sys
ip = sys.argv[1]
fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
out = []
while len(out) < 2:
    t = socket.socket(fam, socket.SOCK_STREAM); t.bind((ip, 0))
    p = t.getsockname()[1]
    u = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        u.bind((ip, p)); out.append(p)
    except OSError:
        pass
    u.close(); t.close()
print(*out)
PY
)

cat >"$work/duet.json" <<JSON
{
  "listen": [
    { "transport": "udp", "address": "$ip", "port": $port },
    { "transport": "tcp", "address": "$ip", "port": $port }
  ],
  "log_level": "info"
}
JSON

runner=()
if [ "${DUET_VALGRIND:-0}" = 1 ]; then
	runner=(valgrind --quiet --leak-check=full --show-leak-kinds=all
		--errors-for-leak-kinds=all --error-exitcode=99)
fi
"${runner[@]}" "$duet" -c "$work/duet.json" 2>"$work/duet.log" &
duet_pid=$!

# wait until duet listens (bounded: 10 s)
for _ in $(seq 1 100); do
	if ss -ltn 2>/dev/null | grep -q ":$port "; then break; fi
	sleep 0.1
done

sipp_ip=$ip
[ "$family" = 6 ] && sipp_ip="[::1]"
status=0
timeout 60 sipp -sf "$here/$uac" -t "$transport" -i "$ip" -p "$sipp_port" \
	-m "$calls" -timeout 30s -timeout_error -nostdin -trace_err \
	-error_file "$work/sipp_errors.log" "$sipp_ip:$port" \
	>"$work/sipp.out" 2>&1 || status=$?

kill -TERM "$duet_pid"
duet_status=0
wait "$duet_pid" || duet_status=$?
duet_pid=

if [ "$status" -ne 0 ] || [ "$duet_status" -ne 0 ]; then
	echo "e2e $uac ($transport, IPv$family): sipp exit $status, duet exit $duet_status"
	echo "--- sipp"; tail -n 40 "$work/sipp.out"
	[ -f "$work/sipp_errors.log" ] && { echo "--- sipp errors"; tail -n 40 "$work/sipp_errors.log"; }
	echo "--- duet"; tail -n 60 "$work/duet.log"
	exit 1
fi
echo "e2e $uac ($transport, IPv$family, $calls calls): passed"
