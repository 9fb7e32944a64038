<?php
// The driver of bench/run: runs every workload (W1-W5, W1H), measures each figure
// against its baseline side by side in one run (a warm-up, then alternating
// rounds, median of at least 5), prints one table and writes RESULTS.md and
// results.svg. Features a build lacks are probed at run time and reported as
// "not measured". Usage: php -n bench/lib/driver.php [--runs N] [--only W1,W5]
// [--out DIR] [--tmp DIR]
require __DIR__ . '/measure.inc';
require __DIR__ . '/report.inc';

$usage = "usage: bench/run [--runs N (default 5)] [--only W1,W1H,W2,W3,W4,W5] [--out DIR (default bench/)] [--tmp DIR (default the system's)]\n";
$opt = getopt('', ['runs:', 'only:', 'out:', 'tmp:', 'help'], $rest);
if (isset($opt['help'])) {
    fwrite(STDOUT, $usage);
    exit(0);
}
foreach (array_slice($argv, 1) as $i => $a) {
    if (str_starts_with($a, '-') && !preg_match('/^--(runs|only|out|tmp)(=|$)/', $a) && !in_array($argv[$i], ['--runs', '--only', '--out', '--tmp'], true)) {
        fwrite(STDERR, "bench: unknown option $a\n$usage");
        exit(2);
    }
}
if ($rest < $argc) {
    fwrite(STDERR, "bench: unexpected argument {$argv[$rest]}\n$usage");
    exit(2);
}
foreach (isset($opt['only']) ? explode(',', strtoupper($opt['only'])) : [] as $w) {
    if (!in_array($w, ['W1', 'W1H', 'W2', 'W3', 'W4', 'W5'], true)) {
        fwrite(STDERR, "bench: unknown workload $w (W1 to W5, W1H)\n$usage");
        exit(2);
    }
}
$root = dirname(__DIR__, 2);
$runs = (int) ($opt['runs'] ?? 5);
if ($runs < 1) {
    fwrite(STDERR, "bench: --runs must be at least 1\n");
    exit(2);
}
$only = isset($opt['only']) ? explode(',', strtoupper($opt['only'])) : ['W1', 'W1H', 'W2', 'W3', 'W4', 'W5'];
$out_dir = $opt['out'] ?? "$root/bench";
if (!is_dir($out_dir) || !is_writable($out_dir)) {
    fwrite(STDERR, "bench: $out_dir is not a writable directory\n");
    exit(2);
}
$so = "$root/modules/rdump.so";
$cli = "$root/rdump-cli";
foreach ([$so, $cli] as $f) {
    if (!is_file($f)) {
        fwrite(STDERR, "bench: $f is missing: build first (scripts/build.sh)\n");
        exit(1);
    }
}
$tmp = rtrim($opt['tmp'] ?? sys_get_temp_dir(), '/') . '/rdump-bench.' . getmypid();
if (!mkdir($tmp, 0700, true)) {
    fwrite(STDERR, "bench: cannot create $tmp\n");
    exit(1);
}
register_shutdown_function(function () use ($tmp) {
    bench_stop_agents();
    bench_rmtree($tmp);
});
if (function_exists('pcntl_signal')) {
    // Interrupted: exit() still runs the clean-up above.
    pcntl_async_signals(true);
    pcntl_signal(SIGINT, fn () => exit(130));
    pcntl_signal(SIGTERM, fn () => exit(143));
}

$started = hrtime(true);
$load_start = sprintf('%.2f', sys_getloadavg()[0]);
$rows = [];
$not_measured = [];
$notes = [];
$workload_info = [];
$php = PHP_BINARY;

// ---------------------------------------------------------------- probes

// rdump-cli dumps another process when its help lists -p PID / --pid.
[$rc, $help] = bench_exec([$cli, '--help']);
$have_cli_dump = $rc === 0 && preg_match('/--pid\b|-p PID/', $help) === 1;
$have_gcore = bench_which('gcore') !== null;
$have_callgrind = bench_which('valgrind') !== null;
$have_gnuplot = bench_which('gnuplot') !== null;

