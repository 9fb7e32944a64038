#!/usr/bin/env bash
# Issue 3: OOM dumps across the requests of one long-lived process, the
# built-in web server (php -S, one worker). rdump.oom_dump_max=2 counts per
# process, not per request; rdump_set_oom_dump() lasts one request; the
# server survives every OOM and keeps serving.
set -euo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}"
dir=$(mktemp -d)
server=""
cleanup() {
	[ -z "$server" ] || kill "$server" 2>/dev/null || true
	[ -z "$server" ] || wait "$server" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	echo "--- server log"; cat "$dir/server.log" 2>/dev/null || true
	exit 1
}
mkdir -p "$dir/www" "$dir/dumps"
cat >"$dir/www/index.php" <<'PHP'
<?php
// ?set=<name>: rdump_set_oom_dump() to that file ("-" = disable); ?oom=1: die on memory_limit.
$d = dirname(__DIR__) . '/dumps';
if (isset($_GET['set'])) {
    rdump_set_oom_dump($_GET['set'] === '-' ? '' : "$d/" . $_GET['set']);
}
echo "pid ", getmypid(), "\n";
if (isset($_GET['oom'])) {
    $a = [];
    while (true) { $a[] = str_repeat('x', 1000); }
}
echo "served\n";
PHP

# A free port: the kernel picks one for a throw-away listener.
port=$(php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo explode(":", stream_socket_get_name($s, false))[1];')
env -u PHP_CLI_SERVER_WORKERS php -n -S "127.0.0.1:$port" -t "$dir/www" \
	-d extension="$RDUMP_EXT" -d memory_limit=32M -d display_errors=1 \
	-d rdump.oom_dump="$dir/dumps/ini.rdump" -d rdump.oom_dump_max=2 \
	>"$dir/server.log" 2>&1 &
server=$!
get() {
	php -n -r '$c = stream_context_create(["http" => ["ignore_errors" => true, "timeout" => 60]]);
		echo @file_get_contents("http://127.0.0.1:" . $argv[1] . "/?" . $argv[2], false, $c);' "$port" "$1"
}
for _ in $(seq 100); do get "" 2>/dev/null | grep served >/dev/null && break; sleep 0.1; done
first=$(get "" | sed -n 's/^pid //p')
[ -n "$first" ] || fail "server did not start"

expect() { # query, what the response must contain
	local out
	out=$(get "$1")
	grep -q "$2" <<<"$out" || { echo "$out"; fail "request ?$1 did not answer '$2'"; }
	grep -q "^pid $first$" <<<"$out" || { echo "$out"; fail "request ?$1 was served by another process"; }
}
oom="Allowed memory size of 33554432 bytes exhausted"
expect "set=-&oom=1" "$oom"          # disabled for this request: no dump, no attempt counted
expect "set=never.rdump" "served"    # an override that ends with its request
expect "oom=1" "$oom"                # attempt 1: the INI path, not never.rdump
expect "set=second.rdump&oom=1" "$oom"  # attempt 2
expect "set=third.rdump&oom=1" "$oom"   # over the cap of 2
expect "oom=1" "$oom"                # over the cap
expect "" "served"

files=$(cd "$dir/dumps" && ls -a | grep -v '^\.\.\?$' | tr '\n' ' ')
echo "count: dumps after 5 OOM requests in one server process (cap 2): $files"
[ "$files" = "ini.rdump second.rdump " ] || fail "expected exactly ini.rdump and second.rdump, got: $files"
for f in ini.rdump second.rdump; do
	"$RDUMP_CLI" inspect --json "$dir/dumps/$f" | grep "\"pid\":$first," >/dev/null || fail "$f does not pass inspect as pid $first"
done
kill -0 "$server" || fail "the server died"
echo "PASS"
