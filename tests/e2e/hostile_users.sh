#!/usr/bin/env bash
# Issue 8, other users: two throwaway users made here (useradd, as root),
# "alice" (whose processes are dumped) and "mallory" (who attacks her).
# - mallory's rdump-cli refuses to dump alice's process and root's with the
#   permission error (exit 5) and writes nothing; alice may dump her own;
# - every file a dump writes is 0600, even under umask 000: rdump_dump()
#   (plain, compressed, async), OOM dumps and their .done marker, signal
#   dumps, rdump-cli --pid, rdump-cli unpack;
# - nothing is written through a symlink mallory plants in a shared sticky
#   directory: at the dump path (rdump_dump, OOM, rdump-cli, unpack), at
#   the marker path, or at every temporary name alice's next dump will try;
#   a file mallory owns at the dump path is not replaced (sticky directory).
# The kernel's fs.protected_symlinks is switched off for the test when it
# can be, so that only rdump's own care protects alice.
set -uo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}"
if [ "$(id -u)" != 0 ]; then
	echo "skipped: creating throwaway users needs root"
	exit 77
fi
for tool in useradd userdel setpriv; do
	command -v "$tool" >/dev/null || { echo "skipped: $tool is missing"; exit 77; }
done
tag=$$
alice=rdumpa$tag mallory=rdumpm$tag
dir=$(mktemp -d /tmp/rdump-users.XXXXXX)
pids=()
old_protected=$(sysctl -n fs.protected_symlinks 2>/dev/null || echo "")
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	[ -z "$old_protected" ] || sysctl -q -w fs.protected_symlinks="$old_protected" >/dev/null 2>&1
	userdel "$alice" 2>/dev/null || echo "note: userdel $alice failed"
	userdel "$mallory" 2>/dev/null || echo "note: userdel $mallory failed"
	rm -rf "$dir"
}
trap cleanup EXIT
useradd -M -d /nonexistent -s /usr/sbin/nologin "$alice" || { echo "skipped: useradd failed"; exit 77; }
useradd -M -d /nonexistent -s /usr/sbin/nologin "$mallory" || { echo "skipped: useradd failed"; exit 77; }
[ -z "$old_protected" ] || sysctl -q -w fs.protected_symlinks=0 >/dev/null 2>&1 || true

# The binaries may live where the users cannot reach (a checkout under /root).
chmod 755 "$dir"
cp "$RDUMP_CLI" "$dir/rdump-cli"
cp "$RDUMP_EXT" "$dir/rdump.so"
chmod 755 "$dir/rdump-cli" "$dir/rdump.so"
cli=$dir/rdump-cli ext=$dir/rdump.so
as() {  # as USER CMD...: run with that user's ids, no capabilities, umask 000
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups --inh-caps=-all -- sh -c 'umask 000; exec "$@"' sh "$@"
}
as_bg() {  # as_bg USER CMD...: the same in the background; its pid (that of CMD) is remembered
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups --inh-caps=-all -- sh -c 'umask 000; exec "$@"' sh "$@" &
	bg_pid=$!
	pids+=("$bg_pid")
}
home=$dir/alice-home shared=$dir/shared out=$dir/alice-out run=$dir/run
mkdir -p "$home" "$shared" "$out" "$run"
chmod 1777 "$run"   # pid files of everyone's processes
chown "$alice:$alice" "$home" "$out"
chmod 700 "$home" "$out"
chmod 1777 "$shared"   # like /tmp: anyone creates, only the owner removes or replaces
echo "alice's secret" >"$home/secret"
chown "$alice:$alice" "$home/secret"
chmod 600 "$home/secret"

fail=0 cases=0
bad() { echo "FAIL: $*"; fail=1; }
check_mode() {  # check_mode FILE OWNER: exists, regular, 0600, owned by OWNER
	cases=$((cases + 1))
	if [ ! -f "$1" ] || [ -L "$1" ]; then
		bad "$1 was not written"
		return
	fi
	local m o
	m=$(stat -c %a "$1") o=$(stat -c %U "$1")
	[ "$m" = 600 ] || bad "$1 has mode $m, not 600"
	[ "$o" = "$2" ] || bad "$1 is owned by $o, not $2"
	echo "case: $(basename "$1"): mode $m, owner $o"
}
secret_intact() {
	cases=$((cases + 1))
	[ "$(cat "$home/secret")" = "alice's secret" ] && [ "$(stat -c %s "$home/secret")" = 15 ] \
		|| bad "$1: alice's file behind the symlink was written"
}

printf '<?php\n$x = range(1, 1000);\nfile_put_contents($argv[1], getmypid());\nfor ($i = 0; $i < 600; $i++) { usleep(100000); }\n' >"$dir/sleep.php"
chmod 644 "$dir/sleep.php"
start_php() {  # start_php USER PIDFILE: a php that sleeps; sets $started
	rm -f "$2"
	as_bg "$1" php -n "$dir/sleep.php" "$2"
	for _ in $(seq 100); do [ -s "$2" ] && break; sleep 0.05; done
	started=$(cat "$2")
}

