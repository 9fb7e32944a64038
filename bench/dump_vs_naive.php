<?php
// Dump size and time of the default (PHP-aware, residency-filtered) capture
// against the naive "every writable and anonymous mapping in full" one, on
// 200 MB of live PHP data, alternating in one process, after a warm-up.
// Usage: php -d extension=modules/rdump.so bench/dump_vs_naive.php [MB] [RUNS] [DIR]
require __DIR__ . '/live_data.inc';

$mb = (int) ($argv[1] ?? 200);
$runs = (int) ($argv[2] ?? 5);
$dir = $argv[3] ?? sys_get_temp_dir();
$keep = bench_build_live_data($mb);
printf("live PHP data: %.1f MiB (memory_get_usage), %d objects\n", memory_get_usage() / 1048576, count($keep));

function one(string $mode, string $path): array
{
    if ($mode === 'naive') {
        putenv('RDUMP_BENCH_NAIVE=1');
    } else {
        putenv('RDUMP_BENCH_NAIVE');
    }
    @unlink($path);
    $t = hrtime(true);
    if (!rdump_dump($path)) {
        exit(1);
    }
    $secs = (hrtime(true) - $t) / 1e9;
    clearstatcache();
    $st = stat($path);
    $r = [$secs, $st['size'], $st['blocks'] * 512];
    unlink($path);
    return $r;
}

function median(array $v): float
{
    sort($v);
    $n = count($v);
    return $n % 2 ? $v[intdiv($n, 2)] : ($v[$n / 2 - 1] + $v[$n / 2]) / 2;
}

one('default', "$dir/bench-warm.rdump");
one('naive', "$dir/bench-warm.rdump");
$res = ['default' => [[], [], []], 'naive' => [[], [], []]];
for ($i = 0; $i < $runs; $i++) {
    foreach ($i % 2 ? ['naive', 'default'] : ['default', 'naive'] as $mode) {
        [$s, $size, $disk] = one($mode, "$dir/bench-$mode.rdump");
        $res[$mode][0][] = $s;
        $res[$mode][1][] = $size;
        $res[$mode][2][] = $disk;
    }
}
foreach ($res as $mode => [$t, $size, $disk]) {
    printf("%-8s time %7.1f ms  size %8.1f MiB  on disk %8.1f MiB  (median of %d)\n",
        $mode, median($t) * 1000, median($size) / 1048576, median($disk) / 1048576, $runs);
}
printf("ratio default/naive: time %.3f  size %.3f  on disk %.3f\n",
    median($res['default'][0]) / median($res['naive'][0]),
    median($res['default'][1]) / median($res['naive'][1]),
    median($res['default'][2]) / median($res['naive'][2]));
