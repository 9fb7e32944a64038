#!/usr/bin/env bash
# Issue 3: `kill -USR2 <pid>` dumps a running CLI script (a busy loop, then
# one sleeping in sleep()) at the next VM interrupt, with no user code and no
# pcntl; the script carries on and ends normally. Also with rdump.async=1.
set -euo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}"
dir=$(mktemp -d)
bg=""
cleanup() {
	[ -z "$bg" ] || kill "$bg" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$dir/loop.php" <<'PHP'
<?php
// Busy for a while, then asleep for a while; prints how far it got.
$data = [];
for ($i = 0; $i < 100000; $i++) { $data[] = "item $i"; }
file_put_contents($argv[1], getmypid());
$end = microtime(true) + (float) $argv[2];
$n = 0;
while (microtime(true) < $end) { $n++; }
echo "busy loop done\n";
sleep((int) $argv[3]);
echo "sleep done, ", count($data), " items\n";
PHP

run() { # name, async, busy seconds, sleep seconds
	rm -f "$dir/pid"
	php -n -d extension="$RDUMP_EXT" -d rdump.signal=SIGUSR2 -d rdump.async="$2" \
		-d rdump.signal_dump="$dir/$1-%p.rdump" "$dir/loop.php" "$dir/pid" "$3" "$4" >"$dir/$1.out" 2>&1 &
	bg=$!
	for _ in $(seq 200); do [ -s "$dir/pid" ] && break; sleep 0.05; done
	[ -s "$dir/pid" ] || fail "$1: the script did not start"
}
check_dump() { # path, pid
	for _ in $(seq 200); do [ -f "$1" ] && break; sleep 0.05; done
	[ -f "$1" ] || fail "no dump at $1: $(ls "$dir")"
	"$RDUMP_CLI" inspect --json "$1" | grep "\"pid\":$2," >/dev/null || fail "$1 does not pass inspect as pid $2"
}

# Busy loop: the dump is taken inside the loop.
run busy 0 2 0
pid=$(cat "$dir/pid")
sleep 0.3
kill -USR2 "$pid"
check_dump "$dir/busy-$pid.rdump" "$pid"
kill -0 "$pid" 2>/dev/null || fail "busy: the script did not survive the dump"
wait "$bg" || fail "busy: the script failed: $(cat "$dir/busy.out")"
bg=""
grep -q "sleep done, 100000 items" "$dir/busy.out" || fail "busy: unexpected output: $(cat "$dir/busy.out")"
echo "count: busy loop dumped by SIGUSR2: $(stat -c %s "$dir/busy-$pid.rdump") bytes"

# Asleep in sleep(): the signal ends the sleep early, as any handled signal does; the dump follows.
run sleeping 1 0 3
pid=$(cat "$dir/pid")
sleep 0.5
kill -USR2 "$pid"
check_dump "$dir/sleeping-$pid.rdump" "$pid"
wait "$bg" || fail "sleeping: the script failed: $(cat "$dir/sleeping.out")"
bg=""
grep -q "sleep done, 100000 items" "$dir/sleeping.out" || fail "sleeping: unexpected output: $(cat "$dir/sleeping.out")"
echo "count: sleeping script dumped asynchronously by SIGUSR2: $(stat -c %s "$dir/sleeping-$pid.rdump") bytes"
ls -a "$dir" | grep 'rdump-tmp' >/dev/null && fail "temporary files left"
echo "PASS"
