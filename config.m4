dnl config.m4 for ext-rdump: the extension and, from the same capture/ and
dnl format/ sources, the rdump-cli binary (rules in Makefile.frag).

PHP_ARG_ENABLE([rdump],
  [whether to enable rdump memory dumps],
  [AS_HELP_STRING([--disable-rdump], [Disable rdump memory dumps of PHP processes])],
  [yes])

if test "$PHP_RDUMP" != "no"; then
  case $host_os in
    linux*) ;;
    *) AC_MSG_ERROR([rdump supports Linux only: it reads /proc/<pid>/maps and /proc/<pid>/pagemap]) ;;
  esac

  AC_CHECK_SIZEOF([void *])
  if test "$ac_cv_sizeof_void_p" != "8"; then
    AC_MSG_ERROR([rdump supports 64-bit targets only])
  fi
  AC_C_BIGENDIAN([AC_MSG_ERROR([rdump supports little-endian targets only])])

  dnl zlib writes and reads compressed (.rdump.gz) dumps; rdump-cli links it through Makefile.frag.
  AC_CHECK_HEADER([zlib.h], [], [AC_MSG_ERROR([rdump needs zlib.h for compressed dumps (Debian: apt-get install zlib1g-dev)])])
  PHP_CHECK_LIBRARY(z, deflateInit2_, [
    PHP_ADD_LIBRARY(z, 1, RDUMP_SHARED_LIBADD)
  ], [
    AC_MSG_ERROR([rdump needs zlib (libz) for compressed dumps (Debian: apt-get install zlib1g-dev)])
  ])
  dnl Every symbol is bound when the extension loads: the forked writer of an
  dnl async dump must not run the dynamic linker's lazy binding (its locks may
  dnl have been held by another thread at the fork, and each lookup faults in
  dnl pages of every loaded library while the caller waits).
  RDUMP_SHARED_LIBADD="$RDUMP_SHARED_LIBADD -Wl,-z,now"
  PHP_SUBST([RDUMP_SHARED_LIBADD])

  RDUMP_SHARED_SOURCES="capture/mem.c capture/target.c capture/php_roots.c capture/php_meta.c capture/dump.c capture/trigger.c capture/fork.c format/writer.c format/sink.c format/output.c"
  RDUMP_EXT_SOURCES="rdump.c rdump_triggers.c rdump_huge_pages.c capture/self.c $RDUMP_SHARED_SOURCES"
  RDUMP_CLI_SOURCES="cli/main.c cli/inspect.c cli/summary.c cli/unpack.c cli/dump.c capture/remote.c format/reader.c format/gunzip.c $RDUMP_SHARED_SOURCES"

  PHP_NEW_EXTENSION(rdump, $RDUMP_EXT_SOURCES, $ext_shared,, [-std=gnu99 -DZEND_ENABLE_STATIC_TSRMLS_CACHE=1])
  PHP_ADD_BUILD_DIR([$ext_builddir/capture])
  PHP_ADD_BUILD_DIR([$ext_builddir/format])

  RDUMP_CLI_SRCS=""
  for f in $RDUMP_CLI_SOURCES; do
    RDUMP_CLI_SRCS="$RDUMP_CLI_SRCS \$(srcdir)/$f"
  done
  PHP_SUBST([RDUMP_CLI_SRCS])
  PHP_ADD_MAKEFILE_FRAGMENT
fi
