#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages duet needs, only those missing.
#   scripts/install-deps.sh [build|test|bench]   (default: build)
# build: compiler, make, cmake, libevent, jansson, cmocka, pkg-config
# test:  build + SIPp, clang with libFuzzer, valgrind, python3, iproute2 (ss)
# bench: test + libosip2 (the parser reference)
set -euo pipefail

profile=${1:-build}
pkgs=(build-essential make cmake pkg-config libevent-dev libjansson-dev libcmocka-dev)
case "$profile" in
build) ;;
test) pkgs+=(sip-tester clang libclang-rt-14-dev valgrind python3 iproute2) ;;
bench) pkgs+=(sip-tester clang libclang-rt-14-dev valgrind python3 iproute2 libosip2-dev) ;;
*) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
