<?php
// A workload process driven by bench/lib/driver.php: builds one workload
// (W1-W3), then answers one JSON command per line on stdin with one JSON
// line on stdout. While idle it wakes every millisecond; the longest gap
// between two wake-ups is how long it was stopped by an outside dumper.
// Usage: php -d extension=rdump.so bench/lib/agent.php W1|W2|W3 SCRATCH_DIR
require __DIR__ . '/workloads.inc';

function agent_reply(array $r): void
{
    fwrite(STDOUT, json_encode($r) . "\n");
}

function agent_rss(): int
{
    $status = @file_get_contents('/proc/self/status');
    return ($status !== false && preg_match('/^VmRSS:\s+(\d+) kB/m', $status, $m)) ? (int) $m[1] * 1024 : -1;
}

// One in-process dump; the naive baseline is the extension's undocumented RDUMP_BENCH_NAIVE switch.
function agent_dump(string $path, array $opts, bool $naive): array
{
    global $agent_warning;

    if ($naive) {
        putenv('RDUMP_BENCH_NAIVE=1');
    } else {
        putenv('RDUMP_BENCH_NAIVE');
    }
    $agent_warning = null;
    $t = hrtime(true);
    try {
        // The two-argument call when no option is asked for: it works in every build.
        $ok = $opts ? rdump_dump($path, false, $opts) : rdump_dump($path);
    } catch (Throwable $ex) {
        $ok = false;
        $agent_warning = get_class($ex) . ': ' . $ex->getMessage();
    }
    $ns = hrtime(true) - $t;
    putenv('RDUMP_BENCH_NAIVE');
    return ['ok' => $ok === true, 'ns' => $ns, 'error' => $agent_warning];
}

[, $workload, $scratch] = $argv;
$agent_warning = null;
set_error_handler(function (int $no, string $msg) {
    global $agent_warning;
    $agent_warning = $msg;
    return true;
});
$t = hrtime(true);
$keep = bench_workload($workload, $scratch);
$build_ns = hrtime(true) - $t;
$opcache = function_exists('opcache_get_status') ? opcache_get_status(false) : false;
agent_reply([
    'ready' => true,
    'pid' => getmypid(),
    'build_ns' => $build_ns,
    'memory' => memory_get_usage(),
    'rss' => agent_rss(),
    'opcache_used' => $opcache ? $opcache['memory_usage']['used_memory'] : null,
]);

$last = hrtime(true);
$gap = 0;
for (;;) {
    $r = [STDIN];
    $w = $e = null;
    $n = @stream_select($r, $w, $e, 0, 1000);
    $now = hrtime(true);
    $gap = max($gap, $now - $last);
    $last = $now;
    if (!$n) {
        continue;
    }
    $line = fgets(STDIN);
    if ($line === false) {
        break;
    }
    $cmd = json_decode($line, true);
    switch ($cmd['op'] ?? '') {
    case 'dump':
        agent_reply(agent_dump($cmd['path'], $cmd['opts'], $cmd['naive']));
        break;
    case 'rss':
        agent_reply(['rss' => agent_rss()]);
        break;
    case 'gap':
        // The longest stall since the previous 'gap', then start over.
        agent_reply(['gap_ns' => $gap]);
        $gap = 0;
        break;
    case 'quit':
        agent_reply(['bye' => true]);
        exit(0);
    default:
        agent_reply(['error' => 'unknown command: ' . trim($line)]);
    }
    $last = hrtime(true);
}
