#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run a libFuzzer target for SECONDS, seeded from the message corpus.
#   scripts/fuzz.sh BINARY SECONDS
# New inputs go to fuzz/corpus-work (ignored by git); crashes to
# fuzz/crashes/. Exits non-zero on any finding (crash, sanitizer report,
# broken invariant), printing the report.
set -uo pipefail
bin=$1
secs=${2:-30}
top=$(cd "$(dirname "$0")/.." && pwd)
work="$top/fuzz/corpus-work"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
mkdir -p "$work" "$top/fuzz/crashes"
echo "fuzz: $(basename "$bin") for ${secs}s, seeded from tests/data/sip"
"$bin" -max_total_time="$secs" -max_len=70000 -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$top/fuzz/crashes/" \
	"$work" "$top/tests/data/sip" >"$log" 2>&1
status=$?
grep -E "^(Done|stat::number_of_executed_units|stat::new_units_added)" "$log"
if [ "$status" -ne 0 ]; then
	echo "fuzz: FAILED (exit $status); the report:"
	grep -vE "^#[0-9]+ " "$log" | tail -n 60
fi
exit "$status"
