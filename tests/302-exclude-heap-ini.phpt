--TEST--
rdump.exclude_heap=1 applies to rdump_dump() without options; the option overrides it
--EXTENSIONS--
rdump
--SKIPIF--
<?php if (!extension_loaded('dom')) die('skip dom extension (php8.2-xml) not loaded'); ?>
--INI--
rdump.exclude_heap=1
opcache.enable_cli=0
--FILE--
<?php
require __DIR__ . '/exclude_heap.inc';
rdump_exclude_heap_check('302-exclude-heap-ini', null);
?>
--EXPECT--
bool(true)
bool(true)
summary exit 0
found: 321 ExcludeHeapProbe
found: 1 DOMDocument
found: 1 DOMElement
found: 1 ExcludeHeapBag
found: 1 ArrayObject
found: unreadable pointers: 0
found: tables
less of [heap] captured
