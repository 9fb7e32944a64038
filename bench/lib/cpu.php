<?php
// W5: CPU and allocation work in the style of php-src's Zend/bench.php
// (loops, calls, floats, strings, arrays) plus allocation churn (objects,
// arrays and strings made and dropped). Usage: php cpu.php [SCALE]
final class Point
{
    public function __construct(public float $x, public float $y, public array $meta = []) {}

    public function len(): float
    {
        return sqrt($this->x * $this->x + $this->y * $this->y);
    }
}

function fibo(int $n): int
{
    return $n < 2 ? 1 : fibo($n - 2) + fibo($n - 1);
}

function nested_loops(int $n): int
{
    $x = 0;
    for ($a = 0; $a < $n; $a++) {
        for ($b = 0; $b < $n; $b++) {
            for ($c = 0; $c < $n; $c++) {
                $x++;
            }
        }
    }
    return $x;
}

function mandel(int $w, int $h): int
{
    $inside = 0;
    for ($y = 0; $y < $h; $y++) {
        for ($x = 0; $x < $w; $x++) {
            $cr = $x / $w * 3.0 - 2.0;
            $ci = $y / $h * 2.0 - 1.0;
            $zr = $zi = 0.0;
            for ($i = 0; $i < 50 && $zr * $zr + $zi * $zi < 4.0; $i++) {
                $t = $zr * $zr - $zi * $zi + $cr;
                $zi = 2.0 * $zr * $zi + $ci;
                $zr = $t;
            }
            $inside += $i === 50 ? 1 : 0;
        }
    }
    return $inside;
}

function strings(int $n): int
{
    $s = '';
    for ($i = 0; $i < $n; $i++) {
        $s .= "item $i;";
        if (strlen($s) > 65536) {
            $s = substr(strtoupper($s), -100);
        }
    }
    return strlen($s) + crc32($s);
}

function arrays(int $n): int
{
    $a = [];
    for ($i = 0; $i < $n; $i++) {
        $a["k" . ($i * 7919 % $n)] = $i;
    }
    ksort($a);
    $sum = 0;
    foreach (array_map(fn ($v) => $v * 2, array_filter($a, fn ($v) => $v % 3 === 0)) as $v) {
        $sum += $v;
    }
    return $sum;
}

// Allocation churn: short-lived objects, arrays and strings of every ZendMM size class.
function churn(int $n): int
{
    $keep = [];
    $total = 0;
    for ($i = 0; $i < $n; $i++) {
        $p = new Point($i * 0.5, $i * 0.25, ['i' => $i, 'name' => str_repeat('x', $i % 300)]);
        $keep[$i % 512] = $p;
        if ($i % 64 === 0) {
            $keep[$i % 512] = array_fill(0, $i % 2000, $i);
        }
        if ($i % 4096 === 0) {
            $keep[$i % 512] = str_repeat('y', 300000 + $i % 100000);
        }
        $total += is_object($keep[($i * 31) % 512] ?? null) ? (int) $keep[($i * 31) % 512]->len() : 1;
    }
    return $total;
}

$scale = (float) ($argv[1] ?? 1.0);
$t = hrtime(true);
$r = fibo((int) round(24 + log($scale, 2)));
$r += nested_loops((int) (60 * $scale ** (1 / 3)));
$r += mandel((int) (300 * sqrt($scale)), (int) (200 * sqrt($scale)));
$r += strings((int) (600000 * $scale));
$r += arrays((int) (200000 * $scale));
$r += churn((int) (600000 * $scale));
printf("result %d in %.3f s, rdump %s\n", $r, (hrtime(true) - $t) / 1e9, extension_loaded('rdump') ? 'loaded' : 'absent');
