#!/usr/bin/env bash
# The test suite on the PHP builds CI covers besides the host's PHP 8.2
# (scripts/test.sh runs this after its own suite):
#   php7.4            Debian 11 (bullseye) packages, in a debootstrap tree (chroot)
#   php8.4            Debian 13 (trixie) packages, in a debootstrap tree (chroot)
#   php8.2-zts-debug  PHP 8.2 built here from Debian 12's php8.2 source package
#                     with --enable-zts --enable-debug --enable-embed and only
#                     the extensions the tests use; the one build that runs
#                     the threaded test (tests/e2e/zts_threads.sh)
# Each build runs the same scripts/test.sh against its own php, phpize and
# run-tests.php (its output prefixed with "[build]") and ends with one line
# "<build>: N passed, N failed, N skipped"; a build that cannot be set up
# counts as 1 failed. On the debug build every log of the suite that holds a
# leak report or a failed assertion counts as 1 failed too.
#
# The trees and the ZTS build are cached in $RDUMP_CI_CACHE (default
# /var/cache/rdump-ci) and reused; delete a directory there to rebuild it.
# They come from the Debian archive this host's apt already uses.
#
# Usage: scripts/test-versions.sh [php7.4] [php8.4] [php8.2-zts-debug|zts]
#        (default: the builds named in $RDUMP_VERSIONS, else all three)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=${RDUMP_CI_CACHE:-/var/cache/rdump-ci}
zts_prefix=$cache/php8.2-zts-debug
zts_configure=(--enable-zts --enable-debug --enable-embed --disable-all --disable-cgi --disable-phpdbg
	--enable-cli --enable-opcache --enable-posix --enable-pcntl --with-zlib --with-libxml --enable-dom)
leak_re='memory leaks detected|:  Freeing 0x|Memory leaked|Assertion .* failed|zend_mm_heap corrupted'

builds=("$@")
if [ ${#builds[@]} = 0 ]; then
	read -r -a builds <<<"${RDUMP_VERSIONS:-php7.4 php8.4 php8.2-zts-debug}"
fi
for i in "${!builds[@]}"; do
	[ "${builds[$i]}" != zts ] || builds[$i]=php8.2-zts-debug
done

# The Debian archive of this host's apt sources (one-line or deb822 format).
debian_mirror() {
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
		/^[[:space:]]*#/ { next }
		$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i !~ /=/) { print $i; break } }
		$1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }
	' | grep -m1 -E '^https?://[^ ]*/debian/?$' | sed 's:/$::'
}

