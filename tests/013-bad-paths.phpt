--TEST--
rdump_dump() fails with a warning naming path and reason for bad paths, and leaves no file
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_test.inc';
$dir = rdump_tmpdir('badpath');
var_dump(rdump_dump(""));
var_dump(rdump_dump("$dir/a\0b.rdump"));
var_dump(rdump_dump("$dir/missing/x.rdump"));
var_dump(rdump_dump("$dir/" . str_repeat('a', 5000)));
var_dump(rdump_dump("$dir/"));
var_dump(rdump_ls($dir));
rdump_rmdir($dir);
?>
--EXPECTF--
Warning: rdump_dump(): Cannot dump: the path is empty in %s on line %d
bool(false)

Warning: rdump_dump(): Cannot dump to "%s/a\0b.rdump": the path contains a NUL byte in %s on line %d
bool(false)

Warning: rdump_dump(): Cannot dump to "%s/missing/x.rdump": the directory does not exist (No such file or directory) in %s on line %d
bool(false)

Warning: rdump_dump(): Cannot dump to "%s/aaaa%s": the path is too long (File name too long) in %s on line %d
bool(false)

Warning: rdump_dump(): Cannot dump to "%s/": the path names a directory (Is a directory) in %s on line %d
bool(false)
array(0) {
}
