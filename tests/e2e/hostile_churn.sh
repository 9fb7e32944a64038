#!/usr/bin/env bash
# Issue 8, vanishing pages: php runs with tests/churn/churn.so preloaded (a
# thread mapping, touching, mprotecting and unmapping 2 MiB regions in a tight
# loop) and calls rdump_dump() 200 times in a row; every call must succeed,
# php must not crash, and every file must pass `rdump-cli inspect` (every
# tenth also `summary`: the churn never touches PHP's own memory, so nothing
# PHP needs may be missing). Then the same while rdump-cli dumps the process
# from outside at the same time, and with compression on.
# Dumps are inspected by this shell while php writes the next ones: a file
# that exists at its final path must be complete (atomic rename).
set -euo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}" "${RDUMP_ROOT:?}"
# PHP 7.x builds JSON as a module, which php -n does not load (used unquoted below)
php_json=$(php -n -r 'echo extension_loaded("json") ? "" : "-d extension=json";')
. "$(dirname "${BASH_SOURCE[0]}")/lib/hostile.bash"
N=${RDUMP_CHURN_DUMPS:-$([ "$hostile_mode" = full ] && echo 200 || echo 50)}
dir=$(mktemp -d /tmp/rdump-churn.XXXXXX)
php_pid=""
cleanup() {
	[ -z "$php_pid" ] || kill "$php_pid" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

cc -O2 -Wall -Wextra -Werror -shared -fPIC -pthread -o "$dir/churn.so" "$RDUMP_ROOT/tests/churn/churn.c" -ldl

# php side: N dumps named d<i><ext>, at most 4 not yet consumed; a failure
# leaves d<i>.failed with the warning; stays alive until $dir/stop exists.
cat >"$dir/churn_dumper.php" <<'PHP'
<?php
[, $dir, $n, $ext, $opts] = $argv;
$options = json_decode($opts, true);
// Outside dumps start from here: a ZTS PHP that is still starting has no TSRM to dump yet.
touch("$dir/started");
$small = [];
for ($i = 0; $i < 100; $i++) { $small["k$i"] = new ArrayObject([$i]); }
set_error_handler(function ($no, $msg) use (&$last) { $last = $msg; return true; });
$ok = 0;
for ($i = 0; $i < (int) $n; $i++) {
	while ($i >= 4 && (file_exists("$dir/d" . ($i - 4) . $ext) || file_exists("$dir/d" . ($i - 4) . ".failed"))) {
		usleep(1000);
	}
	$last = '';
	if (rdump_dump("$dir/d$i$ext", false, $options)) {
		$ok++;
	} else {
		file_put_contents("$dir/d$i.failed", "rdump_dump() returned false: $last\n");
	}
}
file_put_contents("$dir/done", "$ok\n");
while (!file_exists("$dir/stop")) { usleep(10000); }
echo "php: $ok of $n dumps returned true, ", count($small), " objects still alive\n";
PHP

fail=0
note_fail() { echo "FAIL: $*"; fail=1; }

# Waits for $1 (or $1's .failed twin) while php lives; 0 when the dump is there.
wait_dump() {
	local f=$1 failed=$2 t=0
	while [ ! -e "$f" ] && [ ! -e "$failed" ]; do
		kill -0 "$php_pid" 2>/dev/null || return 1
		t=$((t + 1))
		[ $t -lt 60000 ] || return 1
		sleep 0.005
	done
	[ -e "$f" ]
}

check_file() {  # inspect (and sometimes summary) one dump, then delete it
	local f=$1 i=$2 what=$3
	if ! "$RDUMP_CLI" inspect "$f" >"$dir/inspect.out" 2>&1; then
		note_fail "$what $i: inspect rejected it: $(tail -2 "$dir/inspect.out")"
		cp "$f" "/tmp/rdump-churn-failed-$what-$i${f##*/d$i}" 2>/dev/null || true
	elif [ $((i % 10)) = 0 ] && ! "$RDUMP_CLI" summary "$f" >"$dir/summary.out" 2>&1; then
		note_fail "$what $i: summary incomplete: $(grep -E 'unreadable|summary:' "$dir/summary.out" | head -3)"
	fi
	rm -f "$f"
}

ext_dumps=0 ext_failed=0
external_loop() {  # dumps php from outside until php says done; prints the counts
	local j=0 ok=0 bad=0
	while [ ! -e "$dir/started" ] && kill -0 "$php_pid" 2>/dev/null; do sleep 0.005; done
	while [ ! -e "$dir/done" ] && kill -0 "$php_pid" 2>/dev/null; do
		local how=--stop-process
		[ $((j % 2)) = 0 ] || how=--no-stop-process
		if "$RDUMP_CLI" --pid "$php_pid" -o "$dir/x$j.rdump" $how --quiet >"$dir/x.out" 2>&1; then
			if "$RDUMP_CLI" inspect "$dir/x$j.rdump" >/dev/null 2>"$dir/xi.out"; then
				ok=$((ok + 1))
			else
				echo "FAIL: external dump $j ($how) rejected by inspect: $(tail -1 "$dir/xi.out")"; bad=$((bad + 1))
			fi
		else
			echo "FAIL: external dump $j ($how) failed: $(tail -2 "$dir/x.out")"; bad=$((bad + 1))
		fi
		rm -f "$dir/x$j.rdump"
		j=$((j + 1))
	done
	echo "$ok $bad" >"$dir/external.counts"
}

# run LABEL EXT OPTIONS_JSON EXTERNAL(0|1)
run() {
	local label=$1 ext=$2 opts=$3 external=$4 i php_rc start
	rm -f "$dir"/d[0-9]* "$dir/started" "$dir/done" "$dir/stop" "$dir/external.counts" "$dir/churn.count"
	start=$(date +%s.%N)
	RDUMP_CHURN_REPORT="$dir/churn.count" LD_PRELOAD="$dir/churn.so" \
		php -n $php_json -d extension="$RDUMP_EXT" "$dir/churn_dumper.php" "$dir" "$N" "$ext" "$opts" >"$dir/php.out" 2>&1 &
	php_pid=$!
	local ext_pid=""
	if [ "$external" = 1 ]; then
		external_loop &
		ext_pid=$!
	fi
	local checked=0 failed=0
	for ((i = 0; i < N; i++)); do
		if wait_dump "$dir/d$i$ext" "$dir/d$i.failed"; then
			check_file "$dir/d$i$ext" "$i" "$label"
			checked=$((checked + 1))
		elif [ -e "$dir/d$i.failed" ]; then
			note_fail "$label $i: $(cat "$dir/d$i.failed")"
			rm -f "$dir/d$i.failed"
			failed=$((failed + 1))
		else
			note_fail "$label: php went away (or hung) before dump $i"
			break
		fi
	done
	[ -z "$ext_pid" ] || wait "$ext_pid" || true
	touch "$dir/stop"
	php_rc=0
	wait "$php_pid" || php_rc=$?
	php_pid=""
	[ "$php_rc" = 0 ] || note_fail "$label: php exited with status $php_rc: $(tail -3 "$dir/php.out")"
	grep -q "php: $N of $N dumps returned true" "$dir/php.out" || note_fail "$label: $(tail -3 "$dir/php.out")"
	local cycles
	cycles=$(sed -n 's/^cycles //p' "$dir/churn.count" 2>/dev/null)
	cycles=${cycles:-0}
	[ "$cycles" -gt 0 ] || note_fail "$label: the churn thread never ran"
	echo "count: $label: $checked dumps under churn passed inspect ($failed failed), $cycles churn cycles during them, $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $start}")s"
	if [ -n "$ext_pid" ]; then
		local ok bad
		read -r ok bad <"$dir/external.counts" || { ok=0; bad=1; }
		echo "count: $label: $ok outside dumps by rdump-cli --pid of the same process passed inspect ($bad failed)"
		[ "$bad" = 0 ] || note_fail "$label: $bad outside dumps failed"
		[ "$ok" -gt 0 ] || note_fail "$label: no outside dump completed"
	fi
}

