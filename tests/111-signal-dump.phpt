--TEST--
rdump.signal: the signal dumps the process at the next VM interrupt, without user code; pcntl handlers keep working, and a pcntl handler installed on the same signal takes it over
--EXTENSIONS--
rdump
pcntl
--FILE--
<?php
require __DIR__ . '/rdump_trigger.inc';
$dir = rdump_tmpdir('signal');
$code = <<<'PHP'
pcntl_async_signals(true);
pcntl_signal(SIGUSR1, function ($s) { echo "pcntl handler got $s\n"; });
exec('kill -USR2 ' . getmypid());
for ($i = 0; $i < 200000; $i++) {}
echo file_exists(DUMP) ? "dumped in the loop\n" : "not dumped\n";
exec('kill -USR1 ' . getmypid());
for ($i = 0; $i < 200000; $i++) {}
unlink(DUMP);
// A script that wants the signal itself gets it.
pcntl_signal(SIGUSR2, function ($s) { echo "pcntl handler got $s\n"; });
exec('kill -USR2 ' . getmypid());
for ($i = 0; $i < 200000; $i++) {}
echo file_exists(DUMP) ? "dumped again\n" : "not dumped again\n";
echo "still running\n";
PHP;
$ini = ['rdump.signal' => 'SIGUSR2', 'rdump.signal_dump' => "$dir/sig-%p.rdump"];
[$rc, $out, $err, $pid] = rdump_child($ini, "define('DUMP', '$dir/sig-' . getmypid() . '.rdump');\n" . $code);
echo "rc $rc, stderr '$err'\n", preg_replace('/^\d+\n/', '', $out);

// Without user code: the dump is complete and names the process.
$code = <<<'PHP'
exec('kill -USR2 ' . getmypid());
for ($i = 0; $i < 200000; $i++) {}
echo "after the loop\n";
PHP;
[$rc, $out, $err, $pid] = rdump_child($ini, $code);
echo "rc $rc, stderr '$err'\n";
var_dump(rdump_check_dump("$dir/sig-$pid.rdump") === "ok pid=$pid");

// Asynchronous: the writer publishes it a moment later.
[$rc, $out, $err, $pid] = rdump_child($ini + ['rdump.async' => '1'], $code);
var_dump(rdump_wait_for("$dir/sig-$pid.rdump") && rdump_check_dump("$dir/sig-$pid.rdump") === "ok pid=$pid");

// A failing signal dump is a warning in the script, which carries on.
[$rc, $out, $err, $pid] = rdump_child(['rdump.signal' => 'SIGUSR2', 'rdump.signal_dump' => "$dir/missing/sig.rdump"], $code);
echo "rc $rc\n", str_replace($dir, 'DIR', preg_replace('/^\d+\n/', '', $out));
rdump_rmdir($dir);
?>
--EXPECTF--
rc 0, stderr ''
dumped in the loop
pcntl handler got 10
pcntl handler got 12
not dumped again
still running
rc 0, stderr ''
bool(true)
bool(true)
rc 0

Warning: %s: Signal dump to "DIR/missing/sig.rdump" failed: the directory does not exist (No such file or directory) in %s on line %d
after the loop