# --- rdump-cli against other users' processes
start_php "$alice" "$run/alice.pid"
alice_php=$started
start_php root "$run/root.pid"
root_php=$started
for victim in "alice:$alice_php" "root:$root_php"; do
	cases=$((cases + 1))
	rc=0
	msg=$(as "$mallory" "$cli" --pid "${victim#*:}" -o "$shared/stolen.rdump" --quiet 2>&1) || rc=$?
	[ "$rc" = 5 ] || bad "mallory dumping ${victim%%:*}'s php: exit $rc, expected 5 (permission denied): $msg"
	grep -qi 'permission' <<<"$msg" || bad "mallory dumping ${victim%%:*}'s php: no permission error: $msg"
	[ ! -e "$shared/stolen.rdump" ] && [ -z "$(ls -A "$shared")" ] || bad "mallory dumping ${victim%%:*}'s php left files: $(ls -A "$shared")"
	echo "case: mallory dumps ${victim%%:*}'s php: exit $rc: $msg"
done
if [ "$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0)" = 0 ]; then
	rc=0
	msg=$(as "$alice" "$cli" --pid "$alice_php" -o "$out/own.rdump" --quiet 2>&1) || rc=$?
	[ "$rc" = 0 ] || bad "alice dumping her own php: exit $rc: $msg"
	check_mode "$out/own.rdump" "$alice"
	as "$alice" "$cli" --pid "$alice_php" -o "$out/own.rdump.gz" --compress --quiet || bad "alice: compressed outside dump failed"
	check_mode "$out/own.rdump.gz" "$alice"
	as "$alice" "$cli" unpack "$out/own.rdump.gz" -o "$out/unpacked.rdump" || bad "alice: unpack failed"
	check_mode "$out/unpacked.rdump" "$alice"
else
	echo "note: kernel.yama.ptrace_scope is not 0: alice's dump of her own process not tried"
fi

# --- every file alice's own dumps write is 0600, under umask 000
cat >"$dir/dumps.php" <<'PHP'
<?php
// dumps.php DIR: the in-process dumps, each must return true.
$d = $argv[1];
$ok = rdump_dump("$d/plain.rdump") && rdump_dump("$d/full.rdump", true);
$ok = $ok && rdump_dump("$d/compressed.rdump.gz", false, ['compress' => true]);
$ok = $ok && rdump_dump("$d/async.rdump", false, ['async' => true]);
exit($ok ? 0 : 1);
PHP
chmod 644 "$dir/dumps.php"
as "$alice" php -n -d extension="$ext" "$dir/dumps.php" "$out" || bad "alice's in-process dumps failed"
for _ in $(seq 100); do [ -f "$out/async.rdump" ] && break; sleep 0.1; done
for f in plain.rdump full.rdump compressed.rdump.gz async.rdump; do check_mode "$out/$f" "$alice"; done
printf '<?php\n$a = [];\nwhile (true) { $a[] = str_repeat("x", 1000); }\n' >"$dir/oom.php"
chmod 644 "$dir/oom.php"
as "$alice" php -n -d extension="$ext" -d memory_limit=16M -d rdump.oom_dump="$out/oom.rdump" \
	-d rdump.oom_dump_marker=1 "$dir/oom.php" >/dev/null 2>&1
check_mode "$out/oom.rdump" "$alice"
check_mode "$out/oom.rdump.done" "$alice"
printf '<?php\nfile_put_contents($argv[1], getmypid());\nfor ($i = 0; $i < 200 && !file_exists($argv[2]); $i++) { usleep(50000); }\n' >"$dir/sig.php"
chmod 644 "$dir/sig.php"
as_bg "$alice" php -n -d extension="$ext" -d rdump.signal=SIGUSR2 -d rdump.signal_dump="$out/signal.rdump" \
	"$dir/sig.php" "$run/sig.pid" "$out/signal.rdump"
