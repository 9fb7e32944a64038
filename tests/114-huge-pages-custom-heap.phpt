--TEST--
rdump.huge_pages=1 without ZendMM (USE_ZEND_ALLOC=0) or without transparent huge pages: phpinfo() says why it is not in effect, and dumps work
--EXTENSIONS--
rdump
--INI--
rdump.huge_pages=1
--ENV--
USE_ZEND_ALLOC=0
--FILE--
<?php
require __DIR__ . '/hugepages.inc';
require __DIR__ . '/rdump_trigger.inc';
$info = rdump_hp_info();
var_dump($info === (rdump_thp_available() ? 'no: ZendMM is replaced (USE_ZEND_ALLOC=0 or another extension)'
    : 'no: the kernel has no transparent huge pages, or they are set to "never"'));
$before = rdump_hg_kb();
$keep = rdump_hp_fill();
var_dump(rdump_hg_kb() - $before);
$dir = rdump_tmpdir('huge-pages-custom');
var_dump(rdump_dump("$dir/a.rdump"));
var_dump(rdump_check_dump("$dir/a.rdump") === 'ok pid=' . getmypid());
rdump_rmdir($dir);
?>
--EXPECT--
bool(true)
int(0)
bool(true)
bool(true)
