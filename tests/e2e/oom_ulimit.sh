#!/usr/bin/env bash
# Issue 3: OOM under a tight address-space limit (ulimit -v), swept from
# "ZendMM itself cannot grow" to "plenty", synchronous and asynchronous:
# every run dies with PHP's own message (memory_limit fatal, exit 255; or
# ZendMM's "Out of memory" when the limit is hit first; never a signal),
# and leaves either a dump that rdump-cli inspect accepts or, with a reason
# on stderr, nothing: never a partial or temporary file.
set -uo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$dir/oom.php" <<'PHP'
<?php
$a = [];
while (true) { $a[] = str_repeat('x', 1000); }
PHP
phpargs=(-n -d log_errors=0 -d display_errors=1 -d memory_limit=32M -d extension="$RDUMP_EXT")
# The address space of an idle process, in KiB: the sweep starts there.
base=$(php "${phpargs[@]}" -r 'preg_match("/VmSize:\s+(\d+)/", file_get_contents("/proc/self/status"), $m); echo $m[1];')
[ -n "$base" ] || fail "cannot read VmSize"

complete=0 skipped=0 nolimit=0 runs=0
for async in 0 1; do
	for extra in 24 28 30 32 34 36 40 64; do
		limit=$((base + extra * 1024))
		out="$dir/out-$async-$extra"
		mkdir "$dir/d"
		# Through a pipe: the shell waits for the async writer too, which holds stderr.
		(ulimit -v "$limit"; exec php "${phpargs[@]}" -d rdump.async="$async" \
			-d rdump.oom_dump="$dir/d/oom.rdump" "$dir/oom.php") 2>&1 | cat >"$out"
		rc=${PIPESTATUS[0]}
		runs=$((runs + 1))
		what="async=$async limit=+${extra}MiB"
		[ "$rc" -lt 128 ] || [ "$rc" = 255 ] || { cat "$out"; fail "$what: killed by a signal (exit status $rc)"; }
		if grep -q "Allowed memory size of 33554432 bytes exhausted" "$out"; then
			[ "$rc" = 255 ] || { cat "$out"; fail "$what: exit status $rc, not PHP's fatal 255"; }
			if [ -f "$dir/d/oom.rdump" ]; then
				"$RDUMP_CLI" inspect "$dir/d/oom.rdump" >/dev/null || fail "$what: a dump that does not pass inspect"
				complete=$((complete + 1))
			else
				grep -q '^rdump: .*dump to ".*" failed: ' "$out" || { cat "$out"; fail "$what: no dump and no reason given"; }
				skipped=$((skipped + 1))
			fi
		elif grep -q "Out of memory" "$out"; then
			# ZendMM hit the address-space limit before memory_limit (PHP prints this and
			# exits 1, or fatals): not what triggers an OOM dump, and nothing is written.
			[ ! -e "$dir/d/oom.rdump" ] || fail "$what: a dump without the memory_limit fatal"
			nolimit=$((nolimit + 1))
		else
			cat "$out"
			fail "$what: no PHP fatal error message"
		fi
		left=$(ls -A "$dir/d" | grep -v '^oom\.rdump$' || true)
		[ -z "$left" ] || fail "$what: left behind: $left"
		rm -rf "$dir/d"
	done
done
echo "count: $runs OOM runs under ulimit -v from +24 to +64 MiB over an idle process ($base KiB): $complete complete dumps, $skipped skipped with a reason, $nolimit died on ZendMM's own out-of-memory first"
[ "$complete" -gt 0 ] && [ "$skipped" -gt 0 ] || fail "the sweep did not cover both outcomes"
echo "PASS"