# Every mount point at or below $1, deepest first, unmounted.
unmount_under() {
	local m
	awk -v p="$1" '$2 == p || index($2, p "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}

cleanup() {
	local s
	for s in bullseye trixie; do
		unmount_under "$cache/$s"
		unmount_under "$cache/$s.tmp"
	done
}
# The checkout's sources (tracked and untracked, not ignored) into a fresh $1.
copy_sources() {
	rm -rf "$1" && mkdir -p "$1" || return 1
	if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$root" && git ls-files -z -co --exclude-standard | tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$1"
	else
		# a copy without .git: .gitignore still tells sources from build output
		local gd
		gd=$(mktemp -d) && git --git-dir="$gd" init -q &&
			(cd "$root" && git --git-dir="$gd" --work-tree=. ls-files -z -o --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$1"
		local rc=$?
		rm -rf "$gd"
		return $rc
	fi
}

# A minimal Debian tree of suite $1 in $cache/$1.
make_tree() {
	local suite=$1 tree=$cache/$1
	[ -e "$tree/.rdump-ci-base" ] && return 0
	[ -n "$mirror" ] || { echo "no Debian archive found in /etc/apt/sources.list*"; return 1; }
	unmount_under "$tree"
	unmount_under "$tree.tmp"
	rm -rf "$tree" "$tree.tmp"
	echo "debootstrap $suite from $mirror"
	if ! debootstrap --variant=minbase "$suite" "$tree.tmp" "$mirror" >"$cache/$suite.debootstrap.log" 2>&1; then
		tail -n 20 "$cache/$suite.debootstrap.log"
		return 1
	fi
	touch "$tree.tmp/.rdump-ci-base" && mv "$tree.tmp" "$tree"
}

mount_tree() {
	grep -q " $1/proc " /proc/mounts || mount -t proc proc "$1/proc" || return 1
	grep -q " $1/dev/shm " /proc/mounts || mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$1/dev/shm" || return 1
	# the kernel's transparent huge page mode, for the rdump.huge_pages tests (they skip without it)
	grep -q " $1/sys " /proc/mounts || mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$1/sys" ||
		echo "note: no sysfs in $1: the rdump.huge_pages tests skip there"
	# apt in the tree reaches the archive as the host does
	cp /etc/resolv.conf "$1/etc/resolv.conf"
}

in_tree() {
	local tree=$1
	shift
	chroot "$tree" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb CI="${CI:-}" RDUMP_VERSIONS=none "$@" 9>&-
}

# Tree, mounts, a copy of the sources in /build/rdump, the suite's dependencies.
prepare_tree() {
	local tree=$cache/$1
	make_tree "$1" || return 1
	mount_tree "$tree" || return 1
	find "$tree/tmp" -mindepth 1 -delete
	copy_sources "$tree/build/rdump" || return 1
	in_tree "$tree" bash /build/rdump/scripts/deps.sh test
}

# Its php.ini loads opcache, as Debian's packages do (tests that want none pass -n).
zts_ini() {
	echo "zend_extension=opcache" >"$zts_prefix/lib/php.ini"
}

# PHP 8.2 from the source package of this host's Debian release, installed in $zts_prefix.
build_zts() {
	local apt=$cache/apt src=$cache/php8.2-src codename dsc
	local -a ao
	# reused while it was built with the same options
	if [ "$(cat "$zts_prefix/.rdump-ci-ready" 2>/dev/null)" = "${zts_configure[*]}" ]; then
		zts_ini
		return 0
	fi
	[ -n "$mirror" ] || { echo "no Debian archive found in /etc/apt/sources.list*"; return 1; }
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	rm -rf "$apt" "$src" "$zts_prefix"
	mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/dl" || return 1
	echo "deb-src $mirror $codename main" >"$apt/sources.list"
	ao=(-q -o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
		-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt" -o APT::Sandbox::User=root)
	echo "php8.2 source from $mirror $codename"
	apt-get "${ao[@]}" update >"$apt/log" 2>&1 || { tail -n 20 "$apt/log"; return 1; }
	(cd "$apt/dl" && apt-get "${ao[@]}" source --download-only php8.2) >>"$apt/log" 2>&1 || { tail -n 20 "$apt/log"; return 1; }
	dsc=$(ls "$apt"/dl/php8.2_*.dsc | head -n 1)
	# upstream's tarball as released (it ships configure); Debian's patches target its own packaging
	dpkg-source --skip-patches -x "$dsc" "$src" >>"$apt/log" 2>&1 || { tail -n 20 "$apt/log"; return 1; }
	echo "building $(basename "$dsc" .dsc): ${zts_configure[*]}"
	if ! (cd "$src" && ./configure --prefix="$zts_prefix" "${zts_configure[@]}" && make -j"$(nproc)" && make install) \
			>"$cache/php8.2-zts-debug.build.log" 2>&1; then
		tail -n 30 "$cache/php8.2-zts-debug.build.log"
		return 1
	fi
	zts_ini || return 1
	echo "${zts_configure[*]}" >"$zts_prefix/.rdump-ci-ready"
	# dpkg-source leaves a copy of the upstream tarball beside the tree
	rm -rf "$src" "$apt/dl" "$cache"/php8.2_*.orig.tar.*
}

setup() {
	case $1 in
	php7.4) prepare_tree bullseye ;;
	php8.4) prepare_tree trixie ;;
	php8.2-zts-debug) build_zts ;;
	*) echo "unknown build $1 (known: php7.4, php8.4, php8.2-zts-debug or zts)"; return 1 ;;
	esac
}

