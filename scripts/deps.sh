#!/usr/bin/env bash
# Installs, from Debian's archive, whatever of the build and test dependencies
# is missing. Usage: scripts/deps.sh [build|test]  (test = build + test tools)
set -euo pipefail

want=(build-essential autoconf pkg-config php8.2-dev php8.2-cli php8.2-opcache zlib1g-dev)
if [ "${1:-build}" = test ]; then
	want+=(php8.2-fpm libfcgi-bin gdb valgrind clang libclang-rt-14-dev debootstrap procps psmisc file)
fi

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	echo "installing: ${missing[*]}"
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
