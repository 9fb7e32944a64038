#!/usr/bin/env bash
# Issue 8, full and broken disks: dumps into a 1 MiB tmpfs mounted by the
# test (nearly full, then completely full), a read-only remount of it, and a
# tmpfs without free inodes (where an async dump's writer, which creates
# the file, must say so on stderr). Every dump must fail cleanly: rdump_dump()
# returns false with a warning naming the path and the cause, nothing is
# left in the directory (no dump, no temporary file, no marker), and the
# process goes on (its next dump, to a roomy directory, works). The same for
# async dumps, OOM dumps (PHP's own fatal message intact) and rdump-cli
# --pid, and for the reader inflating a compressed dump into a full TMPDIR.
# The bad paths of tests/013-bad-paths.phpt are extended by a name over
# NAME_MAX and a path through a regular file.
set -uo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}"
if [ "$(id -u)" != 0 ]; then
	echo "skipped: mounting a 1 MiB tmpfs needs root"
	exit 77
fi
dir=$(mktemp -d /tmp/rdump-disk.XXXXXX)
full=$dir/full
target_pid=""
cleanup() {
	[ -z "$target_pid" ] || kill "$target_pid" 2>/dev/null
	for m in "$full" "$dir/noinode"; do
		mountpoint -q "$m" 2>/dev/null && umount "$m"
	done
	rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$full" "$dir/noinode" "$dir/roomy"
if ! err=$(mount -t tmpfs -o size=1m,mode=0755 tmpfs "$full" 2>&1); then
	echo "skipped: cannot mount a tmpfs here ($err)"
	exit 77
fi

fail=0 cases=0
bad() { echo "FAIL: $*"; fail=1; }
# PHP 7.x builds JSON as a module, which php -n does not load
php_json=$(php -n -r 'echo extension_loaded("json") ? "" : "-d extension=json";')
# shellcheck disable=SC2086
php_ext() { php -n $php_json -d extension="$RDUMP_EXT" "$@"; }

# What the directory holds besides the filler: must stay empty.
leftovers() { find "$1" -mindepth 1 ! -name filler -printf '%f\n' | sort | tr '\n' ' '; }

# Fills the tmpfs so that $1 KiB stay free.
fill() {
	rm -f "$full/filler"
	local free
	free=$(df -k --output=avail "$full" | tail -1 | tr -d ' ')
	if [ "$free" -gt "$1" ]; then
		dd if=/dev/zero of="$full/filler" bs=1K count=$((free - $1)) status=none 2>/dev/null
	fi
	if [ "$1" = 0 ]; then
		# Whatever block is left: fill it to the last byte.
		cat /dev/zero >>"$full/filler" 2>/dev/null
	fi
}

cat >"$dir/dump.php" <<'PHP'
<?php
// dump.php PATH OPTIONS_JSON [ROOMY_PATH]: one rdump_dump() and its warning, then proof the process goes on.
[$path, $opts] = [$argv[1], json_decode($argv[2], true)];
$full = !empty($opts['full']);
unset($opts['full']);
$warning = '';
set_error_handler(function ($no, $msg) use (&$warning) { $warning .= $msg; return true; });
$r = rdump_dump($path, $full, $opts);
// One write per line: a forked writer shares stderr and must not split a line.
echo "result=" . var_export($r, true) . "\nwarning=$warning\n";
if (isset($argv[3])) {
	echo "next=" . var_export(rdump_dump($argv[3]), true) . "\n";
}
PHP

# expect_fail LABEL PATH OPTIONS_JSON CAUSE: the dump returns false with CAUSE in its warning.
expect_fail() {
	local label=$1 path=$2 opts=$3 cause=$4 out
	cases=$((cases + 1))
	rm -f "$dir/roomy/next.rdump"
	out=$(php_ext "$dir/dump.php" "$path" "$opts" "$dir/roomy/next.rdump" 2>&1)
	grep -q '^result=false$' <<<"$out" || bad "$label: rdump_dump() did not return false: $out"
	grep -q "^warning=.*\"$path\".*$cause" <<<"$out" || bad "$label: the warning does not name the path and \"$cause\": $out"
	grep -q '^next=true$' <<<"$out" || bad "$label: the process did not go on to a working dump: $out"
	"$RDUMP_CLI" inspect "$dir/roomy/next.rdump" >/dev/null 2>&1 || bad "$label: the next dump does not pass inspect"
	echo "case: $label: $(sed -n 's/^warning=//p' <<<"$out")"
}

compress=0
if php_ext -r 'exit(rdump_dump($argv[1], false, ["compress" => true]) ? 0 : 1);' "$dir/roomy/probe.gz" 2>/dev/null \
	&& [ "$(od -An -tx1 -N2 "$dir/roomy/probe.gz" | tr -d ' ')" = 1f8b ]; then
	compress=1
else
	bad "rdump_dump(\$path, false, ['compress' => true]) does not write a gzip stream"
fi

# --- nearly full (128 KiB free: the dump starts, then the disk fills) and completely full
for free in 128 0; do
	fill "$free"
	expect_fail "disk with ${free} KiB free" "$full/a.rdump" '{}' 'the disk is full (No space left on device)'
	expect_fail "disk with ${free} KiB free, full dump" "$full/b.rdump" '{"full":true}' 'the disk is full'
	expect_fail "disk with ${free} KiB free, exclude_heap" "$full/c.rdump" '{"exclude_heap":true}' 'the disk is full'
	if [ "$compress" = 1 ]; then
		expect_fail "disk with ${free} KiB free, compressed" "$full/d.rdump.gz" '{"compress":true}' 'the disk is full'
	fi
	[ -z "$(leftovers "$full")" ] || bad "disk with ${free} KiB free: files left behind: $(leftovers "$full")"
done

# --- async: the caller cannot get the error back; the writer says it on stderr and removes its file.
fill 128
cases=$((cases + 1))
# $(...) returns when the forked writer, which shares the pipe, has ended too.
out=$(php_ext "$dir/dump.php" "$full/async.rdump" '{"async":true}' "$dir/roomy/next.rdump" 2>&1)
grep -q '^next=true$' <<<"$out" || bad "async: the process did not go on: $out"
grep -q 'async dump to .*async.rdump.* failed: the disk is full' <<<"$out" || bad "async: no message naming the cause: $out"
[ -z "$(leftovers "$full")" ] || bad "async: files left behind: $(leftovers "$full")"
echo "case: async dump on a full disk: $(grep -o 'async dump to.*' <<<"$out" | head -1)"

# --- OOM dumps (sync and async) on a full disk: PHP's fatal message intact, no dump, no marker.
printf '<?php\n$a = [];\nwhile (true) { $a[] = str_repeat("x", 1000); }\n' >"$dir/oom.php"
for async in 0 1; do
	cases=$((cases + 1))
	fill 128
	out=$(php_ext -d memory_limit=16M -d rdump.oom_dump="$full/oom-%p.rdump" -d rdump.oom_dump_marker=1 \
		-d rdump.async=$async "$dir/oom.php" 2>&1)
	rc=$?
	sleep 0.5
	for _ in $(seq 50); do [ -z "$(leftovers "$full")" ] && break; sleep 0.1; done
	[ "$rc" = 255 ] || bad "OOM (async=$async): exit status $rc, expected PHP's 255: $out"
	grep -q 'Fatal error: Allowed memory size of 16777216 bytes exhausted' <<<"$out" || bad "OOM (async=$async): PHP's fatal message is not intact: $out"
	grep -Eq '(OOM|async) dump to .*oom-[0-9]+\.rdump.* failed: the disk is full' <<<"$out" || bad "OOM (async=$async): no message naming the cause: $out"
	[ -z "$(leftovers "$full")" ] || bad "OOM (async=$async): files left behind: $(leftovers "$full")"
	echo "case: OOM dump (async=$async) on a full disk: $(grep -Eo '(OOM|async) dump to.*' <<<"$out" | head -1)"
done

# --- rdump-cli --pid onto the full disk: exit 1, the cause, nothing left, the target runs on.
printf '<?php\n$x = range(1, 1000);\nfor ($i = 0; $i < 600; $i++) { usleep(100000); }\n' >"$dir/sleep.php"
php -n "$dir/sleep.php" &
target_pid=$!
sleep 0.5
for opts in "" "--compress" "--no-stop-process"; do
	[ "$opts" != --compress ] || [ "$compress" = 1 ] || continue
	cases=$((cases + 1))
	fill 128
	rc=0
	# shellcheck disable=SC2086
	out=$("$RDUMP_CLI" --pid "$target_pid" -o "$full/cli.rdump" $opts --quiet 2>&1) || rc=$?
	[ "$rc" = 1 ] || bad "rdump-cli $opts on a full disk: exit $rc: $out"
	grep -q 'disk is full\|No space left on device' <<<"$out" || bad "rdump-cli $opts on a full disk: no cause: $out"
	[ -z "$(leftovers "$full")" ] || bad "rdump-cli $opts on a full disk: files left behind: $(leftovers "$full")"
	kill -0 "$target_pid" 2>/dev/null || bad "rdump-cli $opts on a full disk: the target died"
	[ "$(ps -o stat= -p "$target_pid" | cut -c1)" != T ] || bad "rdump-cli $opts: the target was left stopped"
	echo "case: rdump-cli $opts on a full disk: $out"
done

# --- rdump-cli -o - into a pipe that closes early, and into /dev/full: exit 1 with the cause, target running
for opts in "" "--compress"; do
	[ "$opts" != --compress ] || [ "$compress" = 1 ] || continue
	cases=$((cases + 1))
	# shellcheck disable=SC2086
	out=$( { "$RDUMP_CLI" --pid "$target_pid" -o - $opts --quiet 2>"$dir/pipe.err" | head -c 100 >/dev/null; } ; echo "rc=${PIPESTATUS[0]}")
	grep -q '^rc=1$' <<<"$out" && grep -q 'Broken pipe' "$dir/pipe.err" || bad "rdump-cli -o - $opts into a closed pipe: $out $(cat "$dir/pipe.err")"
	sleep 0.2
	[ "$(ps -o stat= -p "$target_pid" | cut -c1)" != T ] || bad "rdump-cli -o - $opts into a closed pipe left the target stopped"
	echo "case: rdump-cli -o - $opts into a closed pipe: $(cat "$dir/pipe.err")"
done
cases=$((cases + 1))
rc=0
out=$("$RDUMP_CLI" --pid "$target_pid" -o - --quiet 2>&1 >/dev/full) || rc=$?
[ "$rc" = 1 ] && grep -q 'disk is full\|No space left' <<<"$out" || bad "rdump-cli -o - >/dev/full: exit $rc: $out"
[ "$(ps -o stat= -p "$target_pid" | cut -c1)" != T ] || bad "rdump-cli -o - >/dev/full left the target stopped"
echo "case: rdump-cli -o - >/dev/full: $out"

# --- the reader inflating a compressed dump into a full TMPDIR
if [ "$compress" = 1 ]; then
	cases=$((cases + 1))
	fill 0
	rc=0
	out=$(TMPDIR=$full "$RDUMP_CLI" inspect "$dir/roomy/probe.gz" 2>&1 >/dev/null) || rc=$?
	[ "$rc" = 1 ] && grep -q 'TMPDIR' <<<"$out" || bad "inspect with a full TMPDIR: exit $rc: $out"
	[ -z "$(leftovers "$full")" ] || bad "inspect with a full TMPDIR: files left behind: $(leftovers "$full")"
	echo "case: inspect of a compressed dump with a full TMPDIR: $out"
fi

# --- read-only file system
rm -f "$full/filler"
mount -o remount,ro "$full" || bad "cannot remount the tmpfs read-only"
expect_fail "read-only file system" "$full/ro.rdump" '{}' 'read-only file system'
cases=$((cases + 1))
rc=0
out=$("$RDUMP_CLI" --pid "$target_pid" -o "$full/ro.rdump" --quiet 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -qi 'read-only' <<<"$out" || bad "rdump-cli onto a read-only file system: exit $rc: $out"
echo "case: rdump-cli onto a read-only file system: $out"
cases=$((cases + 1))
out=$(php_ext -d memory_limit=16M -d rdump.oom_dump="$full/oom-%p.rdump" -d rdump.oom_dump_marker=1 "$dir/oom.php" 2>&1)
grep -q 'Fatal error: Allowed memory size of 16777216 bytes exhausted' <<<"$out" || bad "OOM on a read-only file system: PHP's fatal message is not intact: $out"
grep -qi 'OOM dump to .* failed: .*read-only file system' <<<"$out" || bad "OOM on a read-only file system: no message naming the cause: $out"
echo "case: OOM dump onto a read-only file system: $(grep -o 'OOM dump to.*' <<<"$out" | head -1)"
[ -z "$(leftovers "$full")" ] || bad "read-only: files appeared: $(leftovers "$full")"

# --- no free inode: the temporary file cannot even be created
if mount -t tmpfs -o size=1m,nr_inodes=1 tmpfs "$dir/noinode" 2>/dev/null; then
	expect_fail "no free inode" "$dir/noinode/x.rdump" '{}' 'cannot create the file (No space left on device)'
	[ -z "$(leftovers "$dir/noinode")" ] || bad "no free inode: files left behind"
	# Async: the directory passes the call's checks, the writer creates the file and says why it cannot.
	cases=$((cases + 1))
	out=$(php_ext "$dir/dump.php" "$dir/noinode/y.rdump" '{"async":true}' "$dir/roomy/next.rdump" 2>&1)
	grep -q '^result=true$' <<<"$out" && grep -q '^next=true$' <<<"$out" || bad "async, no free inode: the call or the next dump failed: $out"
	# glibc before 2.32 has no strerrordesc_np(): the writer gives the number there.
	grep -Eq 'async dump to ".*noinode/y.rdump" failed: cannot create the file \((No space left on device|errno 28)\)' <<<"$out" \
		|| bad "async, no free inode: no message naming the cause: $out"
	[ -z "$(leftovers "$dir/noinode")" ] || bad "async, no free inode: files left behind"
	echo "case: async dump, no free inode: $(grep -o 'async dump to.*' <<<"$out" | head -1)"
else
	echo "note: no tmpfs with nr_inodes=1 here: the no-inode case not run"
fi

# --- bad paths beyond tests/013-bad-paths.phpt
name=$(printf 'n%.0s' $(seq 300))
expect_fail "file name over NAME_MAX" "$dir/roomy/$name.rdump" '{}' 'File name too long'
echo x >"$dir/roomy/plain"
expect_fail "path through a regular file" "$dir/roomy/plain/x.rdump" '{}' 'Not a directory'
cases=$((cases + 1))
rc=0
out=$("$RDUMP_CLI" --pid "$target_pid" -o "$dir/roomy/$name.rdump" --quiet 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q 'File name too long' <<<"$out" || bad "rdump-cli with a name over NAME_MAX: exit $rc: $out"
echo "case: rdump-cli with a name over NAME_MAX: $out"

kill -0 "$target_pid" 2>/dev/null || bad "the target of the outside dumps died"
echo "count: hostile disk cases: $cases"
[ "$fail" = 0 ]
