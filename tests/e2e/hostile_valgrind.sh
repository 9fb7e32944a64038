#!/usr/bin/env bash
# Issue 8, leaks: valgrind (memcheck) over repeated dumps with
# USE_ZEND_ALLOC=0 (every PHP allocation is a malloc valgrind sees): plain,
# full, compressed, exclude_heap, async and failing dumps in one php, an OOM
# dump with ZendMM on, and rdump-cli inspect, summary, unpack and --pid.
# Each run must end with 0 bytes definitely, indirectly and possibly lost
# and no memcheck error (--errors-for-leak-kinds, --error-exitcode). The one
# suppression covers what a memory dump must do: hand raw memory, which
# holds uninitialised bytes and allocator padding, to write(2).
# The dump path allocates with mmap only, which valgrind does not track, so
# the mappings and descriptors of a php process are also counted before and
# after 60 more dumps: they must come back to the same numbers.
set -uo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}"
# Long runs belong to the primary build (PHP 8.2 NTS, CI's host); the other
# builds of scripts/test-versions.sh run the census only (README, "Robustness").
mode=${RDUMP_HOSTILE:-$(php -r 'echo PHP_MAJOR_VERSION == 8 && PHP_MINOR_VERSION == 2 && !PHP_ZTS ? "full" : "quick";')}
[ "$mode" != full ] || command -v valgrind >/dev/null || { echo "valgrind is missing (scripts/deps.sh test installs it)"; exit 1; }
dir=$(mktemp -d /tmp/rdump-valgrind.XXXXXX)
target_pid=""
cleanup() {
	[ -z "$target_pid" ] || kill "$target_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

# Why each entry is here:
# - rdump-write-raw-memory: region bytes go from memory to write(2) as they
#   are (that is what a dump is); memcheck flags the uninitialised bytes and
#   the allocator's own padding in them. Matched only under the writer.
cat >"$dir/rdump.supp" <<'SUPP'
{
   rdump-write-raw-memory-uninitialised
   Memcheck:Param
   write(buf)
   ...
   fun:rdump_writer_mem
}
{
   rdump-write-raw-memory-unaddressable
   Memcheck:Param
   write(buf)
   ...
   fun:rdump_writer_bytes
}
SUPP

vg=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99
	--suppressions="$dir/rdump.supp" --child-silent-after-fork=no)
fail=0 runs=0
bad() { echo "FAIL: $*"; fail=1; }

# vgrun LABEL CMD...: one valgrind run, every process it forks included, each with its own log.
vgrun() {
	local label=$1 rc=0 log lost
	shift
	runs=$((runs + 1))
	rm -f "$dir"/vg.*.log
	"${vg[@]}" --log-file="$dir/vg.%p.log" "$@" >"$dir/out" 2>&1 || rc=$?
	# A forked writer may still be finishing its log.
	sleep 0.2
	for log in "$dir"/vg.*.log; do
		[ -e "$log" ] || continue
		if grep -qE 'definitely lost: [1-9]|indirectly lost: [1-9]|possibly lost: [1-9]|ERROR SUMMARY: [1-9]' "$log"; then
			bad "$label: valgrind found errors or leaks:"
			sed -n '1,80p' "$log"
		fi
	done
	lost=$(cat "$dir"/vg.*.log 2>/dev/null | grep -hoE '(definitely|indirectly|possibly) lost: [0-9,]+ bytes' | tr '\n' ' ')
	echo "$label: exit $rc; ${lost:-no leak summary (all heap blocks freed)}"
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
vgrun "php, 3 rounds of 8 dumps (USE_ZEND_ALLOC=0)" env USE_ZEND_ALLOC=0 \
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
vgrun "rdump-cli inspect" "$RDUMP_CLI" inspect "$dir/plain.rdump" >/dev/null || bad "inspect under valgrind"
vgrun "rdump-cli inspect --json" "$RDUMP_CLI" inspect --json "$dir/full.rdump" >/dev/null || bad "inspect --json under valgrind"
vgrun "rdump-cli summary" "$RDUMP_CLI" summary "$dir/plain.rdump" >/dev/null || bad "summary under valgrind: $(tail -3 "$dir/out")"
vgrun "rdump-cli summary --json (compressed)" "$RDUMP_CLI" summary --json "$dir/z.rdump.gz" >/dev/null || bad "summary of .gz under valgrind"
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
if [ "$mode" = full ]; then
	valgrind_runs
else
	echo "note: valgrind runs on the primary build (PHP 8.2 NTS) only; this is PHP $(php -r 'echo PHP_VERSION, PHP_ZTS ? " ZTS" : "";')"
fi
echo "count: valgrind runs: $runs"

# mmap and descriptor leaks of the dump path, which valgrind cannot see.
cat >"$dir/leak.php" <<'PHP'
<?php
// leak.php DIR: mappings and descriptors before and after 60 dumps of every kind.
$d = $argv[1];
set_error_handler(function () { return true; });
function census(): array {
	$maps = count(file('/proc/self/maps'));
	$fds = count(scandir('/proc/self/fd')) - 2;
	preg_match('/^VmSize:\s+(\d+)/m', file_get_contents('/proc/self/status'), $m);
	return [$maps, $fds, (int) $m[1]];
}
$run = function (int $n) use ($d) {
	for ($i = 0; $i < $n; $i++) {
		rdump_dump("$d/l.rdump");
		rdump_dump("$d/l.rdump.gz", false, ['compress' => true]);
		rdump_dump("$d/l.rdump", false, ['exclude_heap' => true]);
		rdump_dump("$d/missing/l.rdump");
		rdump_dump("$d/link.rdump");
		rdump_dump("$d/la$i.rdump", false, ['async' => true]);
	}
};
$run(3);   // warm-up: lazily opened files, the allocator's first growth
$before = census();
$run(10);
$after = census();
printf("before: %d mappings, %d descriptors, %d KiB; after 60 more dumps: %d mappings, %d descriptors, %d KiB\n",
	$before[0], $before[1], $before[2], $after[0], $after[1], $after[2]);
exit($before === $after ? 0 : 1);
PHP
if out=$(USE_ZEND_ALLOC=0 php -n -d extension="$RDUMP_EXT" "$dir/leak.php" "$dir" 2>&1); then
	echo "figure: mmap/descriptor census: $out"
else
	bad "mappings, descriptors or address space grew over repeated dumps: $out"
fi
[ "$fail" = 0 ]
