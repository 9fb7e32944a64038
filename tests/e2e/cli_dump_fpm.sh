#!/usr/bin/env bash
# rdump-cli dump of a php-fpm worker from outside, in the middle of a request:
# Debian's php-fpm (pm = static, one worker, opcache as configured) on a unix
# socket in a temporary directory, a request through cgi-fcgi. summary
# recovers the request's call stack and object counts with 0 unreadable
# pointers; the request completes and the worker serves another one; the
# dump does not commit opcache's never-written shared memory in the target.
set -uo pipefail
root=${RDUMP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cli=${RDUMP_CLI:-$root/rdump-cli}
[ -x "$cli" ] || { echo "rdump-cli not built at $cli"; exit 1; }
fpm=$(command -v php-fpm8.2 || command -v php-fpm || ls /usr/sbin/php-fpm* 2>/dev/null | head -1)
[ -n "$fpm" ] && [ -x "$fpm" ] || { echo "php-fpm is not installed (Debian: php8.2-fpm)"; exit 77; }
command -v cgi-fcgi >/dev/null || { echo "cgi-fcgi is not installed (Debian: libfcgi-bin)"; exit 77; }

dir=$(mktemp -d /tmp/rdump-cli-fpm.XXXXXX)
chmod 755 "$dir"
mkdir "$dir/state" && chmod 777 "$dir/state"   # the worker may run as nobody
master=""
cleanup() {
	[ -n "$master" ] && kill "$master" 2>/dev/null && sleep 0.3
	[ -n "$master" ] && kill -9 "$master" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$dir/fpm.log" ] && tail -5 "$dir/fpm.log"; exit 1; }

user_lines=""
run_as_root=""
if [ "$(id -u)" = 0 ]; then
	# Workers run as nobody, as in production; -R lets the master start as root.
	user_lines=$'user = nobody\ngroup = nogroup'
	getent group nogroup >/dev/null || user_lines=$'user = nobody\ngroup = nobody'
	run_as_root=-R
fi
cat >"$dir/fpm.conf" <<EOF
[global]
pid = $dir/fpm.pid
error_log = $dir/fpm.log
daemonize = no
[www]
listen = $dir/fpm.sock
listen.mode = 0666
pm = static
pm.max_children = 1
$user_lines
EOF
cat >"$dir/app.php" <<'EOF'
<?php
class Cart { public $items = []; }
class Item { public $name; function __construct($n) { $this->name = "item-$n"; } }
function handle_request(int $n): string {
    $carts = [];
    for ($i = 0; $i < $n; $i++) {
        $c = new Cart();
        $c->items[] = new Item($i);
        $c->items[] = new Item($i + 1);
        $c->items[] = new Item($i + 2);
        $carts[] = $c;
    }
    touch(__DIR__ . '/state/started');
    sleep(3);
    return "done " . count($carts) . "\n";
}
echo handle_request(700);
EOF
echo '<?php echo "pong\n";' >"$dir/ping.php"
chmod 644 "$dir"/*.php

"$fpm" -F -y "$dir/fpm.conf" $run_as_root >"$dir/fpm.out" 2>&1 &
master=$!
for _ in $(seq 100); do [ -S "$dir/fpm.sock" ] && break; sleep 0.05; done
[ -S "$dir/fpm.sock" ] || fail "php-fpm did not start"
worker=$(pgrep -P "$master" | head -1)
[ -n "$worker" ] || fail "no php-fpm worker"

request() { SCRIPT_FILENAME=$1 REQUEST_METHOD=GET timeout 20 cgi-fcgi -bind -connect "$dir/fpm.sock"; }
request "$dir/app.php" >"$dir/response" 2>&1 &
req=$!
for _ in $(seq 100); do [ -e "$dir/state/started" ] && break; sleep 0.05; done
[ -e "$dir/state/started" ] || fail "the request did not start"

rss_before=$(awk '/^Rss:/ {print $2}' "/proc/$worker/smaps_rollup")
"$cli" -p "$worker" -o "$dir/worker.rdump" 2>"$dir/dump.err" || { cat "$dir/dump.err"; fail "rdump-cli exited $?"; }
cat "$dir/dump.err"
rss_after=$(awk '/^Rss:/ {print $2}' "/proc/$worker/smaps_rollup")
stop=$(sed -n 's/.*process stopped \([0-9.]*\) s.*/\1/p' "$dir/dump.err")
echo "figure: fpm worker stopped ${stop} s, dump $(stat -c %s "$dir/worker.rdump") bytes"
echo "figure: fpm worker RSS ${rss_before} kB before the dump, ${rss_after} kB after"
# Reading opcache's untouched shared memory would have mapped all of it into the worker.
[ $((rss_after - rss_before)) -lt 16384 ] || fail "the dump grew the worker's RSS by $((rss_after - rss_before)) kB"
if grep -q "but this rdump-cli was built for" "$dir/dump.err"; then
	# e.g. the ZTS debug build of CI: Debian's php-fpm is another PHP, summary cannot read its layouts
	echo "php-fpm ($fpm) is not the PHP this rdump-cli was built for; the worker dump fell back to memory map + residency"
	exit 77
fi

"$cli" inspect "$dir/worker.rdump" >"$dir/inspect.txt" || fail "inspect rejects the worker dump"
grep -q "^pid *$worker$" "$dir/inspect.txt" || fail "the header does not name the worker"
out=$("$cli" summary "$dir/worker.rdump" 2>"$dir/summary.err") || { cat "$dir/summary.err"; fail "summary failed"; }
echo "$out" | head -8
grep -q "handle_request() $dir/app.php" <<<"$out" || fail "handle_request() frame missing"
grep -q "sleep() \[internal function\]" <<<"$out" || fail "sleep() frame missing"
grep -qE "^  700 Cart$" <<<"$out" || fail "expected 700 Cart objects"
grep -qE "^  2100 Item$" <<<"$out" || fail "expected 2100 Item objects"
grep -q "^unreadable pointers: 0$" <<<"$out" || fail "unreadable pointers in the worker dump"

# The worker runs on: the request completes, then it serves another one.
wait "$req" || fail "the request failed after the dump: $(cat "$dir/response")"
grep -q "done 700" "$dir/response" || fail "unexpected response: $(cat "$dir/response")"
request "$dir/ping.php" >"$dir/pong" 2>&1 || fail "the worker does not serve a second request"
grep -q pong "$dir/pong" || fail "unexpected second response: $(cat "$dir/pong")"
[ "$(pgrep -P "$master" | head -1)" = "$worker" ] || fail "the worker was replaced"
echo "cli_dump_fpm: ok"
