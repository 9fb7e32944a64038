--TEST--
rdump.oom_dump_min_interval: a second OOM within the interval is not dumped; without an interval it is
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_trigger.inc';
$dir = rdump_tmpdir('oom-interval');
foreach (['3600', '0'] as $interval) {
    $ini = ['rdump.oom_dump' => "$dir/first.rdump", 'rdump.oom_dump_max' => '0',
        'rdump.oom_dump_min_interval' => $interval];
    [$rc, $out, $err, $pid] = rdump_child($ini, rdump_two_oom_code("$dir/second.rdump"));
    echo "interval $interval: rc $rc, ", substr_count($out, 'Allowed memory size of'), " fatal errors, stderr '$err'\n";
    foreach (rdump_ls($dir) as $f) {
        echo "  $f ", rdump_check_dump("$dir/$f") === "ok pid=$pid" ? 'ok' : 'BAD', "\n";
        unlink("$dir/$f");
    }
}
rdump_rmdir($dir);
?>
--EXPECT--
interval 3600: rc 255, 2 fatal errors, stderr ''
  first.rdump ok
interval 0: rc 255, 2 fatal errors, stderr ''
  first.rdump ok
  second.rdump ok
