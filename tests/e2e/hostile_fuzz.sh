#!/usr/bin/env bash
# Issue 8, corrupt dumps: fuzzes everything that reads a dump file (the
# reader, `inspect`, `summary`'s engine walk) with libFuzzer + ASan + UBSan
# for a bounded time from the committed seed corpus (tests/fuzz/corpus/),
# the crafted corrupt inputs of tests/fuzz/make_corpus.php and a fresh
# minimized dump of the current build; then runs the real rdump-cli inspect
# and summary (text and JSON) on every corpus input and every crash under
# `timeout` and `ulimit -v`: each must end with 0, or 1 and a message on
# stderr: never a signal, a hang or an allocation beyond the limit. Last,
# summary must report the loss of each region of the seed (drop_regions.php).
set -euo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}" "${RDUMP_ROOT:?}"
. "$(dirname "${BASH_SOURCE[0]}")/lib/hostile.bash"
hostile_full_only "fuzzing runs"
FUZZ_SECONDS=${RDUMP_FUZZ_SECONDS:-120}
VMEM_KB=${RDUMP_FUZZ_VMEM_KB:-262144}   # 256 MiB: a summary of a real dump needs under 32
fuzz=$RDUMP_ROOT/tests/fuzz
fifo=/tmp/rdump-fuzz-fifo   # named by the fallback-fifo seed
dir=$(mktemp -d /tmp/rdump-fuzz.XXXXXX)
made_fifo=0
cleanup() {
	rm -rf "$dir"
	[ "$made_fifo" = 0 ] || rm -f "$fifo"
}
trap cleanup EXIT

command -v clang >/dev/null || { echo "clang is missing (scripts/deps.sh test installs clang and libclang-rt-14-dev)"; exit 1; }

# The sources, include paths and libraries of rdump-cli, from the generated Makefile.
printf 'rdump-print-build:\n\t@echo $(RDUMP_CLI_SRCS)\n\t@echo $(INCLUDES)\n\t@echo $(RDUMP_CLI_LIBS)\n' >"$dir/print.mk"
make -s --no-print-directory -C "$RDUMP_ROOT" -f Makefile -f "$dir/print.mk" rdump-print-build >"$dir/build.txt"
srcs=$(sed -n 1p "$dir/build.txt" | tr ' ' '\n' | grep -v '/cli/main\.c$' | tr '\n' ' ')
incs=$(sed -n 2p "$dir/build.txt")
libs=$(sed -n 3p "$dir/build.txt")
cflags="-std=gnu99 -g -D_GNU_SOURCE -Wall -Wextra -I$RDUMP_ROOT -I$RDUMP_ROOT/format -I$RDUMP_ROOT/capture -I$RDUMP_ROOT/cli $incs"

start=$(date +%s)
# shellcheck disable=SC2086
clang $cflags -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$dir/fuzz_reader" "$fuzz/fuzz_reader.c" $srcs $libs
# shellcheck disable=SC2086
cc $cflags -O1 -o "$dir/seed_min" "$fuzz/seed_min.c" $srcs $libs -Wl,--wrap=rdump_reader_read
echo "built the fuzz target and seed_min in $(( $(date +%s) - start ))s"

# A fresh seed from this build: a small script dumps itself (empty
# environment: no secret of the CI machine in it), seed_min keeps what
# summary reads, and summary must say the same of both.
cat >"$dir/seed.php" <<'PHP'
<?php
class Node { public $next; public $name; function __construct($n) { $this->name = $n; } }
function depth($n, $p) { if ($n == 0) { return rdump_dump($p); } return depth($n - 1, $p); }
$list = null;
for ($i = 0; $i < 20; $i++) { $x = new Node("n$i"); $x->next = $list; $list = $x; }
$config = ['a' => 1, 'b' => 2.5, 'c' => "str", 'd' => null, 'e' => true];
$ref = &$config;
exit(depth(3, $argv[1]) ? 0 : 1);
PHP
env -i PATH=/usr/bin:/bin php -n -d extension="$RDUMP_EXT" "$dir/seed.php" "$dir/fresh.rdump"
"$dir/seed_min" "$dir/fresh.rdump" "$dir/fresh-min.rdump" >"$dir/summary-full.txt"
"$RDUMP_CLI" summary "$dir/fresh-min.rdump" >"$dir/summary-min.txt"
sed 1d "$dir/summary-full.txt" >"$dir/a"; sed 1d "$dir/summary-min.txt" >"$dir/b"
cmp -s "$dir/a" "$dir/b" || { echo "summary of the minimized seed differs:"; diff "$dir/a" "$dir/b" | head; exit 1; }
grep -q 'Node' "$dir/summary-min.txt" || { echo "the fresh seed lost its objects"; exit 1; }
echo "figure: fresh seed: dump $(stat -c %s "$dir/fresh.rdump") bytes, minimized to $(stat -c %s "$dir/fresh-min.rdump") bytes with the same summary"

