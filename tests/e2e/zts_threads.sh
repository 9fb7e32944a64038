#!/usr/bin/env bash
# ZTS: 4 threads of one process (PHP's embed SAPI, tests/e2e/zts_threads.c)
# each run their own script at the same time: allocate and rdump_dump() 20
# times (every other dump async, so forked writers start from several
# threads at once), then die on memory_limit with OOM dumps on
# (rdump.oom_dump with %i, the thread id). No crash; every dump passes
# `rdump-cli inspect` and `summary` and no temporary file is left; each dump
# carries its own thread's EG (4 distinct EG addresses, the same in all
# dumps of one thread) and its summary shows that thread's script on the
# stack; the OOM dumps are 4 distinct files, one per thread.
# Runs on a ZTS PHP with the embed SAPI (scripts/test-versions.sh builds one).
set -euo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}"
threads=4 dumps=20

command -v php-config >/dev/null || { echo "needs php-config of a ZTS PHP with the embed SAPI"; exit 77; }
[ "$(php -n -r 'echo PHP_ZTS;')" = 1 ] || { echo "needs a ZTS PHP (this php is NTS; scripts/test-versions.sh runs it on a ZTS debug build)"; exit 77; }
php-config --php-sapis | grep -w embed >/dev/null || { echo "needs PHP's embed SAPI (--enable-embed)"; exit 77; }
prefix=$(php-config --prefix)
libdir=$prefix/lib
[ -e "$libdir/libphp.so" ] || { echo "libphp.so not found in $libdir"; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
here=$(cd "$(dirname "$0")" && pwd)

# shellcheck disable=SC2046
cc -std=gnu99 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE $(php-config --includes) -o "$dir/zts_threads" "$here/zts_threads.c" \
	-L"$libdir" -Wl,-rpath,"$libdir" -lphp -lpthread

mkdir "$dir/dumps" "$dir/barrier"
cat >"$dir/php.ini" <<INI
extension=$RDUMP_EXT
memory_limit=16M
error_reporting=E_ALL
display_errors=1
log_errors=0
rdump.oom_dump=$dir/dumps/oom-%i.rdump
rdump.oom_dump_max=0
INI
for ((n = 0; n < threads; n++)); do
	cat >"$dir/thread-$n.php" <<PHP
<?php
function thread_${n}_work(string \$dir): void
{
	\$keep = [];
	for (\$i = 0; \$i < $dumps; \$i++) {
		\$keep[] = array_fill(0, 2000, "thread $n item \$i");
		\$keep[] = new ArrayObject(range(0, 500));
		if (!rdump_dump("\$dir/t$n-\$i.rdump", false, ['async' => \$i % 2 === 1])) {
			echo "thread $n: dump \$i failed\n";
			exit(1);
		}
	}
	echo "thread $n: $dumps dumps\n";
}

/* The OOMs only once every thread is done dumping: the dumps stay small. */
function thread_${n}_wait(string \$barrier): void
{
	touch("\$barrier/done-$n");
	\$deadline = microtime(true) + 300;
	while (count(glob("\$barrier/done-*")) < $threads) {
		if (microtime(true) > \$deadline) {
			echo "thread $n: the other threads never finished their dumps\n";
			exit(1);
		}
		usleep(10000);
	}
}

function thread_${n}_oom(): void
{
	\$grow = [];
	while (true) {
		\$grow[] = str_repeat("$n", 65536);
	}
}

thread_${n}_work('$dir/dumps');
thread_${n}_wait('$dir/barrier');
thread_${n}_oom();
PHP
done

start=$(date +%s%N)
set +e
scripts=()
for ((n = 0; n < threads; n++)); do scripts+=("$dir/thread-$n.php"); done
PHPRC=$dir/php.ini "$dir/zts_threads" "${scripts[@]}" >"$dir/out.txt" 2>&1
rc=$?
set -e
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cat "$dir/out.txt"
[ $rc = 0 ] || { echo "zts_threads exited with $rc"; exit 1; }
if grep -qE 'memory leaks detected|:  Freeing 0x|Memory leaked|Assertion .* failed' "$dir/out.txt"; then
	echo "the debug build reported leaks or a failed assertion"
	exit 1
fi
for ((n = 0; n < threads; n++)); do
	grep -qx "thread $n: $dumps dumps" "$dir/out.txt" || { echo "thread $n did not finish its dumps"; exit 1; }
	grep -qx "thread $n: exit status 255" "$dir/out.txt" || { echo "thread $n did not end on the memory limit"; exit 1; }
done
echo "figure: $threads threads x $dumps dumps + OOM dumps in ${ms} ms"

# Every dump: inspect and summary pass; the EG and the script on the stack are its thread's.
php -n -d display_errors=stderr -r '
	[, $dir, $cli, $threads, $dumps] = $argv;
	function cli(string $cli, string ...$args): array {
		exec(escapeshellarg($cli) . " " . implode(" ", array_map("escapeshellarg", $args)) . " 2>&1", $out, $rc);
		return [$rc, implode("\n", $out)];
	}
	function check(string $cli, string $path): array {
		[$rc, $out] = cli($cli, "inspect", "--json", $path);
		if ($rc !== 0) { fwrite(STDERR, "inspect $path: exit $rc\n$out\n"); exit(1); }
		$eg = json_decode($out, true)["eg_address"] ?? null;
		[$rc, $out] = cli($cli, "summary", "--json", $path);
		if ($rc !== 0) { fwrite(STDERR, "summary $path: exit $rc\n$out\n"); exit(1); }
		$s = json_decode($out, true);
		if (!is_array($s) || !isset($s["stack"])) { fwrite(STDERR, "summary $path: no stack\n$out\n"); exit(1); }
		return [$eg, $s["stack"]];
	}
	function on_stack(array $stack, string $fn, string $file): bool {
		foreach ($stack as $f) {
			if (($f["function"] ?? null) === $fn && basename((string) ($f["file"] ?? "")) === $file) {
				return true;
			}
		}
		return false;
	}
	$eg_of = [];
	for ($n = 0; $n < $threads; $n++) {
		for ($i = 0; $i < $dumps; $i++) {
			$path = "$dir/dumps/t$n-$i.rdump";
			/* An async writer may still be writing when the process has ended. */
			for ($w = 0; $w < 600 && !is_file($path); $w++) { usleep(100000); clearstatcache(); }
			if (!is_file($path)) { fwrite(STDERR, "missing $path\n"); exit(1); }
			[$eg, $stack] = check($cli, $path);
			if (!on_stack($stack, "thread_{$n}_work", "thread-$n.php")) {
				fwrite(STDERR, "$path: thread_{$n}_work() of thread-$n.php not on the stack: " . json_encode($stack) . "\n"); exit(1);
			}
			$eg_of[$n] = $eg_of[$n] ?? $eg;
			if ($eg !== $eg_of[$n]) { fwrite(STDERR, "$path: EG $eg, earlier dumps of thread $n: $eg_of[$n]\n"); exit(1); }
			unlink($path);
		}
	}
	if (count(array_unique($eg_of)) !== (int) $threads) {
		fwrite(STDERR, "EG addresses are not one per thread: " . implode(" ", $eg_of) . "\n"); exit(1);
	}
	echo "count: EG addresses of the $threads threads: " . implode(" ", $eg_of) . "\n";
	$oom = glob("$dir/dumps/oom-*.rdump");
	if (count($oom) !== (int) $threads) {
		fwrite(STDERR, "expected $threads OOM dumps (one per thread id), found: " . implode(" ", array_map("basename", $oom)) . "\n"); exit(1);
	}
	$seen = [];
	foreach ($oom as $path) {
		[$eg, $stack] = check($cli, $path);
		$n = array_search($eg, $eg_of, true);
		if ($n === false) { fwrite(STDERR, "$path: EG $eg is not that of any thread\n"); exit(1); }
		if (!on_stack($stack, "thread_{$n}_oom", "thread-$n.php")) {
			fwrite(STDERR, "$path: thread_{$n}_oom() of thread-$n.php not on the stack: " . json_encode($stack) . "\n"); exit(1);
		}
		$seen[$n] = basename($path);
	}
	if (count($seen) !== (int) $threads) { fwrite(STDERR, "OOM dumps do not cover every thread\n"); exit(1); }
	$tmp = glob("$dir/dumps/.rdump-tmp.*");
	if ($tmp) { fwrite(STDERR, "temporary files left: " . implode(" ", array_map("basename", $tmp)) . "\n"); exit(1); }
	echo "count: dumps checked: " . ($threads * $dumps) . " rdump_dump() dumps, " . count($oom) . " OOM dumps (" . implode(" ", $seen) . ")\n";
' "$dir" "$RDUMP_CLI" "$threads" "$dumps"
