# rdump-cli and the C unit tests, built from the same capture/ and format/
# sources as the extension (added to the phpize Makefile by config.m4).

RDUMP_CLI = $(builddir)/rdump-cli
# The phpize Makefile defines prefix but not bindir.
RDUMP_BINDIR = $(prefix)/bin
RDUMP_HEADERS = $(wildcard $(srcdir)/format/*.h $(srcdir)/capture/*.h $(srcdir)/cli/*.h)
RDUMP_CLI_CFLAGS = -std=gnu99 $(CFLAGS_CLEAN) $(INCLUDES) -I$(srcdir) -I$(srcdir)/format -I$(srcdir)/capture
# zlib: gzip sink of the writer, .gz reading (config.m4 checks that it is there).
RDUMP_CLI_LIBS = -lz

all: $(RDUMP_CLI)

$(RDUMP_CLI): $(RDUMP_CLI_SRCS) $(RDUMP_HEADERS)
	$(CC) $(RDUMP_CLI_CFLAGS) -o $@ $(RDUMP_CLI_SRCS) $(LDFLAGS) $(RDUMP_CLI_LIBS)

install: install-rdump-cli

install-rdump-cli: $(RDUMP_CLI)
	$(mkinstalldirs) $(INSTALL_ROOT)$(RDUMP_BINDIR)
	$(INSTALL) -m 755 $(RDUMP_CLI) $(INSTALL_ROOT)$(RDUMP_BINDIR)/rdump-cli

# C unit tests of format/ and capture/: every tests/c/test_*.c is one program.
RDUMP_C_TESTS = $(patsubst $(srcdir)/tests/c/%.c,$(builddir)/tests/c/%,$(wildcard $(srcdir)/tests/c/test_*.c))
RDUMP_LIB_SRCS = $(filter-out %/cli/main.c %/cli/inspect.c %/cli/summary.c %/cli/unpack.c %/cli/dump.c,$(RDUMP_CLI_SRCS))

$(builddir)/tests/c/%: $(srcdir)/tests/c/%.c $(RDUMP_LIB_SRCS) $(RDUMP_HEADERS)
	@mkdir -p $(builddir)/tests/c
	$(CC) $(RDUMP_CLI_CFLAGS) $(RDUMP_TEST_CFLAGS) -pthread -o $@ $< $(RDUMP_LIB_SRCS) $(LDFLAGS) $(RDUMP_CLI_LIBS)

test-c: $(RDUMP_C_TESTS)
	@failed=0; for t in $(RDUMP_C_TESTS); do echo "== $$t"; $$t || failed=1; done; exit $$failed

clean: clean-rdump

clean-rdump:
	rm -f $(RDUMP_CLI) $(RDUMP_C_TESTS)

.PHONY: install-rdump-cli test-c clean-rdump
