#!/usr/bin/env bash
# Issue 8, leaks: valgrind (memcheck) over repeated dumps with
# USE_ZEND_ALLOC=0 (every PHP allocation is a malloc valgrind sees): plain,
# full, compressed, exclude_heap, async and failing dumps in one php, an OOM
# dump with ZendMM on, and rdump-cli inspect, summary, unpack and --pid.
# Each run must end with 0 bytes definitely, indirectly and possibly lost
# and no memcheck error (--errors-for-leak-kinds, --error-exitcode). The
# suppressions cover only what a memory dump must do: read and write raw
# memory, which holds uninitialised bytes and allocator padding.
# The dump path allocates with mmap only, which valgrind does not track, so
# the mappings, descriptors and address space of a php process are also
# counted after 60 and 120 more dumps: they must not grow with the count.
set -uo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}"
# Outside the full mode (lib/hostile.bash) only the census runs.
. "$(dirname "${BASH_SOURCE[0]}")/lib/hostile.bash"
[ "$hostile_mode" != full ] || command -v valgrind >/dev/null || { echo "valgrind is missing (scripts/deps.sh test installs it)"; exit 1; }
dir=$(mktemp -d /tmp/rdump-valgrind.XXXXXX)
target_pid=""
cleanup() {
	[ -z "$target_pid" ] || kill "$target_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

# Why each entry is here: a dump copies memory as it is, and memcheck flags
# raw memory (uninitialised bytes, the allocator's own padding and free
# space) wherever it is read. Each entry is matched only under the writer:
# - rdump-write-raw-memory: the file backend hands region memory to write(2);
# - rdump-fork-writer-*: the forked writer of an async dump, alone in its
#   copy-on-write image, reads region memory directly (to find zero blocks)
#   and writes it, in writer.c's emit_sparse() (rdump_writer_bytes() calls
#   it last, so an optimised build shows no frame of its own).
cat >"$dir/rdump.supp" <<'SUPP'
{
   rdump-write-raw-memory
   Memcheck:Param
   write(buf)
   ...
   fun:rdump_writer_mem
}
{
   rdump-fork-writer-writes-raw-memory
   Memcheck:Param
   write(buf)
   ...
   fun:emit_sparse
   ...
   fun:writer_main
}
{
   rdump-fork-writer-reads-raw-memory-Addr1
   Memcheck:Addr1
   ...
   fun:emit_sparse
   ...
   fun:writer_main
}
{
   rdump-fork-writer-reads-raw-memory-Addr2
   Memcheck:Addr2
   ...
   fun:emit_sparse
   ...
   fun:writer_main
}
{
   rdump-fork-writer-reads-raw-memory-Addr4
   Memcheck:Addr4
   ...
   fun:emit_sparse
   ...
   fun:writer_main
}
{
   rdump-fork-writer-reads-raw-memory-Addr8
   Memcheck:Addr8
   ...
   fun:emit_sparse
   ...
   fun:writer_main
}
{
   rdump-fork-writer-reads-raw-memory-Addr16
   Memcheck:Addr16
   ...
   fun:emit_sparse
   ...
   fun:writer_main
}
{
   rdump-fork-writer-reads-raw-memory-Addr32
   Memcheck:Addr32
   ...
   fun:emit_sparse
   ...
   fun:writer_main
}
{
   rdump-fork-writer-reads-raw-memory-Cond
   Memcheck:Cond
   ...
   fun:emit_sparse
   ...
   fun:writer_main
}
{
   rdump-fork-writer-reads-raw-memory-Value1
   Memcheck:Value1
   ...
   fun:emit_sparse
   ...
   fun:writer_main
}
{
   rdump-fork-writer-reads-raw-memory-Value2
   Memcheck:Value2
   ...
   fun:emit_sparse
   ...
   fun:writer_main
}
{
   rdump-fork-writer-reads-raw-memory-Value4
   Memcheck:Value4
   ...
   fun:emit_sparse
   ...
   fun:writer_main
}
{
   rdump-fork-writer-reads-raw-memory-Value8
   Memcheck:Value8
   ...
   fun:emit_sparse
   ...
   fun:writer_main
}
{
   rdump-fork-writer-reads-raw-memory-Value16
   Memcheck:Value16
   ...
   fun:emit_sparse
   ...
   fun:writer_main
}
{
   rdump-fork-writer-reads-raw-memory-Value32
   Memcheck:Value32
   ...
   fun:emit_sparse
   ...
   fun:writer_main
}
SUPP

vg=(valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99
	--suppressions="$dir/rdump.supp" --child-silent-after-fork=no)
fail=0 runs=0
bad() { echo "FAIL: $*"; fail=1; }

# vgrun LABEL CMD...: one valgrind run. The process started must end with no
# memcheck error and nothing lost. A writer it forks (async dumps) runs under
# valgrind too, with its own log: it must show no memcheck error, but its leak
# report means nothing, as it holds a copy of the caller's whole heap and ends
# with _exit by design.
vgrun() {
	local label=$1 rc=0 log lost main children=0
	shift
	runs=$((runs + 1))
	rm -f "$dir"/vg.*.log
	"${vg[@]}" --log-file="$dir/vg.%p.log" "$@" >"$dir/out" 2>&1 &
	main=$!
	wait "$main" || rc=$?
	# Forked writers may still be finishing: a finished log ends with its ERROR SUMMARY.
	for _ in $(seq 100); do
		! grep -L 'ERROR SUMMARY' "$dir"/vg.*.log 2>/dev/null | grep . >/dev/null && break
		sleep 0.1
	done
	for log in "$dir"/vg.*.log; do
		[ -e "$log" ] || continue
		if [ "$log" = "$dir/vg.$main.log" ]; then
			if grep -qE 'definitely lost: [1-9]|indirectly lost: [1-9]|possibly lost: [1-9]|ERROR SUMMARY: [1-9]' "$log"; then
				bad "$label: valgrind found errors or leaks:"
				sed -n '1,80p' "$log"
			fi
		else
			children=$((children + 1))
			if grep -qE '^==[0-9]+== (Invalid|Conditional jump|Use of uninitialised|Syscall param|Mismatched|Source and destination overlap|Process terminating)' "$log"; then
				bad "$label: memcheck errors in a forked writer:"
				sed -n '1,60p' "$log"
			fi
		fi
	done
	lost=$(grep -hoE '(definitely|indirectly|possibly) lost: [0-9,]+ bytes' "$dir/vg.$main.log" 2>/dev/null | tr '\n' ' ')
	grep -q 'All heap blocks were freed' "$dir/vg.$main.log" 2>/dev/null && lost="${lost}all heap blocks freed"
	[ "$children" = 0 ] || lost="$lost; $children forked writer logs free of memcheck errors"
	echo "valgrind: $label: exit $rc; ${lost:-no leak summary}"
	grep -qE 'lost: |All heap blocks were freed' "$dir/vg.$main.log" 2>/dev/null || bad "$label: valgrind printed no leak summary"
	[ "$rc" != 99 ] || bad "$label: valgrind's error exit"
	return "$rc"
}

ln -s /nonexistent "$dir/link.rdump"   # refused by every dump below
valgrind_runs() {
cat >"$dir/dumps.php" <<'PHP'
<?php
// dumps.php DIR ROUNDS: every kind of dump, several times; each must return what it should.
[, $d, $rounds] = $argv;
$keep = [];
for ($i = 0; $i < 200; $i++) { $keep[] = new ArrayObject(["item $i", $i]); }
$bad = 0;
set_error_handler(function () { return true; });
for ($r = 0; $r < (int) $rounds; $r++) {
	$bad += !rdump_dump("$d/plain.rdump");
	$bad += !rdump_dump("$d/full.rdump", true);
	$bad += !rdump_dump("$d/heap.rdump", false, ['exclude_heap' => true]);
	$bad += !rdump_dump("$d/z.rdump.gz", false, ['compress' => true]);
	$bad += !rdump_dump("$d/async$r.rdump", false, ['async' => true]);
	// Failing dumps must free what they took, too.
	$bad += rdump_dump("$d/missing/x.rdump");
	$bad += rdump_dump("$d/link.rdump");
	$bad += rdump_dump("$d", false, ['compress' => true]);
}
echo "bad=$bad\n";
exit($bad ? 1 : 0);
PHP
# (The variable is set for valgrind itself: under `env`, valgrind would stop at env's exec.)
USE_ZEND_ALLOC=0 vgrun "php, 3 rounds of 8 dumps (USE_ZEND_ALLOC=0)" \
	php -n -d extension="$RDUMP_EXT" "$dir/dumps.php" "$dir" 3 || bad "the dumps under valgrind: $(cat "$dir/out")"
for f in plain.rdump full.rdump heap.rdump z.rdump.gz; do
	"$RDUMP_CLI" inspect "$dir/$f" >/dev/null 2>&1 || bad "$f written under valgrind does not pass inspect"
done

printf '<?php\n$a = [];\nwhile (true) { $a[] = str_repeat("x", 1000); }\n' >"$dir/oom.php"
vgrun "php, OOM dump (ZendMM on)" php -n -d extension="$RDUMP_EXT" -d memory_limit=32M \
	-d rdump.oom_dump="$dir/oom.rdump" -d rdump.oom_dump_marker=1 "$dir/oom.php"
grep -q 'Allowed memory size' "$dir/out" || bad "OOM under valgrind: no fatal message: $(tail -3 "$dir/out")"
"$RDUMP_CLI" inspect "$dir/oom.rdump" >/dev/null 2>&1 || bad "the OOM dump under valgrind does not pass inspect"

# The CLI: every sub-command on real dumps, and on corrupt ones.
vgrun "rdump-cli inspect" "$RDUMP_CLI" inspect "$dir/plain.rdump" || bad "inspect under valgrind"
vgrun "rdump-cli inspect --json" "$RDUMP_CLI" inspect --json "$dir/full.rdump" || bad "inspect --json under valgrind"
vgrun "rdump-cli summary" "$RDUMP_CLI" summary "$dir/plain.rdump" || bad "summary under valgrind: $(tail -3 "$dir/out")"
vgrun "rdump-cli summary --json (compressed)" "$RDUMP_CLI" summary --json "$dir/z.rdump.gz" || bad "summary of .gz under valgrind"
vgrun "rdump-cli unpack" "$RDUMP_CLI" unpack "$dir/z.rdump.gz" -o "$dir/unpacked.rdump" || bad "unpack under valgrind"
head -c 100000 "$dir/plain.rdump" >"$dir/truncated.rdump"
vgrun "rdump-cli inspect (truncated dump)" "$RDUMP_CLI" inspect "$dir/truncated.rdump"
vgrun "rdump-cli summary (truncated dump)" "$RDUMP_CLI" summary "$dir/truncated.rdump"
printf '<?php\n$x = range(1, 1000);\nfor ($i = 0; $i < 600; $i++) { usleep(100000); }\n' >"$dir/sleep.php"
php -n "$dir/sleep.php" &
target_pid=$!
sleep 0.5
vgrun "rdump-cli --pid" "$RDUMP_CLI" --pid "$target_pid" -o "$dir/outside.rdump" --quiet || bad "rdump-cli --pid under valgrind: $(tail -3 "$dir/out")"
vgrun "rdump-cli --pid --compress --no-stop-process" "$RDUMP_CLI" --pid "$target_pid" -o "$dir/outside.rdump.gz" \
	--compress --no-stop-process --quiet || bad "rdump-cli --pid --compress under valgrind"
vgrun "rdump-cli --pid to a missing directory" "$RDUMP_CLI" --pid "$target_pid" -o "$dir/missing/x.rdump" --quiet
"$RDUMP_CLI" inspect "$dir/outside.rdump" >/dev/null 2>&1 || bad "the outside dump under valgrind does not pass inspect"
}
if [ "$hostile_mode" = full ]; then
	valgrind_runs
else
	echo "note: valgrind runs on the primary build (PHP 8.2 NTS) only; this is PHP $(php -r 'echo PHP_VERSION, PHP_ZTS ? " ZTS" : "";')"
fi
echo "count: valgrind runs: $runs"

# mmap and descriptor leaks of the dump path, which valgrind cannot see.
cat >"$dir/leak.php" <<'PHP'
<?php
// leak.php DIR: mappings, descriptors and address space after warm-up, then after
// 60 and 120 more dumps of every kind (plain, compressed, exclude_heap, async,
// refused). A leak in any kind grows with the count; PHP's and libc's own
// allocations (the brk heap, an occasional mapping) do not.
$d = $argv[1];
set_error_handler(function () { return true; });
function census(): array {
	$maps = count(file('/proc/self/maps'));
	$fds = count(scandir('/proc/self/fd')) - 2;
	preg_match('/^VmSize:\s+(\d+)/m', file_get_contents('/proc/self/status'), $m);
	return [$maps, $fds, (int) $m[1]];
}
$run = function (int $rounds) use ($d) {
	for ($i = 0; $i < $rounds; $i++) {
		rdump_dump("$d/l.rdump");
		rdump_dump("$d/l.rdump.gz", false, ['compress' => true]);
		rdump_dump("$d/l.rdump", false, ['exclude_heap' => true]);
		rdump_dump("$d/missing/l.rdump");
		rdump_dump("$d/link.rdump");
		rdump_dump("$d/la$i.rdump", false, ['async' => true]);
	}
};
$run(3);   // warm-up: lazily opened files, the allocator's first growth
$c0 = census();
$run(10);
$c1 = census();
$run(20);
$c2 = census();
printf("after warm-up %d mappings, %d descriptors, %d KiB; after 60 more dumps %d, %d, %d KiB; after 120 more %d, %d, %d KiB\n",
	...$c0, ...$c1, ...$c2);
$ok = $c0[1] === $c1[1] && $c1[1] === $c2[1]     // descriptors: exactly
	&& $c2[0] - $c1[0] <= 2 && $c1[0] - $c0[0] <= 2  // mappings: no growth with the count
	&& $c2[2] - $c1[2] <= 2048;                      // address space: under 2 MiB more for 120 dumps
exit($ok ? 0 : 1);
PHP
if out=$(php -n -d extension="$RDUMP_EXT" "$dir/leak.php" "$dir" 2>&1); then
	echo "figure: mapping/descriptor census of the dump path: $out"
else
	bad "mappings, descriptors or address space grew with the number of dumps: $out"
fi
[ "$fail" = 0 ]
