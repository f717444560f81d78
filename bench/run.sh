#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The parser benchmark (`make bench`): wall-clock ns/msg and allocations per
# parse, then instructions per parse under callgrind, duet against libosip2.
#
#   bench/run.sh BUILD_DIR
#
# Instructions per message = (Ir(ITER parses) - Ir(0 parses)) / ITER, so the
# setup (exec, file read, parser init) cancels out. Targets (the parser
# issue): the INVITE in at least 10x fewer instructions than libosip2, and at
# most 2 allocations per parsed message. A FAIL is printed, not returned: this
# is a benchmark, not a test. Environment: BENCH_N (timing loop, default
# 200000), BENCH_ITER (callgrind loop, default 1000).
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$1" && pwd)/bench/bench_parse
shared=$here/../../shared/data
n=${BENCH_N:-200000}
iter=${BENCH_ITER:-1000}
target_ratio=10
max_allocs=2

if [ ! -x "$bin" ]; then
	echo "bench: $bin not built (configure with -DDUET_BENCH=ON)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

names=(INVITE 200-INVITE ACK BYE)
files=("$shared/bench-invite.sip" "$here/data/bench-200-invite.sip"
	"$here/data/bench-ack.sip" "$here/data/bench-bye.sip")

echo "== wall clock =="
"$bin" time "$n" "${files[0]}" | tee "$tmp/time.txt"
echo

# allocations per parsed message: column 6 of the message rows
alloc_verdict=PASS
worst_allocs=$(awk -v names=" ${names[*]} " \
	'index(names, " " $1 " ") && NF == 7 { if ($6 > m) m = $6 } END { printf "%.2f", m }' \
	"$tmp/time.txt")
if awk -v a="$worst_allocs" -v m="$max_allocs" 'BEGIN { exit !(a > m) }'; then
	alloc_verdict=FAIL
fi

if ! command -v valgrind >/dev/null 2>&1; then
	echo "bench: valgrind not found, instruction counts skipped"
	echo "allocations: at most $worst_allocs per parsed message" \
		"(target <= $max_allocs): $alloc_verdict"
	exit 0
fi

have_osip=1
"$bin" one osip "${files[0]}" 0 >/dev/null 2>&1 || have_osip=0

# Ir of `bench_parse one PARSER FILE COUNT`
instr() {
	local log=$tmp/cg.$1.$3.log
	(cd "$tmp" && valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		"$bin" one "$1" "$2" "$3") >/dev/null 2>"$log" || {
		cat "$log" >&2
		echo "bench: bench_parse one $1 $2 $3 failed" >&2
		exit 1
	}
	awk '/Collected :/ { print $NF }' "$log"
}

# instructions per parse, one decimal
per_msg() {
	local full base
	full=$(instr "$1" "$2" "$iter")
	base=$(instr "$1" "$2" 0)
	awk -v f="$full" -v b="$base" -v n="$iter" 'BEGIN { printf "%.1f", (f - b) / n }'
}

echo "== instructions (callgrind, ($iter parses - 0 parses) / $iter) =="
printf '%-12s %16s %16s %10s\n' message "duet instr/msg" "osip instr/msg" osip/duet
invite_ratio=
for i in "${!names[@]}"; do
	d=$(per_msg duet "${files[$i]}")
	o=- r=-
	if [ "$have_osip" = 1 ]; then
		o=$(per_msg osip "${files[$i]}")
		r=$(awk -v o="$o" -v d="$d" 'BEGIN { printf "%.1fx", (d > 0 ? o / d : 0) }')
	fi
	[ "$i" = 0 ] && invite_ratio=${r%x}
	printf '%-12s %16s %16s %10s\n' "${names[$i]}" "$d" "$o" "$r"
done
echo

echo "== targets =="
if [ "$have_osip" = 1 ]; then
	v=FAIL
	awk -v r="$invite_ratio" -v t="$target_ratio" 'BEGIN { exit !(r >= t) }' && v=PASS
	echo "INVITE: libosip2/duet instructions = ${invite_ratio}x" \
		"(target >= ${target_ratio}x): $v"
else
	echo "INVITE: libosip2 not built in, instruction target not checked: SKIP"
fi
echo "allocations: at most $worst_allocs per parsed message" \
	"(target <= $max_allocs): $alloc_verdict"
