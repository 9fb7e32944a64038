--TEST--
Bad compression settings and failing compressed dumps warn, return false and leave no file
--EXTENSIONS--
rdump
--INI--
rdump.compress_level=42
--FILE--
<?php
require __DIR__ . '/rdump_test.inc';
$dir = rdump_tmpdir('compress-errors');
var_dump(rdump_dump("$dir/a.rdump.gz", false, ['compress' => true, 'compress_level' => 0]));
var_dump(rdump_dump("$dir/b.rdump.gz", false, ['compress' => true, 'compress_level' => 10]));
var_dump(rdump_dump("$dir/c.rdump.gz", false, ['compress' => true, 'compress_level' => '5']));
var_dump(rdump_dump("$dir/d.rdump.gz", false, ['compress' => 1]));
// The INI level is out of range: refused when it is used, not silently clamped.
var_dump(rdump_dump("$dir/e.rdump.gz", false, ['compress' => true]));
var_dump(rdump_dump("$dir/missing/f.rdump.gz", false, ['compress' => true, 'compress_level' => 1]));
var_dump(rdump_ls($dir));
// The INI level does not matter when nothing is compressed.
var_dump(rdump_dump("$dir/g.rdump"));
var_dump(rdump_ls($dir));
rdump_rmdir($dir);
?>
--EXPECTF--
Warning: rdump_dump(): Option "compress_level" must be an integer from 1 to 9 in %s on line %d
bool(false)

Warning: rdump_dump(): Option "compress_level" must be an integer from 1 to 9 in %s on line %d
bool(false)

Warning: rdump_dump(): Option "compress_level" must be an integer from 1 to 9 in %s on line %d
bool(false)

Warning: rdump_dump(): Option "compress" must be a bool in %s on line %d
bool(false)

Warning: rdump_dump(): Cannot dump to "%s/e.rdump.gz": the compression level must be from 1 to 9 (Invalid argument) in %s on line %d
bool(false)

Warning: rdump_dump(): Cannot dump to "%s/missing/f.rdump.gz": the directory does not exist (No such file or directory) in %s on line %d
bool(false)
array(0) {
}
bool(true)
array(1) {
  [0]=>
  string(7) "g.rdump"
}
