#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A soak of the bench call for hunting rare failures: one fresh duet, the
# SIPp caller and callee of bench-cps at RATE calls/s for SECONDS, both
# SIPps writing their errors (-trace_err), then a summary: calls ok and
# failed, retransmissions, and each unexpected message the caller saw
# with the header lines that tell it apart. bench-cps cannot keep the
# caller's errors: its call length is a receive timeout (for Kamailio's
# late 180s, see uac.xml) that SIPp reports as an error for every call;
# here duet alone is measured, so the call length is a plain pause.
#
#   bench/cps/soak.sh BUILD_DIR [RATE] [SECONDS]     (8000, 30)
#
# Loopback only, free ports, bounded: the caller stops after RATE*SECONDS
# calls or SECONDS+60 s. The work directory is kept and printed.
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [RATE] [SECONDS]" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/cps/lib.sh
. "$here/lib.sh"
duet=$(bench_duet_bin soak "$1")
rate=${2:-8000} secs=${3:-30}
tmp=$(mktemp -d /tmp/duet-soak.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
read -r p_uas p_uac p_duet < <(free_udp_ports 3)
bench_duet_json "$p_duet" "$p_uas" >"$tmp/duet.json"
# the caller without the late-180 wait: its talk is the pause after it
python3 - "$here/uac.xml" "$tmp/uac.xml" <<'EOF'
import sys
s = open(sys.argv[1]).read()
i = s.index('<recv response="180" timeout=')
j = s.index('</recv>', i) + len('</recv>')
open(sys.argv[2], 'w').write(s[:i] + s[j:])
EOF
cd "$tmp"
"$duet" -c duet.json 2>duet.log &
pids+=($!)
sleep 1
sipp -sf "$here/uas.xml" -t u1 -i 127.0.0.1 -p "$p_uas" -nostdin \
	-buff_size 4194304 -l 200000 -timeout $((secs + 120))s -trace_err \
	-error_file uas.err -trace_stat -stf uas.csv -fd 5 >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
sipp -sf uac.xml -t u1 -i 127.0.0.1 -p "$p_uac" "127.0.0.1:$p_duet" \
	-buff_size 4194304 -r "$rate" -rp 1000 -m $((rate * secs)) -nostdin \
	-timeout $((secs + 60))s -trace_err -error_file uac.err -trace_stat \
	-stf uac.csv -fd 5 >/dev/null 2>&1 || true
sleep 2
tail -n 1 uac.csv | awk -F';' -v r="$rate" -v s="$secs" \
	'{ printf "soak: %d calls at %d/s: %d ok, %d failed, %d retransmissions (caller)\n", r * s, r, $16, $18, $58 }'
if [ -s uac.err ]; then
	echo "soak: the caller's unexpected messages (expected index, first line, To, CSeq):"
	awk '/Aborting call on unexpected message/ { p = 2; sub(/.*while expecting/, "  expecting"); print; next }
		p > 0 && /^(To:|CSeq:)/ { print "    " $0; p-- }' uac.err | head -n 40
fi
grep -v '^$' duet.log | tail -n 5 | sed 's/^/soak: duet: /' || true
echo "soak: work dir $tmp"
