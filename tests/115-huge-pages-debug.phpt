--TEST--
rdump.huge_pages=1 on a debug build of PHP: not installed (its zend_mm_chunk_alloc() would abort on the first chunk), phpinfo() says so, and the request runs on
--EXTENSIONS--
rdump
--SKIPIF--
<?php
require __DIR__ . '/hugepages.inc';
rdump_thp_skipif();
if (!PHP_DEBUG) {
    die('skip only on a debug build of PHP');
}
?>
--INI--
rdump.huge_pages=1
--ENV--
USE_ZEND_ALLOC_HUGE_PAGES=0
--FILE--
<?php
require __DIR__ . '/hugepages.inc';
echo rdump_hp_info(), "\n";
$before = rdump_hg_kb();
$keep = rdump_hp_fill();
var_dump(rdump_hg_kb() - $before, count($keep));
?>
--EXPECT--
no: a debug build of PHP aborts on any chunk not made by ZendMM itself (an assertion in zend_mm_chunk_alloc())
int(0)
int(200)
