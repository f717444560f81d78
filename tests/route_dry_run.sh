#!/bin/sh
# SPDX-License-Identifier: MIT
# `duet route` against a shipped configuration: the output must equal the
# expected file byte for byte (tests/data/route/*.out; regenerate one with
# `duet route CONF --request REQ > EXPECTED` after checking the change).
#   route_dry_run.sh DUET CONF REQUEST EXPECTED [duet route options...]
set -eu
duet=$1 conf=$2 req=$3 expected=$4
shift 4
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$duet" route "$conf" --request "$req" "$@" >"$out"
diff -u "$expected" "$out"
# the same run twice gives the same bytes (fixed identifiers)
"$duet" route "$conf" --request "$req" "$@" | cmp -s - "$out"
