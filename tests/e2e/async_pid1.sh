#!/usr/bin/env bash
# Issue 3: PHP as PID 1 of its PID namespace (a container's entrypoint with
# no init) adopts every orphan, so a double-forked writer would come back to
# it as a zombie, with a SIGCHLD for the script's handler. There, async dumps
# (rdump_dump and signal dumps) still send the script no SIGCHLD, and a
# writer that has ended is reaped by the next dump or at the end of the
# request: at most one zombie at a time, none once the request is over. An
# async OOM dump is complete although PID 1 ends at once.
set -euo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}"
# Runs "$@" as PID 1 of a new PID namespace with its own /proc. Not
# --mount-proc: it makes / private, which fails in a chroot (CI's 7.4 and 8.4).
pid1() {
	unshare --pid --fork --kill-child --mount --propagation unchanged \
		sh -c 'mount --make-rprivate /proc && mount -t proc proc /proc && exec "$@"' sh "$@"
}
if ! pid1 true 2>/dev/null; then
	echo "cannot run a process as PID 1 of a new PID namespace here (unshare needs root or user namespaces)"
	exit 77
fi
dir=$(mktemp -d)
server=""
cleanup() {
	if [ -n "$server" ]; then
		# PID 1 of a namespace takes from outside only the signals it handles, and SIGKILL.
		pkill -KILL -P "$server" 2>/dev/null || true
		kill "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$dir/pid1.php" <<'PHP'
<?php
// Runs as PID 1: five async dumps (two by signal), reporting SIGCHLDs and zombies.
$dir = $argv[1];
if (getmypid() !== 1) {
    echo "not PID 1 but ", getmypid(), "\n";
    exit(1);
}
pcntl_async_signals(true);
$sigchld = 0;
pcntl_signal(SIGCHLD, function () use (&$sigchld) { $sigchld++; });
// Processes of this namespace other than PID 1, by state (Z for a zombie).
function others(): array
{
    $by = [];
    foreach (glob('/proc/[0-9]*/stat') as $f) {
        $s = @file_get_contents($f);
        if ($s !== false && (int) $s !== 1 && preg_match('/\) (\S) /', $s, $m)) {
            $by[$m[1]] = ($by[$m[1]] ?? 0) + 1;
        }
    }
    return $by;
}
// Until the writer of $path has renamed its file and exited.
function settle(string $path): void
{
    for ($i = 0; $i < 1000; $i++) {
        clearstatcache();
        $o = others();
        if (is_file($path) && array_sum($o) === ($o['Z'] ?? 0)) {
            return;
        }
        usleep(10000);
    }
    echo "the writer of $path did not finish\n";
    exit(2);
}
$keep = array_fill(0, 100000, 'data');
for ($i = 0; $i < 5; $i++) {
    $path = "$dir/d$i.rdump";
    if ($i < 3) {
        if (!rdump_dump($path, false, ['async' => true])) {
            exit(3);
        }
    } else {
        posix_kill(1, SIGUSR2);
        // The signal dump runs at the next VM interrupt.
        for ($j = 0; $j < 100 && !glob("$dir/sig-*.rdump"); $j++) {
            usleep(10000);
        }
        $sig = glob("$dir/sig-*.rdump");
        if (count($sig) !== 1) {
            echo "no signal dump\n";
            exit(4);
        }
        rename($sig[0], $path);
    }
    settle($path);
    echo "dump $i: zombies ", others()['Z'] ?? 0, "\n";
}
echo "SIGCHLD: $sigchld\n";
PHP

exts=()
for e in posix pcntl; do
	php -n -m | grep -x "$e" >/dev/null || exts+=(-d "extension=$e")
done
php -n "${exts[@]}" -r 'exit(function_exists("posix_kill") && function_exists("pcntl_signal") ? 0 : 1);' 2>/dev/null \
	|| { echo "php lacks posix or pcntl"; exit 77; }
out=$(pid1 php -n "${exts[@]}" -d extension="$RDUMP_EXT" \
	-d rdump.signal=SIGUSR2 -d rdump.signal_dump="$dir/sig-%p-%t.rdump" -d rdump.async=1 \
	"$dir/pid1.php" "$dir" 2>&1) || fail "the PID 1 script failed: $out"
echo "$out"
zombies() { # the lines of dump N in the output above
	echo "$out" | grep -E '^dump [0-9]: zombies '
}
# Each dump reaps the writers before it, so only the latest can be a zombie.
zombies | grep -vq ': zombies [01]$' && fail "zombies accumulate"
echo "$out" | grep -x 'SIGCHLD: 0' >/dev/null || fail "the script's SIGCHLD handler ran for rdump's processes"
for i in 0 1 2 3 4; do
	"$RDUMP_CLI" inspect --json "$dir/d$i.rdump" | grep '"pid":1,' >/dev/null || fail "d$i.rdump does not pass inspect as pid 1"
done

# An async OOM dump by PHP as PID 1: the script dies at once after the fork,
# and the kernel kills what is left in the namespace when PID 1 exits, so
# the process must wait for its writer at its end.
cat >"$dir/oom.php" <<'PHP'
<?php
$keep = [];
for ($i = 0; $i < 400000; $i++) {
    $keep[] = str_repeat('k', 100) . $i;
}
$a = [];
while (true) {
    $a[] = str_repeat('x', 1000);
}
PHP
if pid1 php -n "${exts[@]}" -d extension="$RDUMP_EXT" -d memory_limit=256M -d rdump.async=1 \
	-d rdump.oom_dump="$dir/oom-%p.rdump" "$dir/oom.php" >"$dir/oom.out" 2>&1; then
	fail "the OOM script did not fail"
fi
grep -q "Allowed memory size of 268435456 bytes exhausted" "$dir/oom.out" \
	|| fail "the OOM script did not end with PHP's message: $(cat "$dir/oom.out")"
[ -f "$dir/oom-1.rdump" ] || fail "no OOM dump of PID 1: $(ls -a "$dir")"
"$RDUMP_CLI" inspect --json "$dir/oom-1.rdump" | grep '"pid":1,' >/dev/null || fail "oom-1.rdump does not pass inspect as pid 1"
echo "count: async OOM dump by PID 1, complete before the namespace ended: $(stat -c %s "$dir/oom-1.rdump") bytes"

# The built-in web server as PID 1: the end of the request that dumped reaps its writer.
mkdir "$dir/www"
cat >"$dir/www/index.php" <<'PHP'
<?php
require dirname(__DIR__) . '/procs.inc';
if (($_GET['a'] ?? '') === 'dump') {
    $path = dirname(__DIR__) . '/web.rdump';
    rdump_dump($path, false, ['async' => true]);
    settle($path);
}
echo 'zombies ', others()['Z'] ?? 0, "\n";
PHP
# The helpers of pid1.php, shared with the server's script.
sed -n '/^\/\/ Processes of this namespace/,/^}$/p;/^\/\/ Until the writer/,/^}$/p' "$dir/pid1.php" \
	| sed '1i <?php' >"$dir/procs.inc"
port=$(php -n -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo explode(":", stream_socket_get_name($s, false))[1];')
pid1 php -n "${exts[@]}" -d extension="$RDUMP_EXT" \
	-S "127.0.0.1:$port" -t "$dir/www" >"$dir/server.log" 2>&1 &
server=$!
get() {
	php -n -r 'echo @file_get_contents($argv[1]);' "http://127.0.0.1:$port/?a=$1"
}
for _ in $(seq 100); do get count >/dev/null && [ -n "$(get count)" ] && break; sleep 0.05; done
first=$(get dump)
after=$(get count)
echo "web server: during the dumping request: $first; the next request: $after"
[ "$first" = "zombies 1" ] || fail "the dumping request saw '$first' (server log: $(cat "$dir/server.log"))"
[ "$after" = "zombies 0" ] || fail "the writer was not reaped at the end of its request: '$after'"
"$RDUMP_CLI" inspect --json "$dir/web.rdump" | grep '"pid":1,' >/dev/null || fail "web.rdump does not pass inspect as pid 1"

ls -a "$dir" | grep 'rdump-tmp' >/dev/null && fail "temporary files left"
echo "count: 5 async dumps by PID 1 of a PID namespace, no SIGCHLD, at most one zombie at a time"
echo "PASS"
