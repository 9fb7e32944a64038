#!/usr/bin/env bash
# rdump-cli dump error cases, each with its exit status and message: no such
# process (3), not a PHP process (4), permission denied with the ptrace hint
# (5, as an unprivileged user against root's process), bad command lines (2),
# an unusable output path and a command that cannot start (1). None of them
# leaves a file behind or leaves the target stopped.
set -uo pipefail
root=${RDUMP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cli=${RDUMP_CLI:-$root/rdump-cli}
[ -x "$cli" ] || { echo "rdump-cli not built at $cli"; exit 1; }
command -v php >/dev/null || { echo "php not installed"; exit 77; }

dir=$(mktemp -d /tmp/rdump-cli-err.XXXXXX)
chmod 755 "$dir"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
cases=0

# expect STATUS MESSAGE-REGEX ARGS...: runs rdump-cli, checks status and stderr.
expect() {
	local want=$1 msg=$2 rc
	shift 2
	"$cli" "$@" >"$dir/out" 2>"$dir/err"
	rc=$?
	[ "$rc" = "$want" ] || { cat "$dir/err"; fail "rdump-cli $* exited $rc, expected $want"; }
	grep -qE -e "$msg" "$dir/err" || { cat "$dir/err"; fail "rdump-cli $*: message does not match /$msg/"; }
	cases=$((cases + 1))
}

php -r 'function idle() { sleep(60); } idle();' </dev/null >/dev/null &
php_pid=$!
pids+=("$php_pid")
sleep 60 </dev/null >/dev/null &
sleep_pid=$!
pids+=("$sleep_pid")
for _ in $(seq 100); do grep -q php "/proc/$php_pid/maps" 2>/dev/null && break; sleep 0.05; done

# A pid that does not exist: one above pid_max.
nopid=$(( $(cat /proc/sys/kernel/pid_max) + 1 ))
expect 3 "process $nopid: no such process" -p "$nopid" -o "$dir/x.rdump"
expect 4 "not a PHP process" -p "$sleep_pid" -o "$dir/x.rdump"
expect 2 "needs a process id" -p abc -o "$dir/x.rdump"
expect 2 "--output is required" -p "$php_pid"
expect 2 "give --pid PID, or a command" -o "$dir/x.rdump"
expect 2 "not both" -p "$php_pid" -o "$dir/x.rdump" -- php -v
expect 2 "level must be from 1 to 9" -p "$php_pid" -o "$dir/x.rdump" --compress=0
expect 2 "--max-buffer needs a size" -p "$php_pid" -o "$dir/x.rdump" --max-buffer lots
expect 2 "--delay needs a number" -o "$dir/x.rdump" --delay -1 -- php -v
expect 2 "unknown option" -p "$php_pid" -o "$dir/x.rdump" --frobnicate
expect 2 "a command to start goes after --" -p "$php_pid" -o "$dir/x.rdump" stray
expect 1 "directory does not exist" -p "$php_pid" -o "$dir/missing/x.rdump"
mkdir "$dir/a-directory"
expect 1 "it is a directory" -p "$php_pid" -o "$dir/a-directory"
expect 1 "cannot start /nonexistent/php" -o "$dir/x.rdump" -- /nonexistent/php -v
expect 1 "exited with status 3 before the dump" -o "$dir/x.rdump" --delay 2 -- php -r 'exit(3);'
"$cli" -p "$php_pid" -o - >/dev/null 2>&1 </dev/null || fail "-o - to /dev/null failed"
cases=$((cases + 1))

case "$(awk '{print $3}' "/proc/$php_pid/stat")" in T|t) fail "a failed dump left the target stopped";; esac
[ -e "$dir/x.rdump" ] && fail "a failed dump left $dir/x.rdump"
ls -a "$dir" | grep "rdump-tmp" >/dev/null && fail "a failed dump left a temporary file"

# Permission denied: an unprivileged user against root's process.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	mkdir "$dir/nobody" && chmod 777 "$dir/nobody"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$cli" -p "$php_pid" -o "$dir/nobody/x.rdump" \
		>/dev/null 2>"$dir/err"
	rc=$?
	[ "$rc" = 5 ] || { cat "$dir/err"; fail "an unprivileged dump of root's process exited $rc, expected 5"; }
	grep -q "not allowed to read its memory" "$dir/err" || { cat "$dir/err"; fail "no permission message"; }
	grep -q "CAP_SYS_PTRACE" "$dir/err" || { cat "$dir/err"; fail "no CAP_SYS_PTRACE hint"; }
	[ -e "$dir/nobody/x.rdump" ] && fail "the refused dump left a file"
	cases=$((cases + 1))
else
	echo "note: permission case skipped (needs root and setpriv to switch to an unprivileged user)"
fi

# Traced and running under another tracer (strace): refused, naming the tracer.
if command -v strace >/dev/null; then
	strace -q -o /dev/null -p "$php_pid" &
	tracer_cmd=$!
	pids+=("$tracer_cmd")
	tracer=0
	for _ in $(seq 100); do
		tracer=$(awk '/^TracerPid:/ {print $2}' "/proc/$php_pid/status")
		[ "$tracer" != 0 ] && break
		sleep 0.05
	done
	[ "$tracer" != 0 ] || fail "strace did not attach"
	expect 5 "already being traced by process $tracer" -p "$php_pid" -o "$dir/x.rdump"
	kill "$tracer_cmd"
	wait "$tracer_cmd" 2>/dev/null
else
	echo "note: traced-target case skipped (strace not installed)"
fi

echo "count: error cases checked: $cases"
echo "cli_dump_errors: ok"
