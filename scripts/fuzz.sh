#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run a libFuzzer target for SECONDS, seeded from the message corpus.
#   scripts/fuzz.sh BINARY SECONDS
# New inputs go to fuzz/corpus-work (ignored by git); crashes to
# fuzz/crashes/. Exit status is the fuzzer's: non-zero on any finding.
set -euo pipefail
bin=$1
secs=${2:-30}
top=$(cd "$(dirname "$0")/.." && pwd)
work="$top/fuzz/corpus-work"
mkdir -p "$work" "$top/fuzz/crashes"
echo "fuzz: $(basename "$bin") for ${secs}s, seeded from tests/data/sip"
"$bin" -max_total_time="$secs" -max_len=70000 -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$top/fuzz/crashes/" \
	"$work" "$top/tests/data/sip" 2>&1 | grep -E "^(#[0-9]+ *DONE|Done|stat::number_of_executed_units|stat::new_units_added|==[0-9]+==|SUMMARY|INFO: Seed|.*ERROR)" || true
# grep hides libFuzzer's progress lines; its status decides
exit "${PIPESTATUS[0]}"