# Compression exists when a compressed dump starts with the gzip magic.
printf '<?php exit(rdump_dump($argv[1], false, ["compress" => true]) ? 0 : 1);' >"$dir/probe.php"
compress_ok=0
if php -n $php_json -d extension="$RDUMP_EXT" "$dir/probe.php" "$dir/probe.rdump.gz" 2>/dev/null \
	&& [ "$(od -An -tx1 -N2 "$dir/probe.rdump.gz" | tr -d ' ')" = 1f8b ]; then
	compress_ok=1
fi
rm -f "$dir/probe.rdump.gz"
[ "$compress_ok" = 1 ] || note_fail "rdump_dump(\$path, false, ['compress' => true]) does not write a gzip stream"

# The exact moments, deterministically: the trap region vanishes (unmapped,
# or its upper half made PROT_NONE) when the dump first hands its address to
# write(2) (the file backend writing a region) or to process_vm_readv(2) (the
# readability check before a region is begun, or the copy a compressed dump
# makes). The dump must succeed, pass inspect, and hold the surviving pages
# intact and the vanished ones as zeros, or drop the region whole (and patch
# region_count) when nothing of it was left before it was begun.
cat >"$dir/trap_check.php" <<'PHP'
<?php
// Checks what a dump holds of the churn trap region; prints one verdict line.
// expect: dropped (no region), zeros (every page zero), half (lower half intact, upper zeros)
[, $cli, $file, $report, $label, $expect] = $argv;
function bad(string $m): void { global $label; echo "FAIL: trap $label: $m\n"; exit(1); }
if (!preg_match('/^trap 0x([0-9a-f]+) (\d+) (\d)$/m', file_get_contents($report), $m)) bad("no trap line in the report");
[$addr, $size, $fired] = [hexdec($m[1]), (int) $m[2], (int) $m[3]];
if (!$fired) bad("the trap never fired: the dump did not touch the region the expected way");
exec(escapeshellarg($cli) . ' inspect --json ' . escapeshellarg($file) . ' 2>&1', $out, $rc);
if ($rc !== 0) bad("inspect failed: " . implode("\n", array_slice($out, -3)));
$j = json_decode(implode("\n", $out), true);
$listed = false;
foreach ($j['memory_map'] as $e) { if (hexdec($e['begin']) === $addr && hexdec($e['end']) === $addr + $size) $listed = true; }
if (!$listed) bad(sprintf("the trap mapping 0x%x is not in the dump's memory map", $addr));
$hits = [];
foreach ($j['regions'] as $g) {
	$ga = hexdec(substr($g['address'], 2));
	if ($ga < $addr + $size && $ga + $g['size'] > $addr) $hits[] = [$ga, $g['size'], $g['file_offset']];
}
if ($expect === 'dropped') {
	if ($hits) bad("the region that vanished before it was begun is still in the dump");
	echo "figure: trap $label: region dropped, region_count consistent\n";
	exit(0);
}
if (count($hits) !== 1 || $hits[0][0] !== $addr || $hits[0][1] !== $size) bad("expected one region exactly over the trap, found " . json_encode($hits));
// Offsets are those of the RDUMP bytes: read a compressed dump through gzip -dc.
$fh = substr($file, -3) === '.gz' ? popen('gzip -dc ' . escapeshellarg($file) . ' 2>/dev/null', 'rb') : fopen($file, 'rb');
$pos = 0;
$kept = $zero = 0;
for ($p = 0; $p < $size / 4096; $p++) {
	$want = $hits[0][2] + $p * 4096;
	while ($pos < $want) { $pos += strlen(fread($fh, min(65536, $want - $pos))); }
	$page = '';
	while (strlen($page) < 4096 && !feof($fh)) { $page .= fread($fh, 4096 - strlen($page)); }
	$pos += strlen($page);
	if ($expect === 'half' && $p < $size / 8192) {
		if (substr($page, 0, 13) !== 'RDUMPTRAP' . pack('V', $p) || strspn($page, "\xa5", 13) !== 4096 - 13) bad("page $p lost its contents");
		$kept++;
	} else {
		if ($page !== str_repeat("\0", 4096)) bad("vanished page $p is not zeros");
		$zero++;
	}
}
echo "figure: trap $label: $kept pages intact, $zero vanished pages written as zeros\n";
PHP
# php loads extensions with RTLD_DEEPBIND (their own libc first), so rdump.so
# is preloaded too, after churn.so: then its write() is the interposed one.
printf '<?php exit(rdump_dump($argv[1], false, ["compress" => $argv[2] === "gz"]) ? 0 : 1);' >"$dir/once.php"
traps="unmap-on-write:zeros protect-on-write:half unmap-on-read:dropped protect-on-read:half"
# A compressed dump copies every region through process_vm_readv and cannot drop one (region_count is already out).
traps="$traps gz:unmap-on-read:zeros gz:protect-on-read:half"
trap_runs=0
for t in $traps; do
	ext=.rdump kind=plain
	case $t in gz:*) ext=.rdump.gz kind=gz; t=${t#gz:} ;; esac
	mode=${t%%:*} expect=${t#*:}
	rm -f "$dir/trap$ext" "$dir/trap.report"
	if RDUMP_CHURN_SLOTS=0 RDUMP_CHURN_TRAP=$mode RDUMP_CHURN_REPORT="$dir/trap.report" LD_PRELOAD="$dir/churn.so $RDUMP_EXT" \
		php -n $php_json -d extension="$RDUMP_EXT" "$dir/once.php" "$dir/trap$ext" "$kind" >"$dir/trap.out" 2>&1; then
		php -n $php_json "$dir/trap_check.php" "$RDUMP_CLI" "$dir/trap$ext" "$dir/trap.report" "$mode ($kind)" "$expect" || fail=1
	else
		note_fail "trap $mode ($kind): rdump_dump() failed: $(tail -3 "$dir/trap.out")"
	fi
	trap_runs=$((trap_runs + 1))
done
echo "count: deterministic vanishing-page dumps: $trap_runs"

run "in-process" .rdump '{}' 0

run "in-process while dumped from outside" .rdump '{}' 1
run "in-process compressed" .rdump.gz '{"compress":true}' 0

[ "$fail" = 0 ]
