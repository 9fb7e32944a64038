#!/usr/bin/env bash
# Issue 8, memory errors: rdump-cli and the C unit tests of format/ and
# capture/ built with clang -fsanitize=address,undefined (every report
# fatal, leaks included) from the same sources as the real build, then run:
# the C tests; inspect, summary (text and JSON) and unpack of fresh dumps of
# every kind; dumps from outside (--pid: plain, compressed, include-binary,
# exclude-heap, no-stop, to stdout; a program started with --).
# One ASan suppression: write(2) of the own process's memory by the dump
# writer (tests that dump themselves). That memory is what a dump copies as
# it is, and under ASan it includes ASan's shadow and the allocator's
# poisoned redzones, which the write interceptor would report.
set -uo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}" "${RDUMP_ROOT:?}"
. "$(dirname "${BASH_SOURCE[0]}")/lib/hostile.bash"
hostile_full_only "the sanitizer builds run"
command -v clang >/dev/null || { echo "clang is missing (scripts/deps.sh test installs clang and libclang-rt-14-dev)"; exit 1; }
dir=$(mktemp -d /tmp/rdump-sanitize.XXXXXX)
target_pid=""
cleanup() {
	[ -z "$target_pid" ] || kill "$target_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

# Sources, include paths, libraries and test flags from the generated Makefile.
printf 'rdump-print-build:\n\t@echo $(RDUMP_CLI_SRCS)\n\t@echo $(INCLUDES)\n\t@echo $(RDUMP_CLI_LIBS)\n\t@echo $(RDUMP_TEST_CFLAGS)\n' >"$dir/print.mk"
make -s --no-print-directory -C "$RDUMP_ROOT" -f Makefile -f "$dir/print.mk" rdump-print-build >"$dir/build.txt" \
	|| { echo "cannot read the build from $RDUMP_ROOT/Makefile"; exit 1; }
cli_srcs=$(sed -n 1p "$dir/build.txt")
lib_srcs=$(tr ' ' '\n' <<<"$cli_srcs" | grep -v '/cli/' | tr '\n' ' ')
incs=$(sed -n 2p "$dir/build.txt")
libs=$(sed -n 3p "$dir/build.txt")
test_cflags=$(sed -n 4p "$dir/build.txt")
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cflags="-std=gnu99 -O1 -g -D_GNU_SOURCE -Wall -Wextra $san -I$RDUMP_ROOT -I$RDUMP_ROOT/format -I$RDUMP_ROOT/capture -I$RDUMP_ROOT/cli $incs"

start=$(date +%s)
# Every source compiled once (in parallel), then linked into the CLI and each test program.
mkdir -p "$dir/obj" "$dir/c"
export cflags dir
# shellcheck disable=SC2016
tr ' ' '\n' <<<"$cli_srcs" | grep . | xargs -P "$(nproc)" -I{} sh -c \
	'o="$dir/obj/$(echo "{}" | tr / _).o"; clang $cflags -c "{}" -o "$o" || { echo "FAIL: {} does not build with the sanitizers"; exit 255; }' \
	|| { echo "FAIL: the sanitized build failed"; exit 1; }
objs() {  # the objects of the sources named in $1
	local f
	for f in $1; do printf '%s ' "$dir/obj/$(echo "$f" | tr / _).o"; done
}
# shellcheck disable=SC2046,SC2086
clang $cflags -o "$dir/rdump-cli" $(objs "$cli_srcs") $libs || { echo "FAIL: the sanitized rdump-cli does not link"; exit 1; }
for t in "$RDUMP_ROOT"/tests/c/test_*.c; do
	if [ -z "$test_cflags" ]; then
		# shellcheck disable=SC2046,SC2086
		clang $cflags -o "$dir/c/$(basename "$t" .c)" "$t" $(objs "$lib_srcs") $libs
	else
		# shellcheck disable=SC2086
		clang $cflags $test_cflags -o "$dir/c/$(basename "$t" .c)" "$t" $lib_srcs $libs
	fi || { echo "FAIL: $(basename "$t") does not build with the sanitizers"; exit 1; }
done
echo "built the sanitized rdump-cli and $(ls "$dir/c" | wc -l) C test programs in $(( $(date +%s) - start ))s"

printf 'interceptor_via_fun:rdump_writer_mem\ninterceptor_via_fun:rdump_writer_bytes\n' >"$dir/asan.supp"
# A sanitizer report exits 86 (ASan, LSan) or 87 (UBSan), never 1 like an ordinary failure.
export ASAN_OPTIONS="detect_leaks=1:exitcode=86:suppressions=$dir/asan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87"
cli=$dir/rdump-cli
fail=0 runs=0
bad() { echo "FAIL: $*"; fail=1; }
# san_run LABEL EXPECT CMD...: EXPECT is "ok" (exit 0), "any" (0 or 1) or "err" (an ordinary failure,
# 1 to 6); a sanitizer report always fails.
san_run() {
	local label=$1 expect=$2 rc=0
	shift 2
	runs=$((runs + 1))
	"$@" >"$dir/out" 2>"$dir/err" || rc=$?
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$dir/err" || [ "$rc" = 86 ] || [ "$rc" = 87 ] || [ "$rc" -ge 128 ]; then
		bad "$label: exit $rc, sanitizer report:"
		head -60 "$dir/err"
		return 1
	fi
	if [ "$expect" = ok ] && [ "$rc" != 0 ]; then
		bad "$label: exit $rc: $(tail -3 "$dir/err")"
		return 1
	fi
	if [ "$expect" = err ]; then
		[ "$rc" -ge 1 ] && [ "$rc" -le 6 ] && [ -s "$dir/err" ] || bad "$label: exit $rc, expected a failure with a message"
		return 0
	fi
	if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
		bad "$label: exit $rc: $(tail -3 "$dir/err")"
		return 1
	fi
	return 0
}

# --- the C unit tests
# Where each direct leak was allocated from: the first frame that is not the allocator.
leak_sites() {
	awk '/^(Direct|Indirect) leak of/ { d = ($1 == "Direct"); next }
		d && /^ +#[0-9]+ / && !/__interceptor_|in (malloc|calloc|realloc|strdup) / { print $NF; d = 0 }' "$1"
}
c_pass=0 c_fail=0 c_ubsan_only=""
# All at once (they dump themselves, and under ASan their address space is mostly shadow: slow to scan).
t0=$(date +%s)
for t in "$RDUMP_ROOT"/tests/c/test_*.c; do
	name=$(basename "$t" .c)
	( rc=0; "$dir/c/$name" >"$dir/c/$name.out" 2>"$dir/c/$name.err" || rc=$?; echo "$rc" >"$dir/c/$name.rc" ) &
done
wait
echo "C tests under ASan+UBSan ran in $(( $(date +%s) - t0 ))s"
for t in "$RDUMP_ROOT"/tests/c/test_*.c; do
	name=$(basename "$t" .c)
	rc=$(cat "$dir/c/$name.rc")
	cp "$dir/c/$name.out" "$dir/out"
	cp "$dir/c/$name.err" "$dir/err"
	runs=$((runs + 1))
	# The fork writer runs on a stack of its own in a clone(CLONE_VM) child, which ASan
	# cannot follow (it says so: google/sanitizers#189); such a program is checked by UBSan alone.
	if [ "$rc" != 0 ] && grep -q 'ASan is ignoring requested __asan_handle_no_return' "$dir/err" \
		&& ! grep -qE 'ERROR: AddressSanitizer|runtime error:' "$dir/err"; then
		# shellcheck disable=SC2086
		clang ${cflags/-fsanitize=address,undefined/-fsanitize=undefined} $test_cflags -o "$dir/c/$name.ubsan" "$t" $lib_srcs $libs \
			|| bad "$name does not build with UBSan"
		c_ubsan_only="$c_ubsan_only $name"
		rc=0
		"$dir/c/$name.ubsan" >"$dir/out" 2>"$dir/err" || rc=$?
	fi
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$dir/out" | tail -1)
	p=$(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$line")
	f=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$line")
	c_pass=$((c_pass + ${p:-0})) c_fail=$((c_fail + ${f:-0}))
	[ -n "$line" ] || bad "C test $name printed no summary (exit $rc): $(tail -5 "$dir/err")"
	[ "${f:-0}" = 0 ] || { bad "C test $name: $line"; grep '^FAIL' "$dir/err" | head -10; }
	if grep -qE 'ERROR: AddressSanitizer|runtime error:' "$dir/err"; then
		bad "C test $name: sanitizer report:"
		head -60 "$dir/err"
	elif grep -q 'ERROR: LeakSanitizer' "$dir/err"; then
		# A leak allocated by the test program itself is the test's business; one from format/ or capture/ fails.
		ours=$(leak_sites "$dir/err" | grep -v '/tests/c/' || true)
		if [ -n "$ours" ]; then
			bad "C test $name: leaks allocated in the project's code: $ours"
			head -60 "$dir/err"
		else
			echo "note: C test $name leaks memory it allocated itself (not format/ or capture/): $(leak_sites "$dir/err" | sort -u | tr '\n' ' ')"
		fi
	elif [ "$rc" != 0 ] && [ "${f:-0}" = 0 ]; then
		bad "C test $name: exit $rc: $(tail -5 "$dir/err")"
	fi
	echo "C test $name: ${line:-no summary}"
done
echo "count: sanitized C test checks: $c_pass passed, $c_fail failed (UBSan only, for the clone(CLONE_VM) writer:${c_ubsan_only:- none})"

t0=$(date +%s)
# --- fresh dumps of every kind through the sanitized CLI
cat >"$dir/app.php" <<'PHP'
<?php
class Order { public $lines = []; public $total = 0.0; }
function work(string $dir) {
	$orders = [];
	for ($i = 0; $i < 50; $i++) { $o = new Order(); $o->lines[] = "line $i"; $o->total = $i * 1.5; $orders[] = $o; }
	$ok = rdump_dump("$dir/plain.rdump") && rdump_dump("$dir/full.rdump", true)
		&& rdump_dump("$dir/heap.rdump", false, ['exclude_heap' => true])
		&& rdump_dump("$dir/z.rdump.gz", false, ['compress' => true]);
	return $ok ? count($orders) : 0;
}
exit(work($argv[1]) === 50 ? 0 : 1);
PHP
php -n -d extension="$RDUMP_EXT" "$dir/app.php" "$dir" || bad "the extension could not write the dumps"
USE_ZEND_ALLOC=0 php -n -d extension="$RDUMP_EXT" -r 'exit(rdump_dump($argv[1]) ? 0 : 1);' "$dir/nozendmm.rdump" \
	|| bad "the extension could not dump without ZendMM"
for f in plain.rdump full.rdump heap.rdump z.rdump.gz nozendmm.rdump; do
	[ -f "$dir/$f" ] || continue
	san_run "inspect $f" ok "$cli" inspect "$dir/$f"
	san_run "inspect --json $f" ok "$cli" inspect --json "$dir/$f"
	san_run "summary $f" any "$cli" summary "$dir/$f"
	san_run "summary --json $f" any "$cli" summary --json "$dir/$f"
done
san_run "summary plain.rdump is complete" ok "$cli" summary "$dir/plain.rdump"
san_run "unpack z.rdump.gz" ok "$cli" unpack "$dir/z.rdump.gz" -o "$dir/unpacked.rdump"
san_run "inspect of the unpacked dump" ok "$cli" inspect "$dir/unpacked.rdump"

# --- dumps from outside by the sanitized CLI
printf '<?php\nclass Item { public $n; }\n$x = [];\nfor ($i = 0; $i < 100; $i++) { $x[] = new Item(); }\nfor ($i = 0; $i < 600; $i++) { usleep(100000); }\n' >"$dir/sleep.php"
php -n "$dir/sleep.php" &
target_pid=$!
sleep 0.5
for opts in "" "--no-stop-process" "--include-binary" "--exclude-heap" "--compress" "--compress=9 --max-buffer 0"; do
	ext=.rdump
	case $opts in *--compress*) ext=.rdump.gz ;; esac
	rm -f "$dir/outside$ext"
	# shellcheck disable=SC2086
	san_run "rdump-cli --pid $opts" ok "$cli" --pid "$target_pid" -o "$dir/outside$ext" $opts --quiet \
		&& san_run "inspect of rdump-cli --pid $opts" ok "$cli" inspect "$dir/outside$ext" \
		&& san_run "summary of rdump-cli --pid $opts" any "$cli" summary "$dir/outside$ext"
done
san_run "rdump-cli --pid -o -" ok sh -c '"$1" --pid "$2" -o - --quiet >"$3"' sh "$cli" "$target_pid" "$dir/stdout.rdump"
san_run "inspect of the -o - dump" ok "$cli" inspect "$dir/stdout.rdump"
san_run "rdump-cli -o FILE -- php" ok "$cli" -o "$dir/spawned.rdump" --delay 0.5 --quiet -- php -n -r 'usleep(1500000);'
san_run "rdump-cli --pid of a process that is gone" err "$cli" --pid 999999 -o "$dir/gone.rdump" --quiet
san_run "rdump-cli --pid of a non-PHP process" err "$cli" --pid $$ -o "$dir/bash.rdump" --quiet
kill -0 "$target_pid" 2>/dev/null || bad "the target of the outside dumps died"

# (The fuzz corpus goes through the same code under ASan and UBSan in tests/e2e/hostile_fuzz.sh.)
echo "sanitized rdump-cli on fresh and outside dumps: $(( $(date +%s) - t0 ))s"
echo "count: sanitized program runs: $runs"
[ "$fail" = 0 ]
