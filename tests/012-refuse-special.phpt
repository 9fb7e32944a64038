--TEST--
rdump_dump() refuses a directory, a FIFO and a device at the path and leaves them untouched
--EXTENSIONS--
rdump
--SKIPIF--
<?php if (!function_exists('posix_mkfifo')) die('skip posix_mkfifo() needed to make a FIFO'); ?>
--FILE--
<?php
require __DIR__ . '/rdump_test.inc';
$dir = rdump_tmpdir('special');
mkdir("$dir/d.rdump");
posix_mkfifo("$dir/f.rdump", 0600);
var_dump(rdump_dump("$dir/d.rdump"));
var_dump(rdump_dump("$dir/f.rdump"));
var_dump(rdump_dump("/dev/null"));
var_dump(is_dir("$dir/d.rdump"), filetype("$dir/f.rdump"), filetype("/dev/null"));
var_dump(rdump_ls($dir));
rdump_rmdir($dir);
?>
--EXPECTF--
Warning: rdump_dump(): Cannot dump to "%s/d.rdump": it is a directory (Is a directory) in %s on line %d
bool(false)

Warning: rdump_dump(): Cannot dump to "%s/f.rdump": it is not a regular file (device, FIFO or socket) (File exists) in %s on line %d
bool(false)

Warning: rdump_dump(): Cannot dump to "/dev/null": it is not a regular file (device, FIFO or socket) (File exists) in %s on line %d
bool(false)
bool(true)
string(4) "fifo"
string(4) "char"
array(2) {
  [0]=>
  string(7) "d.rdump"
  [1]=>
  string(7) "f.rdump"
}