// In-process dump modes; the naive full-mapping dump is the baseline of "default".
$inproc_modes = [
    'default' => ['opts' => [], 'naive' => false, 'ext' => '.rdump', 'feature' => null],
    'naive' => ['opts' => [], 'naive' => true, 'ext' => '.rdump', 'feature' => null],
    'async' => ['opts' => ['async' => true], 'naive' => false, 'ext' => '.rdump', 'feature' => 'asynchronous (fork) dumps, rdump_dump() option "async"'],
    'exclude' => ['opts' => ['exclude_heap' => true], 'naive' => false, 'ext' => '.rdump', 'feature' => 'exclude-heap dumps, rdump_dump() option "exclude_heap"'],
    'compress' => ['opts' => ['compress' => true], 'naive' => false, 'ext' => '.rdump.gz', 'feature' => 'compressed dumps, rdump_dump() option "compress"'],
];
$outside_modes = ['cli' => 'outside dumps, rdump-cli --pid', 'gcore' => 'gcore (Debian gdb)'];

// ---------------------------------------------------------------- W1-W3

$workloads = [
    'W1' => ['what' => '200 MB of live PHP data (objects, arrays, strings)', 'args' => []],
    // W1's data with ZendMM's chunks on transparent huge pages: only the async pause against sync.
    'W1H' => ['what' => "W1's 200 MB of live PHP data, ZendMM's chunks on transparent huge pages (rdump.huge_pages=1)",
        'args' => ['-d', 'rdump.huge_pages=1'], 'modes' => ['default', 'async'], 'data' => 'W1'],
    'W2' => ['what' => 'a generated application (400 files: classes, interfaces, functions) run with opcache on (128 MiB shared memory) and 24 MB of request data',
        'args' => ['-d', 'zend_extension=opcache', '-d', 'opcache.enable_cli=1', '-d', 'opcache.memory_consumption=128',
            // The generated files are seconds old: cache them anyway.
            '-d', 'opcache.file_update_protection=0']],
    'W3' => ['what' => '50 MB of live PHP data plus a libxml2 DOMDocument of 300,000 elements',
        'args' => ['-d', 'extension=dom']],
];

