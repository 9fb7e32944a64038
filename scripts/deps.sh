#!/usr/bin/env bash
# Installs, from Debian's archive, whatever of the build and test dependencies
# is missing. Usage: scripts/deps.sh [build|test|bench]  (test = build + test
# tools; bench = build + what bench/run uses)
set -euo pipefail

# The PHP of this Debian release: 12 (the host), and 11 and 13 for the PHP
# 7.4 and 8.4 trees of scripts/test-versions.sh.
case $(. /etc/os-release && echo "${VERSION_CODENAME:-}") in
bullseye) php=7.4 ;;
trixie) php=8.4 ;;
*) php=8.2 ;;
esac

want=(build-essential autoconf pkg-config php$php-dev php$php-cli php$php-opcache zlib1g-dev)
if [ "${1:-build}" = test ]; then
	want+=(php$php-fpm libfcgi-bin valgrind procps psmisc file rsync strace libphp$php-embed)
	# Only the primary build (the Debian 12 host) fuzzes, runs the sanitizers and
	# the PECL package test, and runs scripts/test-versions.sh (debootstrap, and
	# php8.2's source package for the ZTS debug build): the 7.4 and 8.4 trees
	# skip those tests and need none of it, which keeps their setup short.
	[ "$php" != 8.2 ] || want+=(gdb clang libclang-rt-14-dev php-pear git debootstrap dpkg-dev libxml2-dev)
	# DOM for the exclude-heap tests (tests/30x-exclude-heap-*.phpt, tests/e2e/exclude_heap_*.sh)
	want+=(php$php-xml)
fi
if [ "${1:-build}" = bench ]; then
	want+=(php$php-xml gdb gnuplot-nox valgrind)
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
