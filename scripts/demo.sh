#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, let a PHP
# script dump itself, then show the dump with rdump-cli inspect and summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
scripts/build.sh
out=${RDUMP_DEMO_OUT:-/tmp/rdump-demo.rdump}
php -n -d extension="$PWD/modules/rdump.so" scripts/demo.php "$out"
./rdump-cli inspect "$out" | sed -n '1,25p'
echo "..."
./rdump-cli summary "$out"
