--TEST--
rdump_dump() replaces an existing regular file by a new inode; a reader of the old file keeps the old bytes
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_test.inc';
$dir = rdump_tmpdir('replace');
$path = "$dir/app.rdump";
file_put_contents($path, "old contents");
chmod($path, 0644);
$old_inode = fileinode($path);
$reader = fopen($path, 'r');
var_dump(rdump_dump($path));
clearstatcache();
var_dump(fileinode($path) !== $old_inode);
printf("mode %o\n", fileperms($path) & 0777);
var_dump(fread($reader, 100));
var_dump(file_get_contents($path, false, null, 0, 5));
var_dump(rdump_ls($dir));
rdump_rmdir($dir);
?>
--EXPECT--
bool(true)
bool(true)
mode 600
string(12) "old contents"
string(5) "RDUMP"
array(1) {
  [0]=>
  string(9) "app.rdump"
}
