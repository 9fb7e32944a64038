--TEST--
rdump_dump() refuses a symlink at the path and leaves it and its target untouched
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_test.inc';
$dir = rdump_tmpdir('symlink');
file_put_contents("$dir/target", "precious");
symlink("$dir/target", "$dir/link.rdump");
symlink("$dir/nowhere", "$dir/dangling.rdump");
var_dump(rdump_dump("$dir/link.rdump"));
var_dump(rdump_dump("$dir/dangling.rdump"));
var_dump(is_link("$dir/link.rdump"), readlink("$dir/link.rdump") === "$dir/target");
var_dump(file_get_contents("$dir/target"));
var_dump(file_exists("$dir/nowhere"));
var_dump(rdump_ls($dir));
rdump_rmdir($dir);
?>
--EXPECTF--
Warning: rdump_dump(): Cannot dump to "%s/link.rdump": it is a symbolic link; refusing to write through it (File exists) in %s on line %d
bool(false)

Warning: rdump_dump(): Cannot dump to "%s/dangling.rdump": it is a symbolic link; refusing to write through it (File exists) in %s on line %d
bool(false)
bool(true)
bool(true)
string(8) "precious"
bool(false)
array(3) {
  [0]=>
  string(14) "dangling.rdump"
  [1]=>
  string(10) "link.rdump"
  [2]=>
  string(6) "target"
}
