#!/usr/bin/env bash
# rdump-cli dump and the target's run state: SIGKILL of rdump-cli while it
# holds the target leaves the target running; SIGTERM resumes it and leaves
# no temporary file; a target stopped (SIGSTOP) before the dump stays
# stopped after it; a target killed during the dump gives exit status 6;
# a large dump is read into the output file's pages before the target is
# resumed (a compressed one into a buffer) and is complete.
# The target is held for the whole dump (--max-buffer 0) and the dump goes to
# a pipe nobody reads yet, so "in the middle of the dump" is a fact, not a race.
set -uo pipefail
root=${RDUMP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cli=${RDUMP_CLI:-$root/rdump-cli}
[ -x "$cli" ] || { echo "rdump-cli not built at $cli"; exit 1; }
command -v php >/dev/null || { echo "php not installed"; exit 77; }

dir=$(mktemp -d /tmp/rdump-cli-stop.XXXXXX)
pids=()
cleanup() {
	exec 7<&- 2>/dev/null
	for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
beats() {   # the beat file is rewritten (truncated) 50 times a second: retry an empty read
	local b=""
	for _ in 1 2 3 4 5 6 7 8 9 10; do b=$(cat "$1" 2>/dev/null); [ -n "$b" ] && break; sleep 0.005; done
	echo "${b:-0}"
}

cat >"$dir/target.php" <<'EOF'
<?php
ini_set('memory_limit', '-1');
class Blob { public $s; function __construct($i) { $this->s = str_repeat(chr(65 + $i % 26), 2000); } }
function hold(string $beat, int $n): void {
    $keep = [];
    for ($i = 0; $i < $n; $i++) { $keep[] = new Blob($i); }
    $b = 0;
    while (true) { usleep(20000); file_put_contents($beat, (string) ++$b); }
}
hold($argv[1], (int) $argv[2]);
EOF

start_target() {   # $1: beat file, $2: objects (about 2 KB each); sets pid
	php "$dir/target.php" "$1" "$2" </dev/null >/dev/null &
	pid=$!
	pids+=("$pid")
	for _ in $(seq 200); do [ "$(beats "$1")" -gt 2 ] && break; sleep 0.05; done
	[ "$(beats "$1")" -gt 2 ] || fail "the target did not start"
}
wait_state() {     # $1 pid, $2 state letter: waits up to 5 s
	for _ in $(seq 250); do [ "$(state "$1")" = "$2" ] && return 0; sleep 0.02; done
	return 1
}
running() {        # the target's heartbeat advances and it is not stopped
	local b1 b2
	b1=$(beats "$2"); sleep 0.3; b2=$(beats "$2")
	[ "$b2" -gt "$b1" ] && case "$(state "$1")" in T|t|Z|"") return 1;; esac
}

start_target "$dir/beat" 32000     # ~70 MB of PHP data
mkfifo "$dir/pipe"

# 1. SIGKILL of rdump-cli while it holds the target.
exec 7<>"$dir/pipe"   # a reader that never reads: rdump-cli blocks once the pipe is full
"$cli" -p "$pid" -o - --max-buffer 0 -q >"$dir/pipe" 2>"$dir/kill.err" &
dumper=$!
wait_state "$pid" t || fail "the target was not held by rdump-cli (state $(state "$pid"))"
sleep 0.2
[ "$(state "$pid")" = t ] || fail "the target was released before the dump ended"
kill -9 "$dumper"
wait "$dumper" 2>/dev/null
exec 7<&-
running "$pid" "$dir/beat" || fail "the target does not run after rdump-cli was killed (state $(state "$pid"))"
echo "count: SIGKILL of rdump-cli mid-dump: target running"

# 2. SIGTERM: the target is resumed and no temporary file is left.
exec 7<>"$dir/pipe"
"$cli" -p "$pid" -o - --max-buffer 0 -q >"$dir/pipe" 2>"$dir/term.err" &
dumper=$!
wait_state "$pid" t || fail "the target was not held (SIGTERM case)"
kill -TERM "$dumper"
wait "$dumper" 2>/dev/null
rc=$?
exec 7<&-
[ "$rc" = 143 ] || fail "rdump-cli did not die of SIGTERM (status $rc)"
running "$pid" "$dir/beat" || fail "the target does not run after rdump-cli got SIGTERM"
# The same with a file: the handler removes the temporary file.
"$cli" -p "$pid" -o "$dir/term.rdump" --max-buffer 0 -q &
dumper=$!
sleep 0.05
kill -TERM "$dumper" 2>/dev/null
wait "$dumper" 2>/dev/null
ls -a "$dir" | grep "rdump-tmp" >/dev/null && fail "SIGTERM left a temporary file"
running "$pid" "$dir/beat" || fail "the target does not run after rdump-cli got SIGTERM (file case)"

# 3. A target stopped before the dump stays stopped, and the dump is complete.
kill -STOP "$pid"
wait_state "$pid" T || fail "SIGSTOP did not stop the target"
"$cli" -p "$pid" -o "$dir/stopped.rdump" 2>"$dir/stopped.err" || { cat "$dir/stopped.err"; fail "dump of a stopped target exited $?"; }
grep -q "already stopped" "$dir/stopped.err" || fail "the report does not say the target was already stopped"
sleep 0.3
[ "$(state "$pid")" = T ] || fail "the stopped target was resumed (state $(state "$pid"))"
out=$("$cli" summary "$dir/stopped.rdump") || fail "summary of the stopped target's dump failed"
grep -qE "^  32000 Blob$" <<<"$out" || { echo "$out" | head; fail "expected 32000 Blob objects"; }
grep -q "hold() $dir/target.php" <<<"$out" || fail "hold() frame missing"
grep -q "^unreadable pointers: 0$" <<<"$out" || fail "unreadable pointers"
kill -CONT "$pid"
running "$pid" "$dir/beat" || fail "the target does not run after SIGCONT"
echo "count: pre-stopped target: left stopped"

# 4. A large dump with the default --max-buffer: read into the output file's
# pages (into a memory buffer for a gzip stream), reported stop time, target runs on.
"$cli" -p "$pid" -o "$dir/big.rdump" 2>"$dir/big.err" || { cat "$dir/big.err"; fail "large dump exited $?"; }
grep -q "of memory read into the file's pages" "$dir/big.err" || { cat "$dir/big.err"; fail "the large dump was not read into the file before resuming"; }
echo "figure: $(sed -n 's/.*\(process stopped .*\)/\1/p' "$dir/big.err")"
out=$("$cli" summary "$dir/big.rdump") || fail "summary of the large dump failed"
grep -q "^unreadable pointers: 0$" <<<"$out" || { echo "$out" | tail; fail "the large dump has unreadable pointers"; }
running "$pid" "$dir/beat" || fail "the target does not run after the large dump"
"$cli" -p "$pid" -o "$dir/big.rdump.gz" --compress 2>"$dir/bigz.err" || { cat "$dir/bigz.err"; fail "large compressed dump exited $?"; }
grep -q "memory read into a" "$dir/bigz.err" || { cat "$dir/bigz.err"; fail "the large compressed dump was not buffered"; }
echo "figure: --compress: $(sed -n 's/.*\(process stopped .*\)/\1/p' "$dir/bigz.err")"
running "$pid" "$dir/beat" || fail "the target does not run after the large compressed dump"

# 5. The target is killed while rdump-cli holds it.
exec 7<>"$dir/pipe"
"$cli" -p "$pid" -o - --max-buffer 0 -q >"$dir/pipe" 2>"$dir/exit.err" &
dumper=$!
wait_state "$pid" t || fail "the target was not held (exit case)"
kill -9 "$pid"
# Only once it is really gone: a killed process still has its memory until it has exited.
for _ in $(seq 250); do case "$(state "$pid")" in Z|X|"") break;; esac; sleep 0.02; done
cat "$dir/pipe" >/dev/null &
drain=$!
exec 7<&-
wait "$dumper"
rc=$?
kill "$drain" 2>/dev/null
[ "$rc" = 6 ] || { cat "$dir/exit.err"; fail "exit status $rc for a target that died during the dump, not 6"; }
grep -q "exited during the dump" "$dir/exit.err" || fail "no 'exited during the dump' message"
echo "count: target killed mid-dump: exit status 6"
echo "cli_dump_stop: ok"
