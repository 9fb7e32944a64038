--TEST--
rdump_dump() async: the processes it forks send the script no SIGCHLD, so a pcntl SIGCHLD handler runs for the script's own children only, and pcntl_wait() never sees them
--EXTENSIONS--
rdump
pcntl
--FILE--
<?php
require __DIR__ . '/rdump_test.inc';
require __DIR__ . '/rdump_trigger.inc';
$dir = rdump_tmpdir('sigchld');
pcntl_async_signals(true);
$exited = [];
pcntl_signal(SIGCHLD, function ($sig, $info) use (&$exited) {
    $exited[] = $info['pid'] ?? -1;
});

for ($i = 0; $i < 3; $i++) {
    var_dump(rdump_dump("$dir/d$i.rdump", false, ['async' => true]));
    var_dump(rdump_wait_for("$dir/d$i.rdump"));
}
// Time for the last writer to exit after its rename.
usleep(300000);
var_dump($exited);
var_dump(pcntl_wait($status, WNOHANG), pcntl_get_last_error() === PCNTL_ECHILD);

// The handler does run for a child of the script's own.
$pid = pcntl_fork();
if ($pid === 0) {
    exit(0);
}
var_dump(pcntl_waitpid($pid, $status) === $pid);
for ($i = 0; $i < 100 && $exited === []; $i++) {
    usleep(10000);
}
var_dump($exited === [$pid]);

pcntl_signal(SIGCHLD, SIG_DFL);
for ($i = 0; $i < 3; $i++) {
    var_dump(rdump_check_dump("$dir/d$i.rdump") === 'ok pid=' . getmypid());
}
rdump_rmdir($dir);
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
array(0) {
}
int(-1)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