sig_runner=$bg_pid
for _ in $(seq 100); do [ -s "$run/sig.pid" ] && break; sleep 0.05; done
kill -USR2 "$(cat "$run/sig.pid")"
wait "$sig_runner"
check_mode "$out/signal.rdump" "$alice"
for f in "$out"/*; do
	"$cli" inspect "$f" >/dev/null 2>&1 || [ "${f##*.}" = done ] || bad "$(basename "$f") does not pass inspect"
done
cases=$((cases + 1))
as "$mallory" cat "$out/plain.rdump" >/dev/null 2>&1 && bad "mallory can read alice's dump"

# --- symlinks mallory plants in the shared sticky directory
cat >"$dir/victim.php" <<'PHP'
<?php
// victim.php DIR GO: writes its pid, waits for GO, then dumps to DIR/target.rdump and prints the results.
[, $d, $go] = $argv;
file_put_contents("$d/victim.pid", getmypid());
for ($i = 0; $i < 200 && !file_exists($go); $i++) { usleep(50000); }
$warning = '';
set_error_handler(function ($no, $msg) use (&$warning) { $warning .= $msg; return true; });
$r1 = rdump_dump("$d/link.rdump");
echo "link=" . var_export($r1, true) . " $warning\n";
$warning = '';
$r2 = rdump_dump("$d/target.rdump");
echo "target=" . var_export($r2, true) . " $warning\n";
$warning = '';
$r3 = rdump_dump("$d/mallorys.rdump");
echo "mallorys=" . var_export($r3, true) . " $warning\n";
PHP
chmod 644 "$dir/victim.php"
rm -f "$shared/victim.pid"
as_bg "$alice" php -n -d extension="$ext" "$dir/victim.php" "$shared" "$dir/go" >"$dir/victim.out" 2>&1
victim_runner=$bg_pid
for _ in $(seq 100); do [ -s "$shared/victim.pid" ] && break; sleep 0.05; done
vpid=$(cat "$shared/victim.pid")
# mallory: a symlink at the path, one at each temporary name alice will try, and a file of her own.
as "$mallory" ln -s "$home/secret" "$shared/link.rdump"
for n in 0 1 2 3 4 5 6 7 8 9; do
	as "$mallory" ln -s "$home/secret" "$shared/.rdump-tmp.$vpid.$vpid.$n"
done
as "$mallory" sh -c "echo mallory > '$shared/mallorys.rdump'; chmod 666 '$shared/mallorys.rdump'"
touch "$dir/go"
wait "$victim_runner"
vout=$(cat "$dir/victim.out")
cases=$((cases + 3))
grep -q '^link=false .*symbolic link' <<<"$vout" || bad "rdump_dump() to mallory's symlink: $vout"
grep -q '^target=true' <<<"$vout" || bad "rdump_dump() with symlinks at its temporary names: $vout"
grep -q '^mallorys=false ' <<<"$vout" || bad "rdump_dump() over mallory's file in a sticky directory: $vout"
[ "$(cat "$shared/mallorys.rdump")" = mallory ] || bad "mallory's file was replaced"
[ -L "$shared/link.rdump" ] || bad "mallory's symlink was replaced"
check_mode "$shared/target.rdump" "$alice"
secret_intact "in-process dumps"
echo "case: symlinks in a sticky directory: $(tr '\n' ';' <<<"$vout")"
[ -z "$(find "$shared" -name '.rdump-tmp*' ! -type l)" ] || bad "temporary files left behind in the shared directory"

# OOM dump and marker at mallory's symlinks
as "$mallory" ln -s "$home/secret" "$shared/oom.rdump"
as "$alice" php -n -d extension="$ext" -d memory_limit=16M -d rdump.oom_dump="$shared/oom.rdump" \
	-d rdump.oom_dump_marker=1 "$dir/oom.php" >"$dir/oom.out" 2>&1
cases=$((cases + 1))
grep -q 'Allowed memory size of 16777216 bytes exhausted' "$dir/oom.out" || bad "OOM at a symlink: PHP's fatal message lost: $(cat "$dir/oom.out")"
secret_intact "OOM dump at a symlink"
rm -f "$shared/oom.rdump"
as "$mallory" ln -s "$home/secret" "$shared/oom2.rdump.done"
as "$alice" php -n -d extension="$ext" -d memory_limit=16M -d rdump.oom_dump="$shared/oom2.rdump" \
	-d rdump.oom_dump_marker=1 "$dir/oom.php" >"$dir/oom.out" 2>&1
secret_intact "OOM marker at a symlink"
[ ! -L "$shared/oom2.rdump.done" ] || [ "$(readlink "$shared/oom2.rdump.done")" = "$home/secret" ] || bad "marker symlink changed"
echo "case: OOM dump and marker at mallory's symlinks: $(grep -o 'OOM dump to.*' "$dir/oom.out" | head -1)"

# rdump-cli --pid and unpack to mallory's symlink
if [ "$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0)" = 0 ]; then
	as "$mallory" ln -s "$home/secret" "$shared/cli.rdump"
	cases=$((cases + 1))
	rc=0
	msg=$(as "$alice" "$cli" --pid "$alice_php" -o "$shared/cli.rdump" --quiet 2>&1) || rc=$?
	[ "$rc" = 1 ] && grep -q 'symbolic link' <<<"$msg" || bad "rdump-cli -o mallory's symlink: exit $rc: $msg"
	secret_intact "rdump-cli -o a symlink"
	echo "case: rdump-cli -o mallory's symlink: $msg"
	if [ -f "$out/own.rdump.gz" ]; then
		as "$mallory" ln -s "$home/secret" "$shared/unpacked.rdump"
		cases=$((cases + 1))
		rc=0
		msg=$(as "$alice" "$cli" unpack "$out/own.rdump.gz" -o "$shared/unpacked.rdump" 2>&1) || rc=$?
		[ "$rc" = 1 ] || bad "rdump-cli unpack -o mallory's symlink: exit $rc: $msg"
		secret_intact "rdump-cli unpack -o a symlink"
		echo "case: rdump-cli unpack -o mallory's symlink: exit $rc: $msg"
	fi
fi
echo "count: other-user cases: $cases"
[ "$fail" = 0 ]
