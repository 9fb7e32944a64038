--TEST--
rdump_dump() writes a 0600 dump that rdump-cli inspect accepts
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_test.inc';
$dir = rdump_tmpdir('basic');
$path = "$dir/basic.rdump";
umask(0);
var_dump(rdump_dump($path));
printf("mode %o\n", fileperms($path) & 0777);
var_dump(file_get_contents($path, false, null, 0, 8) === "RDUMP\0\0\0");
[$rc, $out] = rdump_run('inspect', $path);
var_dump($rc);
var_dump(strpos($out, 'v' . PHP_MAJOR_VERSION . PHP_MINOR_VERSION) !== false);
var_dump(strpos($out, (string) getmypid()) !== false);
var_dump(rdump_ls($dir));
rdump_rmdir($dir);
?>
--EXPECT--
bool(true)
mode 600
bool(true)
int(0)
bool(true)
bool(true)
array(1) {
  [0]=>
  string(11) "basic.rdump"
}
