--TEST--
rdump.oom_dump_max caps OOM dumps per process: the default 1 dumps the first OOM only, 2 dumps a second one; the fatal message is printed every time
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_trigger.inc';
$dir = rdump_tmpdir('oom-max');
foreach ([null, '2', '0'] as $max) {
    $ini = ['rdump.oom_dump' => "$dir/first.rdump"];
    if ($max !== null) {
        $ini['rdump.oom_dump_max'] = $max;
    }
    [$rc, $out, $err, $pid] = rdump_child($ini, rdump_two_oom_code("$dir/second.rdump"));
    echo "max ", $max ?? 'default', ": rc $rc, ", substr_count($out, 'Allowed memory size of'), " fatal errors, stderr '$err'\n";
    foreach (rdump_ls($dir) as $f) {
        echo "  $f ", rdump_check_dump("$dir/$f") === "ok pid=$pid" ? 'ok' : 'BAD', "\n";
        unlink("$dir/$f");
    }
}
rdump_rmdir($dir);
?>
--EXPECT--
max default: rc 255, 2 fatal errors, stderr ''
  first.rdump ok
max 2: rc 255, 2 fatal errors, stderr ''
  first.rdump ok
  second.rdump ok
max 0: rc 255, 2 fatal errors, stderr ''
  first.rdump ok
  second.rdump ok
