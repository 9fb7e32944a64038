#!/usr/bin/env bash
# rdump-cli dump of a program that embeds PHP as libphp*.so: the engine's
# symbols come from the shared library's ELF file plus its load bias, not
# from the executable. A small host program (built here against the embed
# SAPI) runs a script that holds objects and sleeps; summary recovers the
# stack and the object counts with 0 unreadable pointers.
set -uo pipefail
root=${RDUMP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cli=${RDUMP_CLI:-$root/rdump-cli}
[ -x "$cli" ] || { echo "rdump-cli not built at $cli"; exit 1; }
command -v php-config >/dev/null || { echo "php-config not installed"; exit 77; }
command -v cc >/dev/null || { echo "no C compiler"; exit 77; }
prefix=$(php-config --prefix)
inc=$(php-config --include-dir)
lib=$(ls "$prefix"/lib/libphp*.so "$prefix"/lib/*/libphp*.so 2>/dev/null | head -1)
[ -n "$lib" ] && [ -f "$inc/sapi/embed/php_embed.h" ] ||
	{ echo "no embed SAPI for $(php-config --version) (Debian: libphp$(php-config --version | cut -d. -f1,2)-embed)"; exit 77; }

dir=$(mktemp -d /tmp/rdump-cli-embed.XXXXXX)
host=""
cleanup() { [ -n "$host" ] && kill -9 "$host" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$dir/host.c" <<'EOF'
#include <sapi/embed/php_embed.h>

int main(int argc, char **argv)
{
	int rc = 0;

	PHP_EMBED_START_BLOCK(argc, argv)
	zend_file_handle fh;
	zend_stream_init_filename(&fh, argv[1]);
	rc = php_execute_script(&fh) ? 0 : 1;
	zend_destroy_file_handle(&fh);
	PHP_EMBED_END_BLOCK()
	return rc;
}
EOF
cat >"$dir/app.php" <<'EOF'
<?php
class Widget { public $n; function __construct($n) { $this->n = $n; } }
function embedded_wait(string $flag): void {
    $w = [];
    for ($i = 0; $i < 1234; $i++) { $w[] = new Widget($i); }
    touch($flag);
    sleep(30);
}
embedded_wait(__DIR__ . '/ready');
EOF
libdir=$(dirname "$lib")
libname=$(basename "$lib" .so)
# shellcheck disable=SC2046
cc -o "$dir/host" "$dir/host.c" $(php-config --includes) -L"$libdir" -l"${libname#lib}" \
	-Wl,-rpath,"$libdir" 2>"$dir/cc.err" || { cat "$dir/cc.err"; echo "cannot build an embed host against $lib"; exit 77; }

"$dir/host" "$dir/app.php" </dev/null >"$dir/host.out" 2>&1 &
host=$!
for _ in $(seq 200); do [ -e "$dir/ready" ] && break; sleep 0.05; done
[ -e "$dir/ready" ] || { cat "$dir/host.out"; fail "the embed host did not start the script"; }
grep -q "$(basename "$(readlink -f "$lib")")" "/proc/$host/maps" || fail "the host does not map $lib"

"$cli" -p "$host" -o "$dir/embed.rdump" 2>"$dir/dump.err" || { cat "$dir/dump.err"; fail "rdump-cli exited $?"; }
cat "$dir/dump.err"
grep -q "libphp" "$dir/dump.err" || fail "the engine was not found in libphp"
out=$("$cli" summary "$dir/embed.rdump" 2>"$dir/summary.err") || { cat "$dir/summary.err"; fail "summary failed"; }
echo "$out" | head -6
grep -q "embedded_wait() $dir/app.php" <<<"$out" || fail "embedded_wait() frame missing"
grep -qE "^  1234 Widget$" <<<"$out" || fail "expected 1234 Widget objects"
grep -q "^unreadable pointers: 0$" <<<"$out" || fail "unreadable pointers"
case "$(awk '{print $3}' "/proc/$host/stat")" in T|t|Z) fail "the host is not running after the dump";; esac
echo "cli_dump_embed: ok"