foreach ($workloads as $w => $spec) {
    if (!in_array($w, $only, true)) {
        continue;
    }
    bench_log("$w: {$spec['what']}");
    $scratch = "$tmp/$w";
    mkdir($scratch, 0700);
    $agent_cmd = array_merge([$php, '-n', '-d', 'memory_limit=-1', '-d', "extension=$so"], $spec['args']);

    // rdump's in-process dumps rotate; rdump-cli follows; naive and gcore come last (see the Method section).
    $rotating = array_keys(array_diff_key($inproc_modes, ['naive' => 1]));
    if (isset($spec['modes'])) {
        $rotating = array_values(array_intersect($rotating, $spec['modes']));
    }
    $modes = array_fill_keys($rotating, 'in');
    // rdump-cli, naive and gcore: not for a workload that lists its modes (W1H).
    if (!isset($spec['modes'])) {
        if ($have_cli_dump) {
            $modes['cli'] = 'out';
        } else {
            $not_measured['cli'] = "not measured: rdump-cli time, stop time and size vs gcore: outside dumps (rdump-cli --pid) not available in this build (rdump-cli --help lists no -p PID / --pid)";
        }
        $modes['naive'] = 'in';
        if ($have_gcore) {
            $modes['gcore'] = 'out';
        } else {
            $not_measured['gcore'] = 'not measured: every figure against gcore: gcore (Debian gdb) is not installed';
        }
    }

    $res = [];
    $failed = [];
    $rss = [];
    for ($round = 0; $round <= $runs && count($failed) < count($modes); $round++) {
        // A fresh workload process per round: naive dumps and gcore read every page, which maps never-touched pages into the target.
        try {
            $agent = new BenchAgent($spec['data'] ?? $w, $agent_cmd, $scratch);
            // The process's first dump (untimed): no kind of dump pays for first use.
            $warm = $agent->call(['op' => 'dump', 'path' => "$scratch/first.rdump", 'opts' => [], 'naive' => false]);
            @unlink("$scratch/first.rdump");
            if (!$warm['ok']) {
                throw new RuntimeException('rdump_dump() failed: ' . ($warm['error'] ?? 'false'));
            }
        } catch (RuntimeException $ex) {
            $not_measured[$w] = "not measured ($w): the workload process failed: " . $ex->getMessage();
            bench_log($not_measured[$w]);
            $res = [];
            break;
        }
        if ($round === 0) {
            $info = $agent->ready;
            $workload_info[$w] = $spec['what'] . sprintf(': memory_get_usage %s, RSS %s%s, built in %.1f s',
                bench_mib($info['memory']), bench_mib($info['rss']),
                $info['opcache_used'] !== null ? ', opcache shared memory used ' . bench_mib($info['opcache_used']) : '',
                $info['build_ns'] / 1e9);
            bench_log("$w: " . $workload_info[$w]);
        }
        $live = array_values(array_diff($rotating, array_keys($failed)));
        $k = $live ? $round % count($live) : 0;
        $order = array_merge(array_slice($live, $k), array_slice($live, 0, $k), ['cli'], $round % 2 ? ['gcore', 'naive'] : ['naive', 'gcore']);
        $first_reader = null;
        foreach ($order as $m) {
            if (!isset($modes[$m]) || isset($failed[$m])) {
                continue;
            }
            try {
                $rss_before = $agent->call(['op' => 'rss'])['rss'];
                $r = $modes[$m] === 'in'
                    ? bench_inproc($agent, $m, $inproc_modes[$m], "$tmp/$w-$m", $round === 0)
                    : bench_outside($agent, $m, "$tmp/$w-$m", $round === 0);
                $rss_after = $agent->call(['op' => 'rss'])['rss'];
            } catch (RuntimeException $ex) {
                // The workload process is gone: nothing more can be measured on it.
                foreach ($modes as $mm => $_) {
                    $failed[$mm] ??= ['error' => "the workload process died during a $m dump: " . $ex->getMessage()];
                }
                bench_log("$w: " . $ex->getMessage());
                break;
            }
            if (isset($r['error'])) {
                $failed[$m] = $r;
                bench_log("$w: $m: " . $r['error']);
                continue;
            }
            // The target's RSS growth caused by the dump, when no full reader (naive, gcore) came before it.
            $r['rss_growth'] = $first_reader === null ? max(0, $rss_after - $rss_before) : null;
            if ($m === 'naive' || $m === 'gcore') {
                $first_reader ??= $m;
            }
            if ($round > 0) {
                $res[$m][] = $r;
            } elseif (!empty($r['note'])) {
                $notes[] = "$w, $m dump: {$r['note']}";
            }
        }
        $agent->quit();
        bench_log(sprintf('%s: %s done', $w, $round === 0 ? 'warm-up' : "round $round/$runs"));
    }

    foreach ($failed as $m => $r) {
        $feature = $inproc_modes[$m]['feature'] ?? $outside_modes[$m] ?? "the $m dump";
        if ($r['absent'] ?? false) {
            $not_measured["absent-$m"] = "not measured: figures of $feature: not available in this build ({$r['error']})";
        } else {
            $not_measured["$w-$m"] = "not measured ($w): figures of $feature: the dump failed: {$r['error']}";
        }
    }
    $ok = fn (string $m) => isset($res[$m]) && !isset($failed[$m]);
    $pair = function (string $key, string $label, string $a, string $af, string $b, string $bf, string $unit) use (&$rows, $w, &$res, $ok) {
        if (!$ok($a) || !$ok($b)) {
            return;
        }
        $rows[] = bench_row($w, $key, $label, array_column($res[$a], $af), array_column($res[$b], $bf), $unit);
    };
    $pair('size_naive', 'dump size, apparent: default vs naive full-mapping dump', 'default', 'size', 'naive', 'size', 'bytes');
    $pair('disk_naive', 'dump size, on disk: default vs naive', 'default', 'disk', 'naive', 'disk', 'bytes');
    $pair('time_naive', 'in-process sync dump time: default vs naive', 'default', 'ns', 'naive', 'ns', 'ns');
    $pair('size_gcore', 'dump size, apparent: default (in-process) vs gcore', 'default', 'size', 'gcore', 'size', 'bytes');
    $pair('disk_gcore', 'dump size, on disk: default (in-process) vs gcore', 'default', 'disk', 'gcore', 'disk', 'bytes');
    $pair('pause_async', 'caller pause in rdump_dump(): async vs sync', 'async', 'ns', 'default', 'ns', 'ns');
    $pair('async_done', 'async: dump complete (file in place) vs sync dump time', 'async', 'done_ns', 'default', 'ns', 'ns');
    $pair('size_exclude', 'dump size, apparent: exclude_heap vs default', 'exclude', 'size', 'default', 'size', 'bytes');
    $pair('disk_exclude', 'dump size, on disk: exclude_heap vs default', 'exclude', 'disk', 'default', 'disk', 'bytes');
    $pair('size_gzip', 'dump size: compressed (level 1) vs uncompressed, apparent', 'compress', 'size', 'default', 'size', 'bytes');
    $pair('disk_gzip', 'dump size: compressed vs uncompressed, on disk', 'compress', 'disk', 'default', 'disk', 'bytes');
    $pair('time_gzip', 'in-process dump time: compressed vs uncompressed', 'compress', 'ns', 'default', 'ns', 'ns');
    $pair('time_cli', 'outside dump wall time: rdump-cli vs gcore', 'cli', 'ns', 'gcore', 'ns', 'ns');
    $pair('stop_cli', 'target stop time (longest stall seen by the target): rdump-cli vs gcore', 'cli', 'stop_ns', 'gcore', 'stop_ns', 'ns');
    $pair('size_cli', 'dump size, apparent: rdump-cli vs gcore', 'cli', 'size', 'gcore', 'size', 'bytes');
    $pair('disk_cli', 'dump size, on disk: rdump-cli vs gcore', 'cli', 'disk', 'gcore', 'disk', 'bytes');
    if ($ok('gcore')) {
        $a = $b = [];
        foreach ($res['gcore'] as $i => $g) {
            $c = $ok('cli') ? $res['cli'][$i]['rss_growth'] : null;
            if ($g['rss_growth'] !== null && ($c !== null || !$ok('cli'))) {
                $a[] = $c;
                $b[] = $g['rss_growth'];
            }
        }
        if ($b && $ok('cli')) {
            $rows[] = bench_row($w, 'rss_cli', "growth of the target's RSS caused by the dump: rdump-cli vs gcore", $a, $b, 'bytes');
        } elseif ($b) {
            $notes[] = sprintf("%s: gcore grew the target's RSS by %s (median): it reads every page, so never-touched pages get mapped in.", $w, bench_mib(bench_median($b)));
        }
    }
    if ($ok('cli')) {
        $self = array_filter(array_column($res['cli'], 'self_stop_ns'), fn ($v) => $v !== null);
        if ($self) {
            $notes[] = sprintf('%s: rdump-cli reports its own stop time as %s (median); the table\'s stop time is the longest gap the target itself saw.', $w, bench_ms(bench_median($self)));
        }
    }
}

