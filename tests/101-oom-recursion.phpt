--TEST--
OOM dump: deep recursion that exhausts memory_limit by growing the VM stack is dumped too, with the frames in the dump
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_trigger.inc';
$dir = rdump_tmpdir('oom-recursion');
// No allocation but the call frames: only the VM stack grows.
$code = 'function down(int $n): int { return down($n + 1) + 1; }' . "\n" . 'down(0);' . "\n";
[$rc, $out, $err, $pid] = rdump_child(['rdump.oom_dump' => "$dir/rec-%p.rdump", 'memory_limit' => '8M'], $code);
var_dump($rc);
echo rdump_fatal_line($out), "\n";
var_dump($err);
var_dump(rdump_ls($dir) === ["rec-$pid.rdump"]);
var_dump(rdump_check_dump("$dir/rec-$pid.rdump") === "ok pid=$pid");
// The analyser can walk the stack: tens of thousands of down() frames.
[$rc, $sum] = rdump_run('summary', "$dir/rec-$pid.rdump");
var_dump(preg_match('/#\d{5,} down\(\)/', $sum) === 1);
rdump_rmdir($dir);
?>
--EXPECT--
int(255)
Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
string(0) ""
bool(true)
bool(true)
bool(true)
