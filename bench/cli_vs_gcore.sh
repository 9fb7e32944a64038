#!/usr/bin/env bash
# rdump-cli dump against gdb's gcore on one PHP process holding MB (200)
# megabytes of live PHP data (bench/live_data.inc), side by side in one run:
# RUNS (5) rounds, the order of the two tools alternating, medians reported.
# Measured per tool: wall time of the dump, the file's size (apparent and on
# disk), and how long the target was stopped, seen from the target itself:
# it wakes every millisecond and logs every gap over 2 ms, so the longest gap
# during a dump is its stop time (rdump-cli's own report is shown too).
# A warm-up round of each tool is run first and not counted.
# Run by hand, not in CI: bench/cli_vs_gcore.sh [MB] [RUNS] [DIR]
# DIR (default: a new directory under /tmp) receives the dumps; each round
# deletes the previous files and syncs before timing, for both tools alike.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mb=${1:-200}
runs=${2:-5}
cli=${RDUMP_CLI:-$root/rdump-cli}
[ -x "$cli" ] || { echo "build rdump-cli first (scripts/build.sh)"; exit 1; }
command -v gcore >/dev/null || { echo "gcore not found (Debian: apt-get install gdb)"; exit 1; }
if [ -n "${3:-}" ]; then
	dir=$3
	mkdir -p "$dir"
else
	dir=$(mktemp -d /tmp/rdump-bench-gcore.XXXXXX)
fi
work=$(mktemp -d /tmp/rdump-bench-gcore-work.XXXXXX)
target=""
cleanup() { [ -n "$target" ] && kill "$target" 2>/dev/null; rm -rf "$work"; rm -f "$dir"/cvg-*; }
trap cleanup EXIT

cat >"$work/target.php" <<'EOF'
<?php
// Builds the live data, then wakes every millisecond; gaps over 2 ms go to the log (ns).
require $argv[1];
$data = bench_build_live_data((int) $argv[2]);
$log = fopen($argv[3], 'a');
file_put_contents($argv[4], memory_get_usage() . "\n");
$last = hrtime(true);
while (true) {
    usleep(1000);
    $now = hrtime(true);
    if ($now - $last > 2000000) {
        fwrite($log, ($now - $last) . "\n");
        fflush($log);
    }
    $last = $now;
}
EOF
: >"$work/gaps"
php -n -d memory_limit=-1 "$work/target.php" "$root/bench/live_data.inc" "$mb" "$work/gaps" "$work/ready" &
target=$!
for _ in $(seq 1200); do [ -s "$work/ready" ] && break; sleep 0.1; done
[ -s "$work/ready" ] || { echo "the target did not build its data"; exit 1; }
rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$target/status")
echo "target: pid $target, $(( $(cat "$work/ready") / 1048576 )) MiB PHP memory, RSS $((rss_kb / 1024)) MiB; dumps in $dir; $runs rounds"

now_ns() { date +%s%N; }
max_gap_ms() {   # the longest gap logged after line $1 of the gap log
	tail -n +"$(( $1 + 1 ))" "$work/gaps" | awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { printf "%.1f", m / 1e6 }'
}

declare -a r_ms r_size r_disk r_stop r_self g_ms g_size g_disk g_stop
run_rdump() {
	local out="$dir/cvg-rdump-$1.rdump" before t0 t1 self
	rm -f "$dir"/cvg-*; sync; sleep 0.5
	before=$(wc -l <"$work/gaps")
	t0=$(now_ns)
	"$cli" -p "$target" -o "$out" 2>"$work/rdump.err" || { cat "$work/rdump.err"; exit 1; }
	t1=$(now_ns)
	sleep 0.1
	self=$(sed -n 's/.*process stopped \([0-9.]*\) s.*/\1/p' "$work/rdump.err")
	r_ms+=("$(( (t1 - t0) / 1000000 ))")
	r_size+=("$(stat -c %s "$out")")
	r_disk+=("$(( $(stat -c %b "$out") * $(stat -c %B "$out") ))")
	r_stop+=("$(max_gap_ms "$before")")
	r_self+=("$(awk -v s="${self:-0}" 'BEGIN { printf "%.1f", s * 1000 }')")
}
run_gcore() {
	local before t0 t1
	rm -f "$dir"/cvg-*; sync; sleep 0.5
	before=$(wc -l <"$work/gaps")
	t0=$(now_ns)
	gcore -o "$dir/cvg-core" "$target" >"$work/gcore.out" 2>&1 || { cat "$work/gcore.out"; exit 1; }
	t1=$(now_ns)
	sleep 0.1
	g_ms+=("$(( (t1 - t0) / 1000000 ))")
	g_size+=("$(stat -c %s "$dir/cvg-core.$target")")
	g_disk+=("$(( $(stat -c %b "$dir/cvg-core.$target") * $(stat -c %B "$dir/cvg-core.$target") ))")
	g_stop+=("$(max_gap_ms "$before")")
}

# A warm-up round of each, not counted: first use of fresh memory and files.
run_rdump 0
run_gcore
r_ms=() r_size=() r_disk=() r_stop=() r_self=() g_ms=() g_size=() g_disk=() g_stop=()
for i in $(seq "$runs"); do
	if [ $((i % 2)) = 1 ]; then run_rdump "$i"; run_gcore; else run_gcore; run_rdump "$i"; fi
	printf 'round %d: rdump-cli %5d ms %6.1f MiB stopped %7s ms (self-reported %s ms) | gcore %5d ms %6.1f MiB stopped %7s ms\n' \
		"$i" "${r_ms[-1]}" "$(awk -v b="${r_size[-1]}" 'BEGIN { print b / 1048576 }')" "${r_stop[-1]}" "${r_self[-1]}" \
		"${g_ms[-1]}" "$(awk -v b="${g_size[-1]}" 'BEGIN { print b / 1048576 }')" "${g_stop[-1]}"
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }
rt=$(median "${r_ms[@]}"); gt=$(median "${g_ms[@]}")
rs=$(median "${r_size[@]}"); gs=$(median "${g_size[@]}")
rd=$(median "${r_disk[@]}"); gd=$(median "${g_disk[@]}")
rp=$(median "${r_stop[@]}"); gp=$(median "${g_stop[@]}"); rself=$(median "${r_self[@]}")
echo
echo "dump time ranges: rdump-cli $(range "${r_ms[@]}") ms, gcore $(range "${g_ms[@]}") ms"
echo "median of $runs rounds (after a warm-up round), $mb MB of live PHP data:"
awk -v rt="$rt" -v gt="$gt" -v rs="$rs" -v gs="$gs" -v rd="$rd" -v gd="$gd" -v rp="$rp" -v gp="$gp" -v rself="$rself" 'BEGIN {
	printf "  dump time   rdump-cli %8.0f ms   gcore %8.0f ms   ratio %.2f  (goal <= 0.33: %s)\n", rt, gt, rt / gt, rt / gt <= 1 / 3 ? "met" : "missed"
	printf "  dump size   rdump-cli %8.1f MiB  gcore %8.1f MiB  ratio %.2f  (goal <= 1: %s)\n", rs / 1048576, gs / 1048576, rs / gs, rs <= gs ? "met" : "missed"
	printf "  on disk     rdump-cli %8.1f MiB  gcore %8.1f MiB  ratio %.2f\n", rd / 1048576, gd / 1048576, rd / gd
	printf "  stopped     rdump-cli %8.1f ms   gcore %8.1f ms   (rdump-cli reports %.1f ms)\n", rp, gp, rself
}'
