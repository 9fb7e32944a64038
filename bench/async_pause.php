<?php
// The pause of an asynchronous (forked) dump against a synchronous one: the
// time the caller spends inside rdump_dump(), on the same live PHP data.
// Repeated dumps: alternating in one process after a warm-up. While each
// asynchronous writer runs, a separate reader polls the final path and
// copies the file the moment it appears; every copy must pass rdump-cli
// inspect. With pcntl, each run also times a bare pcntl_fork() of the same
// process: the part of the pause no fork-based writer can avoid here.
// First dumps: fresh processes, each building the same data and timing a
// sync dump, then its first fork: an async dump (or, every other process, a
// bare pcntl_fork()). A first fork also write-protects every page the
// process wrote since it started, which later forks find done; an OOM dump
// or a one-off rdump_dump() call in a worker is such a first fork.
// Usage: php -d extension=modules/rdump.so bench/async_pause.php [MB] [RUNS] [DIR]
// Prints a "result:" line for each (medians of sync and async, their ratio)
// and a line for each bare fork's median and its ratio to sync.
require __DIR__ . '/live_data.inc';
require __DIR__ . '/async.inc';

if (($argv[1] ?? '') === '--first') {
    first_dump_child((int) $argv[2], $argv[3], $argv[4] === 'fork');
    exit(0);
}
$mb = (int) ($argv[1] ?? 200);
$runs = (int) ($argv[2] ?? 5);
$dir = bench_dir($argv[3] ?? sys_get_temp_dir(), 'rdump-async-pause');
$cli = getenv('RDUMP_CLI') ?: dirname(__DIR__) . '/rdump-cli';
$keep = bench_build_live_data($mb);
printf("live PHP data: %.1f MiB (memory_get_usage), %.1f MiB in ZendMM chunks\n",
    memory_get_usage() / 1048576, memory_get_usage(true) / 1048576);
$rollup = @file_get_contents('/proc/self/smaps_rollup');
if ($rollup !== false && preg_match('/^AnonHugePages:\s+(\d+) kB/m', $rollup, $m)) {
    printf("on transparent huge pages: %.1f MiB of the process\n", $m[1] / 1024);
}

// The reader: a separate process that waits for the path and copies what it first sees.
function start_reader(string $path, string $copy)
{
    $code = '$p = $argv[1]; $n = 0;'
        . 'while (true) { clearstatcache(); if (is_file($p)) { copy($p, $argv[2]);'
        . ' echo filesize($argv[2]), " bytes after ", $n, " polls\n"; exit(0); } $n++; usleep(1000); }';
    $proc = proc_open([PHP_BINARY, '-n', '-r', $code, $path, $copy], [1 => ['pipe', 'w']], $pipes);
    return [$proc, $pipes[1]];
}

function timed(string $path, bool $async): float
{
    @unlink($path);
    $t = hrtime(true);
    if (!rdump_dump($path, false, ['async' => $async])) {
        exit(1);
    }
    return (hrtime(true) - $t) / 1e6;
}

// The caller's time in a bare pcntl_fork() whose child leaves at once
// (exec of /bin/true: no PHP shutdown of its copy), or null without pcntl.
function timed_fork(): ?float
{
    if (!function_exists('pcntl_fork')) {
        return null;
    }
    $t = hrtime(true);
    $pid = pcntl_fork();
    $ms = (hrtime(true) - $t) / 1e6;
    if ($pid === 0) {
        pcntl_exec('/bin/true');
        exit(0);
    }
    if ($pid < 0) {
        fwrite(STDERR, 'pcntl_fork() failed: ' . pcntl_strerror(pcntl_get_last_error()) . "\n");
        exit(1);
    }
    pcntl_waitpid($pid, $status);
    return $ms;
}

// A fresh process (--first MB DIR async|fork): builds the data, takes an
// untimed sync dump (a process's first one took 0.6 s instead of 50 ms in
// some runs on our VM, its file's pages coming from memory the VM had
// handed back to the host), times a sync dump, then its first fork.
// Prints "first: SYNC_MS FORK_MS".
function first_dump_child(int $mb, string $dir, bool $bare): void
{
    $keep = bench_build_live_data($mb);
    $path = "$dir/first-" . getmypid() . '.rdump';
    timed($path, false);
    $sync = timed($path, false);
    unlink($path);
    if ($bare) {
        $ms = timed_fork();
    } else {
        $ms = timed($path, true);
        if (!bench_wait_for_writer($path)) {
            fwrite(STDERR, "the async dump never appeared at $path\n");
            exit(1);
        }
        unlink($path);
    }
    printf("first: %.3f %.3f\n", $sync, $ms);
}

// The path of the rdump module this process loaded, to load it in the fresh ones.
function loaded_module(): ?string
{
    foreach (file('/proc/self/maps', FILE_IGNORE_NEW_LINES) ?: [] as $line) {
        if (preg_match('~\s(/\S*/rdump\.so)$~', $line, $m)) {
            return $m[1];
        }
    }
    return null;
}

