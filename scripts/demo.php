<?php
// Builds some state and dumps the own process: what scripts/demo.sh shows.
final class Order
{
    public function __construct(public int $id, public array $lines) {}
}

function load_orders(int $n): array
{
    $orders = [];
    for ($i = 0; $i < $n; $i++) {
        $orders[] = new Order($i, ['sku' => "SKU-$i", 'qty' => $i % 7]);
    }
    return $orders;
}

function checkpoint(string $path): void
{
    if (!rdump_dump($path)) {
        exit(1);
    }
    echo "dumped to $path\n";
}

$orders = load_orders(1000);
$greeting = 'hello from the demo';
checkpoint($argv[1] ?? '/tmp/rdump-demo.rdump');
