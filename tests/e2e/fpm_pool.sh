#!/usr/bin/env bash
# Issue 3 acceptance on a real php-fpm pool (Debian php8.2-fpm, pm=static,
# 3 workers, on a unix socket, driven with cgi-fcgi): 12 concurrent requests
# that die on memory_limit leave exactly 3 complete dumps, one per worker
# pid (rdump.oom_dump_max=1 per process), the workers keep serving, and
# SIGUSR2 to one busy worker dumps that worker while its request finishes.
set -euo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}"
ver=$(php -n -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')
fpm=$(command -v "php-fpm$ver" || command -v php-fpm || true)
if [ -z "$fpm" ]; then
	echo "php-fpm$ver is not installed (scripts/deps.sh test installs php8.2-fpm)"
	exit 77
fi
if ! "$fpm" -n -v 2>/dev/null | grep "^PHP $ver\." >/dev/null; then
	echo "$fpm is not PHP $ver, the PHP the extension is built for"
	exit 77
fi
# e.g. CI's ZTS debug build: Debian's NTS php-fpm cannot load that rdump.so
if ! "$fpm" -n -d extension="$RDUMP_EXT" -m 2>/dev/null | grep -x rdump >/dev/null; then
	echo "$fpm cannot load $RDUMP_EXT (built for another build of PHP $ver: ZTS or debug)"
	exit 77
fi
if ! command -v cgi-fcgi >/dev/null; then
	echo "cgi-fcgi is not installed (libfcgi-bin; scripts/deps.sh test installs it)"
	exit 77
fi

dir=$(mktemp -d)
master=""
cleanup() {
	if [ -n "$master" ] && kill -0 "$master" 2>/dev/null; then
		kill -QUIT "$master" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$master" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$master" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	echo "--- fpm log"; cat "$dir/fpm.log" 2>/dev/null || true
	exit 1
}
mkdir -p "$dir/www" "$dir/dumps"

cat >"$dir/www/oom.php" <<'PHP'
<?php
// Long enough that the 12 requests spread over the 3 workers.
usleep(300000);
echo "pid ", getmypid(), "\n";
$a = [];
while (true) { $a[] = str_repeat('x', 1000); }
PHP
cat >"$dir/www/ok.php" <<'PHP'
<?php
echo "ok ", getmypid(), "\n";
PHP
cat >"$dir/www/slow.php" <<'PHP'
<?php
file_put_contents(__DIR__ . '/slow.pid', getmypid());
$end = microtime(true) + 2;
while (microtime(true) < $end) { usleep(2000); }
echo "slow done ", getmypid(), "\n";
PHP

run_as=()
root_flag=()
if [ "$(id -u)" = 0 ]; then
	run_as=("user = root" "group = root")
	root_flag=(-R)
fi
{
	echo "[global]"
	echo "error_log = $dir/fpm.log"
	echo "pid = $dir/fpm.pid"
	echo "daemonize = no"
	echo "[rdump]"
	echo "listen = $dir/fpm.sock"
	echo "pm = static"
	echo "pm.max_children = 3"
	echo "catch_workers_output = yes"
	echo "clear_env = no"
	for l in "${run_as[@]}"; do echo "$l"; done
} >"$dir/fpm.conf"

"$fpm" -n -F "${root_flag[@]}" -y "$dir/fpm.conf" \
	-d extension="$RDUMP_EXT" -d memory_limit=32M -d display_errors=1 \
	-d rdump.oom_dump="$dir/dumps/oom-%p.rdump" \
	-d rdump.signal=SIGUSR2 -d rdump.signal_dump="$dir/dumps/sig-%p.rdump" \
	>"$dir/fpm.out" 2>&1 &
master=$!
for _ in $(seq 100); do [ -S "$dir/fpm.sock" ] && break; sleep 0.1; done
[ -S "$dir/fpm.sock" ] || { cat "$dir/fpm.out"; fail "php-fpm did not start"; }

workers() { pgrep -P "$master" | sort -n | tr '\n' ' '; }
for _ in $(seq 50); do [ "$(workers | wc -w)" = 3 ] && break; sleep 0.1; done
before=$(workers)
[ "$(echo $before | wc -w)" = 3 ] || fail "expected 3 workers, got: $before"
echo "workers: $before"

req() {
	env -i SCRIPT_FILENAME="$dir/www/$1" SCRIPT_NAME="/$1" REQUEST_METHOD=GET \
		cgi-fcgi -bind -connect "$dir/fpm.sock"
}

# 12 concurrent OOM requests.
start=$(date +%s%N)
pids=()
for i in $(seq 12); do
	req oom.php >"$dir/r$i.out" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
served=""
for i in $(seq 12); do
	grep -q "Allowed memory size of 33554432 bytes exhausted" "$dir/r$i.out" \
		|| { cat "$dir/r$i.out"; fail "request $i did not end with PHP's memory_limit fatal error"; }
	served="$served $(sed -n 's/^pid \([0-9]*\)$/\1/p' "$dir/r$i.out")"
done
served=$(echo $served | tr ' ' '\n' | sort -un | tr '\n' ' ')
echo "count: 12 OOM requests in ${ms} ms, served by workers: $served"

dumps=$(cd "$dir/dumps" && ls)
n=$(echo "$dumps" | grep -c '^oom-[0-9]*\.rdump$' || true)
echo "count: dumps after 12 OOM requests: $n"
[ "$n" = 3 ] || fail "expected exactly 3 dumps, got: $dumps"
[ "$(echo "$dumps" | wc -l)" = 3 ] || fail "unexpected files in the dump directory: $dumps"
dumped=""
for f in $dumps; do
	pid=${f#oom-}
	pid=${pid%.rdump}
	json=$("$RDUMP_CLI" inspect --json "$dir/dumps/$f") || fail "rdump-cli inspect rejects $f"
	grep -q "\"pid\":$pid," <<<"$json" || fail "$f does not name pid $pid in its header"
	dumped="$dumped $pid"
done
dumped=$(echo $dumped | tr ' ' '\n' | sort -n | tr '\n' ' ')
[ "$dumped" = "$before" ] || fail "dumps are from pids '$dumped', workers are '$before'"
echo "figure: dump sizes (bytes): $(cd "$dir/dumps" && stat -c %s oom-*.rdump | tr '\n' ' ')"

# The pool keeps serving with the same workers.
for i in $(seq 6); do
	out=$(req ok.php) || fail "ok.php request $i failed"
	pid=$(sed -n 's/^ok \([0-9]*\)$/\1/p' <<<"$out")
	[ -n "$pid" ] && grep -qw "$pid" <<<"$before" || fail "ok.php answered by an unknown process: $out"
done
[ "$(workers)" = "$before" ] || fail "workers changed: '$before' -> '$(workers)'"
! grep -E "exited (on signal|with code)" "$dir/fpm.log" || fail "a worker died"

# A signal dump of one busy worker; its request completes.
req slow.php >"$dir/slow.out" 2>&1 &
slow=$!
for _ in $(seq 100); do [ -s "$dir/www/slow.pid" ] && break; sleep 0.05; done
target=$(cat "$dir/www/slow.pid")
grep -qw "$target" <<<"$before" || fail "slow.php ran in an unknown process $target"
kill -USR2 "$target"
wait "$slow" || fail "slow.php request failed"
grep -q "^slow done $target$" "$dir/slow.out" || { cat "$dir/slow.out"; fail "the signalled worker's request did not finish"; }
[ -f "$dir/dumps/sig-$target.rdump" ] || fail "no signal dump of worker $target: $(ls "$dir/dumps")"
"$RDUMP_CLI" inspect --json "$dir/dumps/sig-$target.rdump" | grep "\"pid\":$target," >/dev/null \
	|| fail "signal dump of $target does not pass inspect"
[ "$(workers)" = "$before" ] || fail "workers changed after the signal: '$before' -> '$(workers)'"
out=$(req ok.php) && grep -q '^ok ' <<<"$out" || fail "pool does not serve after the signal dump"
echo "count: signal dump of worker $target: $(stat -c %s "$dir/dumps/sig-$target.rdump") bytes; workers unchanged"
ls "$dir/dumps" | grep 'rdump-tmp' >/dev/null && fail "temporary files left: $(ls -a "$dir/dumps")"
echo "PASS"
