--TEST--
rdump-cli summary recovers the same state without ZendMM (USE_ZEND_ALLOC=0)
--EXTENSIONS--
rdump
--ENV--
USE_ZEND_ALLOC=0
--FILE--
<?php
require __DIR__ . '/summary_scenario.inc';
var_dump(getenv('USE_ZEND_ALLOC'));
rdump_check_summary('022-summary-no-zendmm');
?>
--EXPECT--
string(1) "0"
bool(true)
exit 0
found: #0 rdump_dump() [internal function]
found: #1 rdump_probe_inner() FILE:15
found: #2 rdump_probe_middle() FILE:14
found: #3 rdump_probe_outer() FILE:13
found: #4 rdump_check_summary() FILE:26
found: 12345 SummaryProbe
found: needle
found: unreadable pointers: 0