# Runs the suite of build $1 and prints its result line, also left in $result.
run_suite() {
	local b=$1 log line p f s l extra=0
	log=$cache/$b.suite.log
	case $b in
	php7.4) in_tree "$cache/bullseye" bash /build/rdump/scripts/test.sh ;;
	php8.4) in_tree "$cache/trixie" bash /build/rdump/scripts/test.sh ;;
	php8.2-zts-debug)
		copy_sources "$cache/zts-work" &&
		rm -f /tmp/rdump-*.log /tmp/rdump-*.log.txt &&
		(cd "$cache/zts-work" && PATH="$zts_prefix/bin:$PATH" RDUMP_VERSIONS=none bash scripts/test.sh 9>&-)
		;;
	esac 2>&1 | tee "$log" | sed -u "s/^/[$b] /"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	p=$(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$line")
	f=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$line")
	s=$(sed -n 's/.* \([0-9]*\) skipped.*/\1/p' <<<"$line")
	if [ -z "$line" ]; then
		echo "$b: the suite ended without a result line"
		f=1
	fi
	if [ "$b" = php8.2-zts-debug ]; then
		for l in "$log" /tmp/rdump-*.log /tmp/rdump-*.log.txt "$cache"/zts-work/tests/*.out "$cache"/zts-work/tests/*.log; do
			[ -f "$l" ] || continue
			if grep -qE "$leak_re" "$l"; then
				echo "$b: leak report or failed assertion in $l:"
				grep -E "$leak_re" "$l" | head -n 10
				extra=$((extra + 1))
			fi
		done
		echo "count: $b logs with a leak report or failed assertion: $extra"
		# the build exists for the threaded test: it must have run, not skipped
		if ! grep -q '^PASS zts_threads' "$log"; then
			echo "$b: tests/e2e/zts_threads.sh did not pass on this build"
			extra=$((extra + 1))
		fi
	fi
	result="$b: ${p:-0} passed, $(( ${f:-0} + extra )) failed, ${s:-0} skipped"
	echo "$result"
}

mirror=${RDUMP_DEBIAN_MIRROR:-$(debian_mirror)}
mkdir -p "$cache" || exit 1
# One run at a time uses the cache (trees, mounts, the ZTS build).
exec 9>"$cache/.lock" || exit 1
if ! flock -n 9; then
	echo "waiting for another run of scripts/test-versions.sh ($cache/.lock)"
	flock 9 || exit 1
fi
trap cleanup EXIT
trap 'exit 130' INT TERM
declare -A ok
pids=()
start=$(date +%s)
# Setting up is mostly downloading and unpacking: all builds at once.
for b in "${builds[@]}"; do
	(
		t0=$(date +%s)
		setup "$b" >"$cache/$b.setup.log" 2>&1
		rc=$?
		echo "figure: $b setup $(( $(date +%s) - t0 ))s (exit $rc)" >>"$cache/$b.setup.log"
		exit $rc
	) &
	pids+=($!)
done
i=0
for b in "${builds[@]}"; do
	if wait "${pids[$i]}"; then ok[$b]=1; else ok[$b]=0; fi
	sed "s/^/[setup $b] /" "$cache/$b.setup.log"
	i=$((i + 1))
done
echo "figure: setup of ${builds[*]}: $(( $(date +%s) - start ))s"

rc=0
for b in "${builds[@]}"; do
	if [ "${ok[$b]}" != 1 ]; then
		echo "$b: 0 passed, 1 failed, 0 skipped (setup failed, see above)"
		rc=1
		continue
	fi
	echo "=== $b"
	t0=$(date +%s)
	run_suite "$b" >"$cache/$b.run.log"
	echo "figure: $b suite $(( $(date +%s) - t0 ))s"
	cat "$cache/$b.run.log"
	case $result in *" 0 failed,"*) ;; *) rc=1 ;; esac
done
exit $rc
