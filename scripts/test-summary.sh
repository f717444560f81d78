#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sum the ctest runs of `make test` (unit, ASan+UBSan unit and e2e, e2e)
# into one closing line: "test: N passed, M failed".
set -euo pipefail
log=$1
total=0
failed=0
while read -r line; do
	n=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1 \2/' <<<"$line")
	failed=$((failed + ${n% *}))
	total=$((total + ${n#* }))
done < <(grep -E "tests failed out of" "$log")
echo "test: $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
