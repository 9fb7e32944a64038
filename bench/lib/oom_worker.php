<?php
// W4: a worker that grows live PHP data until it dies on memory_limit.
// Every 1000 objects it prints the monotonic clock (hrtime, ns), so the
// driver knows, within a fraction of a millisecond, when the fatal came.
require __DIR__ . '/../live_data.inc';

$data = [];
for ($i = 0;; $i++) {
    if ($i % 1000 === 0) {
        fwrite(STDOUT, 't ' . hrtime(true) . "\n");
    }
    $data[] = new BenchNode($i, str_repeat(chr(65 + $i % 26), 64) . $i, ['k' => $i, 's' => "tag-$i"]);
}
