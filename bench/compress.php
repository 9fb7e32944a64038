<?php
// Compressed dumps against uncompressed ones: dump time, size of the file and
// its disk usage, on about 200 MB of live PHP data with opcache on, every
// mode dumped in turn in one process (the order alternates from run to run),
// after a warm-up; medians. The gzip dump is checked to inflate to an RDUMP.
// Usage: php -d extension=modules/rdump.so bench/compress.php [MB] [RUNS] [DIR] [LEVELS]
//   LEVELS: comma-separated gzip levels to compare against the plain dump (default "1,6").
require __DIR__ . '/live_data.inc';

$mb = (int) ($argv[1] ?? 200);
$runs = max(1, (int) ($argv[2] ?? 5));
$dir = $argv[3] ?? sys_get_temp_dir();
$levels = array_map('intval', explode(',', $argv[4] ?? '1,6'));

$op = function_exists('opcache_get_status') ? opcache_get_status(false) : false;
if (!$op || !$op['opcache_enabled']) {
    fwrite(STDERR, "opcache is not enabled (run through bench/compress.sh)\n");
    exit(1);
}
$keep = bench_build_live_data($mb);
printf("live PHP data: %.1f MiB (memory_get_usage), %d objects; opcache on, %.1f MiB of its shared memory used\n",
    memory_get_usage() / 1048576, count($keep), $op['memory_usage']['used_memory'] / 1048576);

$modes = ['plain' => []];
foreach ($levels as $l) {
    $modes["gzip-$l"] = ['compress' => true, 'compress_level' => $l];
}

function one(string $path, array $opts): array
{
    @unlink($path);
    $t = hrtime(true);
    if (!rdump_dump($path, false, $opts)) {
        exit(1);
    }
    $secs = (hrtime(true) - $t) / 1e9;
    clearstatcache();
    $st = stat($path);
    $rdump = $st['size'];
    if (!empty($opts['compress'])) {
        // isize, the last 4 bytes of the gzip stream: the inflated length mod 2^32.
        $f = fopen($path, 'rb');
        fseek($f, -4, SEEK_END);
        $rdump = unpack('V', fread($f, 4))[1];
        rewind($f);
        if (fread($f, 2) !== "\x1f\x8b") {
            exit("$path: not gzip\n");
        }
        fclose($f);
    }
    unlink($path);
    return [$secs, $st['size'], $st['blocks'] * 512, $rdump];
}

function median(array $v): float
{
    sort($v);
    $n = count($v);
    return $n % 2 ? $v[intdiv($n, 2)] : ($v[$n / 2 - 1] + $v[$n / 2]) / 2;
}

foreach ($modes as $name => $opts) {
    one("$dir/bench-compress-warm", $opts);
}
$res = [];
$names = array_keys($modes);
for ($i = 0; $i < $runs; $i++) {
    $order = $i % 2 ? array_reverse($names) : $names;
    foreach ($order as $name) {
        $res[$name][] = one("$dir/bench-compress-$name", $modes[$name]);
    }
}
$col = fn (string $name, int $k) => median(array_column($res[$name], $k));
// RDUMP MiB: the uncompressed stream (for gzip from isize, so modulo 4 GiB); MiB/s: of that stream.
printf("%-8s %10s %12s %12s %14s %10s   (median of %d)\n", 'mode', 'time ms', 'size MiB', 'disk MiB', 'RDUMP MiB', 'MiB/s', $runs);
foreach ($names as $name) {
    printf("%-8s %10.1f %12.1f %12.1f %14.1f %10.1f\n", $name, $col($name, 0) * 1000, $col($name, 1) / 1048576,
        $col($name, 2) / 1048576, $col($name, 3) / 1048576, $col($name, 3) / 1048576 / $col($name, 0));
}
foreach (array_slice($names, 1) as $name) {
    printf("%s/plain: time %.2fx  size %.3f  disk %.3f\n", $name,
        $col($name, 0) / $col('plain', 0), $col($name, 1) / $col('plain', 1), $col($name, 2) / $col('plain', 2));
}
