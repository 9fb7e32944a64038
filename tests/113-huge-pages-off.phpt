--TEST--
rdump.huge_pages defaults to off: ZendMM's chunks stay on the kernel's default pages
--EXTENSIONS--
rdump
--ENV--
USE_ZEND_ALLOC_HUGE_PAGES=0
--FILE--
<?php
require __DIR__ . '/hugepages.inc';
var_dump(ini_get('rdump.huge_pages'));
echo rdump_hp_info(), "\n";
$before = rdump_hg_kb();
$keep = rdump_hp_fill();
var_dump(rdump_hg_kb() - $before);
var_dump(ini_set('rdump.huge_pages', '1'));
?>
--EXPECT--
string(1) "0"
no (rdump.huge_pages=0)
int(0)
bool(false)
