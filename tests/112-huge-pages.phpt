--TEST--
rdump.huge_pages=1: the chunks ZendMM takes during a request carry MADV_HUGEPAGE, a huge block grown and cut in place keeps its bytes, and dumps of them are whole
--EXTENSIONS--
rdump
--SKIPIF--
<?php
require __DIR__ . '/hugepages.inc';
rdump_thp_skipif();
if (PHP_DEBUG) {
    die('skip a debug build of PHP refuses chunks it did not make (115-huge-pages-debug.phpt)');
}
?>
--INI--
rdump.huge_pages=1
--ENV--
USE_ZEND_ALLOC_HUGE_PAGES=0
--FILE--
<?php
require __DIR__ . '/hugepages.inc';
require __DIR__ . '/rdump_trigger.inc';
echo rdump_hp_info(), "\n";
$before = rdump_hg_kb();
$keep = rdump_hp_fill();
$grown = rdump_hg_kb() - $before;
var_dump($grown >= 16 * 1024);

// A pipe read to its end: the string, a huge block (over 2 MiB), is
// extended in place page by page, then cut to its length (mremap, munmap).
$p = popen('head -c 5000000 /dev/zero | tr "\\0" q', 'r');
$s = stream_get_contents($p);
pclose($p);
var_dump(strlen($s), substr_count($s, 'q'));

$dir = rdump_tmpdir('huge-pages');
$marker = 'huge-page-marker-' . bin2hex(random_bytes(8));
$keep[] = str_repeat($marker, 1000);
var_dump(rdump_dump("$dir/sync.rdump"));
var_dump(rdump_check_dump("$dir/sync.rdump") === 'ok pid=' . getmypid());
var_dump(strpos(file_get_contents("$dir/sync.rdump"), str_repeat($marker, 10)) !== false);
var_dump(rdump_dump("$dir/async.rdump", false, ['async' => true]));
var_dump(rdump_wait_for("$dir/async.rdump"));
var_dump(rdump_check_dump("$dir/async.rdump") === 'ok pid=' . getmypid());
var_dump(strpos(file_get_contents("$dir/async.rdump"), str_repeat($marker, 10)) !== false);
rdump_rmdir($dir);
?>
--EXPECT--
yes (rdump.huge_pages)
bool(true)
int(5000000)
int(5000000)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
