#!/usr/bin/env bash
# Issue 3: the OOM hook is chained. Another extension that hooks
# zend_error_cb (tests/e2e/oom_chain_ext.c, built here) still sees the fatal
# error, whichever of the two loads first; the dump is written and PHP's own
# message and exit status are unchanged.
set -euo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}"
command -v php-config >/dev/null || { echo "php-config is not installed (php8.2-dev)"; exit 77; }
[ "$(php -n -r 'echo PHP_VERSION_ID >= 80100 ? 1 : 0;')" = 1 ] || { echo "the stand-in extension is written for PHP 8.1+"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2046
cc -std=gnu99 -shared -fPIC -O1 -Wall -Wextra -Werror -D_GNU_SOURCE -DCOMPILE_DL_ERRHOOK $(php-config --includes) \
	-o "$dir/errhook.so" "$here/oom_chain_ext.c" || fail "cannot build the stand-in extension"
cat >"$dir/oom.php" <<'PHP'
<?php
$a = [];
while (true) { $a[] = str_repeat('x', 1000); }
PHP
for order in "errhook rdump" "rdump errhook"; do
	args=()
	for e in $order; do
		[ "$e" = rdump ] && args+=(-d extension="$RDUMP_EXT") || args+=(-d extension="$dir/errhook.so")
	done
	rm -f "$dir/oom.rdump"
	set +e
	php -n -d log_errors=0 -d display_errors=1 -d memory_limit=32M "${args[@]}" \
		-d rdump.oom_dump="$dir/oom.rdump" "$dir/oom.php" >"$dir/out" 2>"$dir/err"
	rc=$?
	set -e
	[ "$rc" = 255 ] || fail "load order '$order': exit status $rc"
	grep -q "Fatal error: Allowed memory size of 33554432 bytes exhausted" "$dir/out" || fail "load order '$order': no PHP fatal message: $(cat "$dir/out")"
	grep -q "errhook: saw the fatal error" "$dir/err" || fail "load order '$order': the other hook did not run: $(cat "$dir/err")"
	"$RDUMP_CLI" inspect "$dir/oom.rdump" >/dev/null || fail "load order '$order': no complete dump"
	echo "count: load order '$order': PHP's message, the other hook and the dump"
done
echo "PASS"
