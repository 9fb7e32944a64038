--TEST--
OOM dump: a script that grows an array past memory_limit leaves a complete dump at the expanded path, and dies with PHP's own message
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_trigger.inc';
$dir = rdump_tmpdir('oom-array');
[$rc, $out, $err, $pid] = rdump_child(['rdump.oom_dump' => "$dir/oom-%p.rdump"], rdump_oom_code());
var_dump($rc);
echo rdump_fatal_line($out), "\n";
var_dump($err);
var_dump(rdump_ls($dir) === ["oom-$pid.rdump"]);
var_dump(rdump_check_dump("$dir/oom-$pid.rdump") === "ok pid=$pid");
printf("mode %o\n", fileperms("$dir/oom-$pid.rdump") & 0777);
// The dump holds at least the ZendMM memory that hit the limit.
var_dump(filesize("$dir/oom-$pid.rdump") > 32 * 1024 * 1024);

// Off by default: the same script without rdump.oom_dump leaves nothing.
[$rc, $out, $err] = rdump_child([], rdump_oom_code());
echo rdump_fatal_line($out), "\n";
var_dump(count(rdump_ls($dir)));
rdump_rmdir($dir);
?>
--EXPECT--
int(255)
Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
string(0) ""
bool(true)
bool(true)
mode 600
bool(true)
Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
int(1)
