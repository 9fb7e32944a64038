#!/usr/bin/env bash
# rdump-cli dump of a php CLI process from outside: -p, the `dump` word,
# -o - and -- CMD; each dump passes inspect, and summary recovers the call
# stack and the exact object counts with 0 unreadable pointers; the target
# keeps running; the output is 0600, sparse and a fresh inode.
set -uo pipefail
root=${RDUMP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cli=${RDUMP_CLI:-$root/rdump-cli}
[ -x "$cli" ] || { echo "rdump-cli not built at $cli"; exit 1; }
command -v php >/dev/null || { echo "php not installed"; exit 77; }

dir=$(mktemp -d /tmp/rdump-cli-php.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$dir/target.php" <<'EOF'
<?php
class Order { public $id; public $lines = []; function __construct($id) { $this->id = $id; } }
class Line { public $sku; function __construct($s) { $this->sku = str_repeat('s', 40) . $s; } }
function keep_busy(string $beat, int $orders): void {
    $all = [];
    for ($i = 0; $i < $orders; $i++) {
        $o = new Order($i);
        $o->lines[] = new Line($i);
        $o->lines[] = new Line($i + 1);
        $all[] = $o;
    }
    $n = 0;
    while (true) {
        usleep(20000);
        file_put_contents($beat, (string) ++$n);
    }
}
keep_busy($argv[1], (int) $argv[2]);
EOF

state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
beats() {   # the beat file is rewritten (truncated) 50 times a second: retry an empty read
	local b=""
	for _ in 1 2 3 4 5 6 7 8 9 10; do b=$(cat "$1" 2>/dev/null); [ -n "$b" ] && break; sleep 0.005; done
	echo "${b:-0}"
}

# Checks one dump: inspect passes, summary finds the stack and the objects.
check_dump() {
	local file=$1 what=$2 out
	"$cli" inspect "$file" >"$dir/inspect.txt" || fail "$what: inspect rejects the dump"
	grep -q "^php version *v[0-9][0-9]$" "$dir/inspect.txt" || fail "$what: no PHP version tag in the header"
	out=$("$cli" summary "$file" 2>"$dir/summary.err") || { cat "$dir/summary.err"; fail "$what: summary failed"; }
	grep -q "keep_busy() $dir/target.php" <<<"$out" || { echo "$out"; fail "$what: keep_busy() frame missing"; }
	grep -q "{main} $dir/target.php" <<<"$out" || { echo "$out"; fail "$what: {main} frame missing"; }
	grep -qE "^  3000 Order$" <<<"$out" || { echo "$out"; fail "$what: expected 3000 Order objects"; }
	grep -qE "^  6000 Line$" <<<"$out" || { echo "$out"; fail "$what: expected 6000 Line objects"; }
	grep -q "^unreadable pointers: 0$" <<<"$out" || { echo "$out"; fail "$what: unreadable pointers"; }
}

php "$dir/target.php" "$dir/beat" 3000 &
pid=$!
pids+=("$pid")
for _ in $(seq 100); do [ "$(beats "$dir/beat")" -gt 2 ] && break; sleep 0.05; done
[ "$(beats "$dir/beat")" -gt 2 ] || fail "the target did not start"

# 1. -p/-o, default options.
"$cli" -p "$pid" -o "$dir/a.rdump" 2>"$dir/a.err" || { cat "$dir/a.err"; fail "rdump-cli -p exited $?"; }
cat "$dir/a.err"
check_dump "$dir/a.rdump" "-p"
grep -q "process stopped" "$dir/a.err" || fail "no stop time reported"
stop=$(sed -n 's/.*process stopped \([0-9.]*\) s.*/\1/p' "$dir/a.err")
echo "figure: php target stopped ${stop} s"
[ "$(stat -c %a "$dir/a.rdump")" = 600 ] || fail "mode is $(stat -c %a "$dir/a.rdump"), not 600"
size=$(stat -c %s "$dir/a.rdump")
used=$(( $(stat -c %b "$dir/a.rdump") * $(stat -c %B "$dir/a.rdump") ))
echo "figure: dump $size bytes, $used on disk"
[ "$used" -lt "$size" ] || fail "the dump is not sparse ($used on disk for $size bytes)"
ls -a "$dir" | grep "rdump-tmp" >/dev/null && fail "a temporary file was left behind"

# 2. The target runs on: its heartbeat advances, it is not stopped.
b1=$(beats "$dir/beat"); sleep 0.3; b2=$(beats "$dir/beat")
[ "$b2" -gt "$b1" ] || fail "the target stopped beating after the dump ($b1 -> $b2)"
case "$(state "$pid")" in T|t|Z|"") fail "target state after the dump: $(state "$pid")";; esac

# 3. `dump` word, replacing an existing file: a new inode.
ino1=$(stat -c %i "$dir/a.rdump")
"$cli" dump --pid "$pid" --output "$dir/a.rdump" --quiet 2>"$dir/b.err" || fail "rdump-cli dump exited $?"
[ -s "$dir/b.err" ] && { cat "$dir/b.err"; fail "--quiet printed something"; }
ino2=$(stat -c %i "$dir/a.rdump")
[ "$ino1" != "$ino2" ] || fail "the existing file was rewritten in place (inode $ino1)"
check_dump "$dir/a.rdump" "dump word"

# 4. Standard output.
"$cli" -p "$pid" -o - -q >"$dir/c.rdump" || fail "-o - exited $?"
check_dump "$dir/c.rdump" "-o -"

# 5. --no-stop-process and --include-binary.
"$cli" -p "$pid" -o "$dir/d.rdump" --no-stop-process --include-binary 2>"$dir/d.err" || fail "--include-binary exited $?"
grep -q "not stopped" "$dir/d.err" || fail "--no-stop-process not reported"
check_dump "$dir/d.rdump" "--include-binary"
[ "$(stat -c %s "$dir/d.rdump")" -gt "$size" ] || fail "--include-binary is not larger than the default dump"

# 6. --max-buffer 0: the whole dump with the target held, same result.
"$cli" -p "$pid" -o "$dir/e.rdump" --max-buffer 0 2>"$dir/e.err" || fail "--max-buffer 0 exited $?"
grep -q "exceeds --max-buffer" "$dir/e.err" || fail "--max-buffer 0 did not keep the target stopped"
check_dump "$dir/e.rdump" "--max-buffer 0"

# 7. -- CMD: started, dumped after --delay, waited for.
start=$(date +%s%N)
"$cli" -o "$dir/f.rdump" --delay 0.5 -- php -r '
	function waiter() { $x = new ArrayObject([1, 2, 3]); $y = new SplStack(); usleep(1500000); return $x; }
	waiter();' 2>"$dir/f.err" || { cat "$dir/f.err"; fail "-- CMD exited $?"; }
ms=$(( ($(date +%s%N) - start) / 1000000 ))
out=$("$cli" summary "$dir/f.rdump") || fail "summary of the -- CMD dump failed"
grep -q "waiter() Command line code" <<<"$out" || { echo "$out"; fail "-- CMD: waiter() frame missing"; }
grep -qE "^  1 ArrayObject$" <<<"$out" || { echo "$out"; fail "-- CMD: ArrayObject missing"; }
[ "$ms" -ge 1400 ] || fail "rdump-cli did not wait for CMD (${ms} ms)"

# 8. --compress writes a gzip stream that inflates to a valid dump.
if "$cli" -p "$pid" -o "$dir/g.rdump.gz" --compress=1 -q 2>"$dir/g.err"; then
	[ "$(head -c2 "$dir/g.rdump.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ] || fail "--compress did not write gzip"
	gzip -dc "$dir/g.rdump.gz" >"$dir/g.rdump" || fail "the compressed dump does not inflate"
	check_dump "$dir/g.rdump" "--compress"
else
	cat "$dir/g.err"; fail "--compress exited nonzero"
fi

b1=$(beats "$dir/beat"); sleep 0.3; b2=$(beats "$dir/beat")
[ "$b2" -gt "$b1" ] || fail "the target is not running at the end ($b1 -> $b2)"
echo "count: php CLI dumps checked: 7"
echo "cli_dump_php: ok"
