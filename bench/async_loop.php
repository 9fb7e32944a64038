<?php
// One round of bench/async_ab.sh: 25 (or N) asynchronous dumps of the same
// live PHP data in one process, each once the previous writer's file is
// there; prints the caller's times inside rdump_dump() as one "times:" line.
// Usage: php -d extension=.../rdump.so bench/async_loop.php [MB] [N] [DIR]
require __DIR__ . '/live_data.inc';
require __DIR__ . '/async.inc';

$mb = (int) ($argv[1] ?? 200);
$n = (int) ($argv[2] ?? 25);
$dir = bench_dir($argv[3] ?? sys_get_temp_dir(), 'rdump-async-loop');
$keep = bench_build_live_data($mb);
$times = [];
// Two warm-up dumps: the first maps the writer's stack and faults in code.
for ($i = 0; $i < $n + 2; $i++) {
    $path = "$dir/a.rdump";
    @unlink($path);
    usleep(50000);
    $t = hrtime(true);
    if (!rdump_dump($path, false, ['async' => true])) {
        exit(1);
    }
    $ms = (hrtime(true) - $t) / 1e6;
    if ($i >= 2) {
        $times[] = $ms;
    }
    if (!bench_wait_for_writer($path)) {
        fwrite(STDERR, "the writer left no $path\n");
        exit(1);
    }
}
unlink("$dir/a.rdump");
rmdir($dir);
echo 'times: ', implode(' ', array_map(fn($v) => sprintf('%.3f', $v), $times)), "\n";