// ---------------------------------------------------------------- W4

if (in_array('W4', $only, true)) {
    bench_log('W4: a worker dying on memory_limit=128M, with and without the OOM dump');
    $variants = ['none' => [], 'oom' => ['-d', 'rdump.oom_dump=%s']];
    $variants['oom_async'] = ['-d', 'rdump.oom_dump=%s', '-d', 'rdump.async=1'];
    $res = [];
    $failed = [];
    for ($round = 0; $round <= $runs; $round++) {
        $names = array_keys(array_diff_key($variants, $failed));
        $k = $round % count($names);
        foreach (array_merge(array_slice($names, $k), array_slice($names, 0, $k)) as $v) {
            $r = bench_oom($v, $variants[$v], "$tmp/W4-$v-$round", $round === 0);
            if (isset($r['error'])) {
                $failed[$v] = $r;
                bench_log("W4: $v: {$r['error']}");
            } elseif ($round > 0) {
                $res[$v][] = $r;
            }
        }
        bench_log(sprintf('W4: %s done', $round === 0 ? 'warm-up' : "round $round/$runs"));
    }
    $workload_info['W4'] = 'a CLI worker growing live PHP objects until it dies on memory_limit=128M; ' .
        'the fatal\'s time is the last monotonic timestamp the worker printed (every 1000 objects), the exit time is when the driver reaps it';
    foreach ($failed as $v => $r) {
        $what = $v === 'oom_async' ? 'asynchronous OOM dumps (rdump.oom_dump with rdump.async=1)' : ($v === 'oom' ? 'OOM dumps (rdump.oom_dump)' : 'the worker without OOM dump');
        $not_measured["W4-$v"] = ($r['absent'] ?? false)
            ? "not measured (W4): $what: not available in this build ({$r['error']})"
            : "not measured (W4): $what: failed: {$r['error']}";
    }
    foreach (['oom' => 'OOM dump (sync)', 'oom_async' => 'OOM dump (async)'] as $v => $label) {
        if (isset($res[$v], $res['none']) && !isset($failed[$v]) && !isset($failed['none'])) {
            $rows[] = bench_row('W4', "oom_exit_$v", "time from the fatal to process exit: $label vs no OOM dump",
                array_column($res[$v], 'exit_ns'), array_column($res['none'], 'exit_ns'), 'ns');
            $rows[] = bench_single('W4', "oom_size_$v", "$label size, apparent / on disk",
                array_column($res[$v], 'size'), array_column($res[$v], 'disk'));
        }
    }
}

// ---------------------------------------------------------------- W5

