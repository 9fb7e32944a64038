<?php
// The pause of an asynchronous (forked) dump against a synchronous one: the
// time the caller spends inside rdump_dump(), on the same live PHP data,
// alternating in one process after a warm-up. While each asynchronous
// writer runs, a separate reader polls the final path and copies the file
// the moment it appears; every copy must pass rdump-cli inspect.
// Usage: php -d extension=modules/rdump.so bench/async_pause.php [MB] [RUNS] [DIR]
// Prints one "result:" line: median sync ms, median async ms, their ratio.
require __DIR__ . '/live_data.inc';
require __DIR__ . '/async.inc';

$mb = (int) ($argv[1] ?? 200);
$runs = (int) ($argv[2] ?? 5);
$dir = bench_dir($argv[3] ?? sys_get_temp_dir(), 'rdump-async-pause');
$cli = getenv('RDUMP_CLI') ?: dirname(__DIR__) . '/rdump-cli';
$keep = bench_build_live_data($mb);
printf("live PHP data: %.1f MiB (memory_get_usage), %.1f MiB in ZendMM chunks\n",
    memory_get_usage() / 1048576, memory_get_usage(true) / 1048576);

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

$sync = $async = [];
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
    printf("run %d: sync %8.1f ms   async %7.2f ms\n", $i + 1, end($sync), end($async));
}
$s = median($sync);
$a = median($async);
printf("result: %d MiB of live PHP data, median of %d: sync %.1f ms, async %.2f ms, async/sync 1/%.1f "
    . "(best runs: sync %.1f ms, async %.2f ms, 1/%.1f; slowest async %.2f ms); "
    . "the reader saw %d complete files out of %d\n",
    $mb, $runs, $s, $a, $s / $a, min($sync), min($async), min($sync) / min($async), max($async), $polls, $runs);
rmdir($dir);
