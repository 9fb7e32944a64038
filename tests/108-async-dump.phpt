--TEST--
rdump_dump() async (option or rdump.async): returns at once, a forked writer publishes the whole dump under the caller's pid; errors known before the fork are warnings
--EXTENSIONS--
rdump
pcntl
--INI--
rdump.async=0
--FILE--
<?php
require __DIR__ . '/rdump_test.inc';
require __DIR__ . '/rdump_trigger.inc';
$dir = rdump_tmpdir('async');
$marker = str_repeat('async-marker-', 1000);

var_dump(rdump_dump("$dir/opt.rdump", false, ['async' => true]));
var_dump(rdump_wait_for("$dir/opt.rdump"));
var_dump(rdump_check_dump("$dir/opt.rdump") === 'ok pid=' . getmypid());
printf("mode %o\n", fileperms("$dir/opt.rdump") & 0777);
// The writer's image holds the script's data (the C tests check that it is the image of the fork).
var_dump(strpos(file_get_contents("$dir/opt.rdump"), str_repeat('async-marker-', 1000)) !== false);

ini_set('rdump.async', '1');
var_dump(rdump_dump("$dir/ini.rdump", true));
var_dump(rdump_wait_for("$dir/ini.rdump"));
var_dump(rdump_check_dump("$dir/ini.rdump") === 'ok pid=' . getmypid());
// The option wins over the INI: this one is synchronous, complete on return.
var_dump(rdump_dump("$dir/sync.rdump", false, ['async' => false]));
var_dump(file_exists("$dir/sync.rdump"));

// Known before the fork: reported by the call, nothing left behind.
var_dump(rdump_dump("$dir/missing/x.rdump"));
symlink("$dir/opt.rdump", "$dir/link.rdump");
var_dump(rdump_dump("$dir/link.rdump"));
var_dump(rdump_dump("$dir/x.rdump", false, ['async' => 'yes']));
unlink("$dir/link.rdump");
sleep(1);
var_dump(rdump_ls($dir));
// No child is left for this process to reap.
var_dump(pcntl_wait($status, WNOHANG), pcntl_get_last_error() === PCNTL_ECHILD);
rdump_rmdir($dir);
?>
--EXPECTF--
bool(true)
bool(true)
bool(true)
mode 600
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)

Warning: rdump_dump(): Cannot dump to "%s/missing/x.rdump": the directory does not exist (No such file or directory) in %s on line %d
bool(false)

Warning: rdump_dump(): Cannot dump to "%s/link.rdump": it is a symbolic link; refusing to write through it (File exists) in %s on line %d
bool(false)

Warning: rdump_dump(): Option "async" must be a bool in %s on line %d
bool(false)
array(3) {
  [0]=>
  string(9) "ini.rdump"
  [1]=>
  string(9) "opt.rdump"
  [2]=>
  string(10) "sync.rdump"
}
int(-1)
bool(true)