mkdir -p "$dir/gen-committed" "$dir/gen-fresh" "$dir/work" "$dir/artifacts"
php -n "$fuzz/make_corpus.php" "$fuzz/corpus/valid-summary.rdump" "$dir/gen-committed"
php -n "$fuzz/make_corpus.php" "$dir/fresh-min.rdump" "$dir/gen-fresh" --derived
# The committed corpus must be what make_corpus.php writes from its own seed (plus regression inputs).
for f in "$dir"/gen-committed/*; do
	case ${f##*/} in gzip-*) continue ;; esac  # gzip bytes depend on the zlib version
	cmp -s "$f" "$fuzz/corpus/${f##*/}" || { echo "tests/fuzz/corpus/${f##*/} is stale: regenerate with make_corpus.php"; exit 1; }
done
[ -e "$fifo" ] || { mkfifo "$fifo"; made_fifo=1; }

# -close_fd_mask=3: inspect and summary print; libFuzzer and the sanitizers keep their own stderr.
start=$(date +%s)
fuzz_rc=0
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$dir/fuzz_reader" -max_total_time="$FUZZ_SECONDS" -close_fd_mask=3 -timeout=10 -rss_limit_mb=2048 \
	-malloc_limit_mb=512 -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
	-artifact_prefix="$dir/artifacts/" "$dir/work" "$fuzz/corpus" "$dir/gen-fresh" \
	>"$dir/fuzz.log" 2>&1 || fuzz_rc=$?
secs=$(( $(date +%s) - start ))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -1)
grep -E '^(INFO: seed corpus|#[0-9]+ *(INITED|DONE))' "$dir/fuzz.log" | tail -3 || true
echo "count: fuzz executions: ${execs:-0} in ${secs}s (libFuzzer + ASan + UBSan over reader, inspect, summary)"
echo "count: corpus after fuzzing: $(ls "$dir/work" | wc -l) new inputs"
fail=0
if [ "$fuzz_rc" != 0 ]; then
	echo "FAIL: the fuzzer stopped with status $fuzz_rc:"
	grep -A30 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|Test unit written' "$dir/fuzz.log" | head -60
	for a in "$dir"/artifacts/*; do
		[ -e "$a" ] || continue
		cp "$a" "/tmp/rdump-fuzz-${a##*/}"
		echo "reproduce: $(basename "$a") saved as /tmp/rdump-fuzz-${a##*/} (add it to tests/fuzz/corpus/ once fixed)"
	done
	fail=1
fi
[ "${execs:-0}" -gt 0 ] || { echo "FAIL: no fuzz execution counted"; fail=1; }

# Every input through the real CLI, bounded in time and address space, two at a time.
cat >"$dir/replay.sh" <<'SH'
# replay.sh FILE: inspect and summary must each exit 0, or 1 with a message.
f=$1
err=$(mktemp)
trap 'rm -f "$err"' EXIT
for cmd in inspect summary; do
	rc=0
	( ulimit -v "$VMEM_KB"; exec timeout -k 2 20 "$RDUMP_CLI" "$cmd" "$f" ) </dev/null >/dev/null 2>"$err" || rc=$?
	if [ "$rc" = 0 ] || { [ "$rc" = 1 ] && [ -s "$err" ]; }; then
		continue
	fi
	case $rc in
	124|137) echo "FAIL: rdump-cli $cmd ${f##*/}: timed out" ;;
	1) echo "FAIL: rdump-cli $cmd ${f##*/}: exit 1 without saying why" ;;
	*) echo "FAIL: rdump-cli $cmd ${f##*/}: exit $rc: $(head -c 300 "$err")" ;;
	esac
	cp "$f" "/tmp/rdump-fuzz-replay-${f##*/}" 2>/dev/null
done
SH
mkdir -p "$dir/replay"
n=0
for f in "$fuzz"/corpus/* "$dir"/gen-fresh/* "$dir"/work/* "$dir"/artifacts/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	cp "$f" "$dir/replay/$n-${f##*/}"
done
start=$(date +%s)
export VMEM_KB RDUMP_CLI
find "$dir/replay" -type f -print0 | xargs -0 -n1 -P2 bash "$dir/replay.sh" >"$dir/replay.log" 2>&1 || true
bad=$(grep -c '^FAIL' "$dir/replay.log" || true)
cat "$dir/replay.log"
echo "count: inputs replayed through rdump-cli inspect and summary (ulimit -v ${VMEM_KB} KiB, timeout 20s): $n, failures: $bad, $(( $(date +%s) - start ))s"
[ "$n" -gt 50 ] || { echo "FAIL: too few inputs replayed"; fail=1; }
[ "$bad" = 0 ] || fail=1

# Lost data, not only lying data: the seed without one of its regions at a
# time (every second one: about a minute) must make summary fail and say so.
php -n "$fuzz/drop_regions.php" "$fuzz/corpus/valid-summary.rdump" "$RDUMP_CLI" "$dir" 2 || fail=1
[ "$fail" = 0 ]