if (in_array('W5', $only, true)) {
    bench_log('W5: CPU and allocation benchmark, with the extension (OOM dump configured) vs without');
    $base = [$php, '-n', '-d', 'memory_limit=256M'];
    $with = array_merge($base, ['-d', "extension=$so", '-d', "rdump.oom_dump=$tmp/W5-%p.rdump"]);
    $script = __DIR__ . '/cpu.php';
    $pairs = max(15, 3 * $runs);
    $cpu = ['with' => [], 'without' => []];
    $wall = ['with' => [], 'without' => []];
    $w5_failed = null;
    for ($i = -1; $i < $pairs && $w5_failed === null; $i++) {
        foreach ($i % 2 ? ['with', 'without'] : ['without', 'with'] as $v) {
            $r = bench_exec(array_merge($v === 'with' ? $with : $base, [$script, '1']));
            if ($r[0] !== 0 || !str_contains($r[1], 'result ')) {
                $w5_failed = "php $v the extension exited with {$r[0]}: " . bench_first_line($r[2] . $r[1]);
                break;
            }
            if (!str_contains($r[1], $v === 'with' ? 'rdump loaded' : 'rdump absent')) {
                $w5_failed = "php $v the extension: " . bench_first_line($r[2] . $r[1]);
                break;
            }
            if ($i >= 0) {
                $cpu[$v][] = $r[4];
                $wall[$v][] = $r[3];
            }
        }
    }
    $workload_info['W5'] = "Zend/bench.php-style loops, calls, floats, strings and arrays plus allocation churn (bench/lib/cpu.php), " .
        "$pairs alternating pairs after a warm-up pair, with the extension loaded and rdump.oom_dump set vs plain PHP";
    if ($w5_failed !== null) {
        $not_measured['W5'] = "not measured (W5): $w5_failed";
    } else {
        if (glob("$tmp/W5-*.rdump")) {
            $notes[] = 'W5: an OOM dump was written during the CPU benchmark (unexpected: it never reaches memory_limit).';
        }
        $rows[] = bench_row('W5', 'w5_cpu', 'CPU time (user+sys) of the whole process: with the extension vs without', $cpu['with'], $cpu['without'], 'ns');
        $rows[] = bench_row('W5', 'w5_wall', 'wall time of the whole process: with the extension vs without', $wall['with'], $wall['without'], 'ns');
        if ($have_callgrind) {
            $ir = ['with' => [], 'without' => []];
            for ($i = 0; $i < 3; $i++) {
                foreach ($i % 2 ? ['with', 'without'] : ['without', 'with'] as $v) {
                    $cmd = array_merge(['valgrind', '--tool=callgrind', '--callgrind-out-file=/dev/null'], $v === 'with' ? $with : $base, [$script, '0.1']);
                    $r = bench_exec($cmd);
                    if ($r[0] !== 0 || !preg_match('/Collected\s*:\s*(\d+)/', $r[2], $m)) {
                        $not_measured['W5-ir'] = 'not measured (W5): instruction counts: valgrind --tool=callgrind failed: ' . bench_first_line($r[2]);
                        break 2;
                    }
                    $ir[$v][] = (int) $m[1];
                }
            }
            if (!isset($not_measured['W5-ir'])) {
                $rows[] = bench_row('W5', 'w5_ir', 'instructions executed (callgrind, scale 0.1): with the extension vs without', $ir['with'], $ir['without'], 'count');
            }
        } else {
            $not_measured['W5-ir'] = 'not measured (W5): instruction counts: valgrind is not installed';
        }
    }
}

// ---------------------------------------------------------------- report

$elapsed = (hrtime(true) - $started) / 1e9;
$table = bench_table($rows);
fwrite(STDOUT, "\n" . $table . "\n");
foreach ($not_measured as $line) {
    fwrite(STDOUT, "$line\n");
}
fwrite(STDOUT, "\n" . bench_targets($rows));
fwrite(STDOUT, sprintf("\nbench: %d rounds after a warm-up, %.1f minutes\n", $runs, $elapsed / 60));

$svg = "$out_dir/results.svg";
$chart_error = $have_gnuplot ? bench_chart($rows, $svg, $tmp) : 'gnuplot is not installed (Debian: gnuplot-nox)';
if ($chart_error !== null) {
    fwrite(STDERR, "bench: no chart: $chart_error\n");
}
$md = bench_results_md($rows, $not_measured, $notes, $workload_info, $runs, $elapsed, $chart_error === null ? 'results.svg' : null, $cli,
    [$load_start, sprintf('%.2f', sys_getloadavg()[0])]);
if (file_put_contents("$out_dir/RESULTS.md", $md) === false) {
    fwrite(STDERR, "bench: cannot write $out_dir/RESULTS.md\n");
    exit(1);
}
fwrite(STDOUT, "bench: wrote $out_dir/RESULTS.md" . ($chart_error === null ? " and $svg" : '') . "\n");
