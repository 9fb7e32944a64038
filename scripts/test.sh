#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the C unit tests of
# format/ and capture/, the PHPT suite, and the end-to-end scripts in
# tests/e2e/ (exit 0 = pass, 77 = skipped with a reason, else fail).
# Closes with one line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/deps.sh test || { echo "dependency install failed"; echo "0 passed, 1 failed"; exit 1; }
scripts/build.sh || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0 skipped=0
# Logs of this run only: concurrent runs on one machine must not share them.
logs=$(mktemp -d /tmp/rdump-test-logs.XXXXXX)
failures=()
export RDUMP_CLI="$root/rdump-cli" RDUMP_EXT="$root/modules/rdump.so" RDUMP_ROOT="$root"

count_line() {  # adds a runner's "N passed, N failed[, N skipped]" line
	local line=$1 what=$2 p f s
	p=$(sed -n 's/.*\b\([0-9][0-9]*\) passed.*/\1/p' <<<"$line")
	f=$(sed -n 's/.*\b\([0-9][0-9]*\) failed.*/\1/p' <<<"$line")
	s=$(sed -n 's/.*\b\([0-9][0-9]*\) skipped.*/\1/p' <<<"$line")
	passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
	[ "${f:-0}" = 0 ] || failures+=("$what")
}

echo "=== C unit tests"
if make -s test-c >"$logs/test-c.log" 2>&1; then c_rc=0; else c_rc=1; fi
cat "$logs/test-c.log"
while read -r line; do count_line "$line" "C unit tests"; done < <(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logs/test-c.log")
if [ $c_rc != 0 ] && ! grep -qE '^[0-9]+ passed, [1-9][0-9]* failed' "$logs/test-c.log"; then
	failed=$((failed + 1)); failures+=("C unit tests (build or crash)")
fi

echo "=== PHPT"
phpt_log=$logs/phpt.log
NO_INTERACTION=1 REPORT_EXIT_STATUS=1 TEST_PHP_EXECUTABLE="$(command -v php)" php run-tests.php -q -j2 --show-diff \
	-d extension="$root/modules/rdump.so" tests/ >"$phpt_log" 2>&1
sed 's/\x1b\[[0-9;]*m//g; s/\r/\n/g' "$phpt_log" >"$phpt_log.txt"
grep -E '^(FAIL|BORK|LEAK|SKIP)' "$phpt_log.txt" || true
grep -A40 -E '^=+DIFF=+' "$phpt_log.txt" | head -200 || true
n=$(sed -n 's/^Number of tests *: *\([0-9]*\).*/\1/p' "$phpt_log.txt" | head -1)
p=$(sed -n 's/^Tests passed *: *\([0-9]*\).*/\1/p' "$phpt_log.txt" | head -1)
s=$(sed -n 's/^Tests skipped *: *\([0-9]*\).*/\1/p' "$phpt_log.txt" | head -1)
n=${n:-0} p=${p:-0} s=${s:-0}
f=$((n - p - s))
echo "PHPT: $n tests, $p passed, $f failed, $s skipped"
passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
[ "$f" = 0 ] || failures+=("PHPT")
if [ "$n" = 0 ]; then
	echo "PHPT ran nothing:"; tail -20 "$phpt_log.txt"; failed=$((failed + 1)); failures+=("PHPT (no test ran)")
fi

echo "=== end-to-end"
for t in tests/e2e/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	start=$(date +%s)
	bash "$t" >"$logs/e2e-$name.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) passed=$((passed + 1)); echo "PASS $name (${secs}s)"; grep -E '^(figure|count):' "$logs/e2e-$name.log" || true ;;
	77) skipped=$((skipped + 1)); echo "SKIP $name: $(tail -1 "$logs/e2e-$name.log")" ;;
	*) failed=$((failed + 1)); failures+=("e2e $name"); echo "FAIL $name (exit $rc, ${secs}s)"; tail -40 "$logs/e2e-$name.log" ;;
	esac
done

# The same suite on PHP 7.4, 8.4 and a ZTS debug 8.2: in CI, or when
# RDUMP_VERSIONS names builds ("php7.4 php8.4 zts"); RDUMP_VERSIONS=none never.
if [ "${RDUMP_VERSIONS:-}" = none ] || { [ -z "${RDUMP_VERSIONS:-}" ] && [ -z "${CI:-}" ]; }; then
	echo "=== other PHP builds: not run (CI runs them; locally: RDUMP_VERSIONS=\"php7.4 php8.4 zts\" scripts/test.sh)"
else
	echo "=== other PHP builds (scripts/test-versions.sh)"
	# shellcheck disable=SC2086
	bash scripts/test-versions.sh ${RDUMP_VERSIONS:-php7.4 php8.4 php8.2-zts-debug} 2>&1 | tee "$logs/versions.log"
	v=$(grep -cE '^[^ ]+: [0-9]+ passed, [0-9]+ failed' "$logs/versions.log")
	while read -r line; do count_line "$line" "${line%%:*}"; done \
		< <(grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed' "$logs/versions.log")
	[ "$v" != 0 ] || { failed=$((failed + 1)); failures+=("other PHP builds (no result)"); }
fi

if [ ${#failures[@]} -gt 0 ]; then
	printf 'failed suites:'; printf ' [%s]' "${failures[@]}"; echo
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
