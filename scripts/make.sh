#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's two commands on a fresh Debian machine: make itself is not
# part of a minimal install, so install it first when it is missing
# (build-essential, in install-deps.sh's build profile, brings it), then
# run make with the arguments: scripts/make.sh run, scripts/make.sh test.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v make >/dev/null 2>&1 || scripts/install-deps.sh build
exec make "$@"