function median(array $v): float
{
    sort($v);
    $n = count($v);
    return $n % 2 ? $v[intdiv($n, 2)] : ($v[$n / 2 - 1] + $v[$n / 2]) / 2;
}

timed("$dir/warm.rdump", false);
timed("$dir/warm-async.rdump", true);
bench_wait_for_writer("$dir/warm-async.rdump");
@unlink("$dir/warm.rdump");
@unlink("$dir/warm-async.rdump");

$sync = $async = $fork = [];
$polls = 0;
for ($i = 0; $i < $runs; $i++) {
    $sync[] = timed("$dir/sync.rdump", false);
    @unlink("$dir/sync.rdump");

    $reader = start_reader("$dir/async.rdump", "$dir/seen.rdump");
    usleep(50000);
    $async[] = timed("$dir/async.rdump", true);
    bench_wait_for_writer("$dir/async.rdump");
    [$proc, $pipe] = $reader;
    $said = trim((string) stream_get_contents($pipe));
    fclose($pipe);
    proc_close($proc);
    exec(escapeshellarg($cli) . ' inspect ' . escapeshellarg("$dir/seen.rdump") . ' 2>&1', $out, $rc);
    $final = filesize("$dir/async.rdump");
    if ($said === '' || $rc !== 0 || filesize("$dir/seen.rdump") !== $final) {
        printf("FAIL: the reader (%s) saw %d of %d bytes, inspect says: %s\n", $said,
            @filesize("$dir/seen.rdump"), $final, implode(' ', array_slice($out, 0, 3)));
        exit(1);
    }
    $out = [];
    $polls++;
    unlink("$dir/async.rdump");
    unlink("$dir/seen.rdump");
    $f = timed_fork();
    if ($f !== null) {
        $fork[] = $f;
    }
    printf("run %d: sync %8.1f ms   async %7.2f ms%s\n", $i + 1, end($sync), end($async),
        $f === null ? '' : sprintf('   bare fork %5.2f ms', $f));
}
$s = median($sync);
$a = median($async);
printf("result: %d MiB of live PHP data, median of %d: sync %.1f ms, async %.2f ms, async/sync 1/%.1f "
    . "(best runs: sync %.1f ms, async %.2f ms, 1/%.1f; slowest async %.2f ms); "
    . "the reader saw %d complete files out of %d\n",
    $mb, $runs, $s, $a, $s / $a, min($sync), min($async), min($sync) / min($async), max($async), $polls, $runs);
if ($fork) {
    $f = median($fork);
    printf("bare pcntl_fork() of this process, no dump: median %.2f ms, 1/%.1f of sync: "
        . "the async pause minus that fork: %+.2f ms\n", $f, $s / $f, $a - $f);
} else {
    echo "bare fork: not measured (no pcntl in this PHP)\n";
}

// First dumps, each in a fresh process; every other one times a bare fork instead.
$module = loaded_module();
$firsts = max(2, min($runs, 5));
$fsync = $fasync = $ffork = [];
for ($i = 0; $module !== null && $i < 2 * $firsts; $i++) {
    $bare = $i % 2 === 1;
    if ($bare && !function_exists('pcntl_fork')) {
        continue;
    }
    $cmd = [PHP_BINARY, '-n', '-d', 'memory_limit=-1', '-d', "extension=$module",
        '-d', 'rdump.huge_pages=' . (int) ini_get('rdump.huge_pages'), __FILE__,
        '--first', (string) $mb, $dir, $bare ? 'fork' : 'async'];
    $proc = proc_open($cmd, [1 => ['pipe', 'w']], $pipes);
    $said = stream_get_contents($pipes[1]);
    fclose($pipes[1]);
    if (proc_close($proc) !== 0 || !preg_match('/^first: (\S+) (\S+)$/m', $said, $m)) {
        echo "FAIL: a fresh process's first dump: $said\n";
        exit(1);
    }
    $fsync[] = (float) $m[1];
    if ($bare) {
        $ffork[] = (float) $m[2];
    } else {
        $fasync[] = (float) $m[2];
    }
    printf("fresh process %d: sync %8.1f ms   %s %7.2f ms\n", $i + 1, (float) $m[1],
        $bare ? 'bare fork' : 'async', (float) $m[2]);
}
if ($fasync) {
    $s = median($fsync);
    $a = median($fasync);
    printf("result, first dumps: %d MiB of live PHP data, %d fresh processes: sync %.1f ms (median of %d), "
        . "first async %.2f ms (median), async/sync 1/%.1f (slowest async %.2f ms)\n",
        $mb, count($fasync), $s, count($fsync), $a, $s / $a, max($fasync));
    if ($ffork) {
        $f = median($ffork);
        printf("bare pcntl_fork() as a fresh process's first fork, %d processes: median %.2f ms, 1/%.1f of sync: "
            . "the first async pause minus that fork: %+.2f ms\n", count($ffork), $f, $s / $f, $a - $f);
    }
} else {
    echo "first dumps: not measured (the rdump module's path is not in /proc/self/maps)\n";
}
rmdir($dir);
