--TEST--
OOM dump path templates: %p pid, %i thread id, %t Unix time, %% a literal %, other %x kept; a template that does not fit once expanded skips the dump
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_trigger.inc';
$dir = rdump_tmpdir('oom-template');
$before = time();
[$rc, $out, $err, $pid] = rdump_child(['rdump.oom_dump' => "$dir/t-%p-%i-%t-%%-%x-100%.rdump"], rdump_oom_code());
$after = time();
echo rdump_fatal_line($out), "\n";
var_dump($err);
$files = rdump_ls($dir);
var_dump(count($files));
// NTS: the only thread's id is the pid.
var_dump(preg_match('/^t-(\d+)-(\d+)-(\d+)-%-%x-100%\.rdump$/', $files[0], $m) === 1);
var_dump((int) $m[1] === $pid, (int) $m[2] === $pid, $m[3] >= $before && $m[3] <= $after);
var_dump(rdump_check_dump("$dir/$files[0]") === "ok pid=$pid");
unlink("$dir/$files[0]");

// 4030 bytes as written, more than PATH_MAX - 64 once each %t is 10 digits: skipped, never truncated.
$long = "$dir/" . str_repeat('x', 4030 - strlen("$dir/") - strlen('%t%t%t%t.rdump')) . '%t%t%t%t.rdump';
var_dump(strlen($long));
[$rc, $out, $err] = rdump_child(['rdump.oom_dump' => $long], rdump_oom_code());
var_dump($rc);
echo rdump_fatal_line($out), "\n";
echo str_replace($long, 'LONG', $err);
var_dump(rdump_ls($dir));
rdump_rmdir($dir);
?>
--EXPECT--
Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
string(0) ""
int(1)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
int(4030)
int(255)
Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
rdump: OOM dump skipped: the path template "LONG" is longer than 4031 bytes once expanded
array(0) {
}
