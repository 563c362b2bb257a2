/*
 * conf-fuzzer.c: libFuzzer target for the configuration parser.
 *
 * conf_load reads a file, so each input is written to one scratch file
 * (made once, in $TMPDIR) and loaded; errors and warnings are read to
 * their end.  Paths that would make one input read forever or outside
 * the test (@include, /dev, /proc, /sys) are defused first, since a
 * configuration names files on purpose.
 *
 * Build: ./configure CC=clang --enable-fuzzing && make tests/fuzz/conf-fuzzer
 * Run with stdin from /dev/null.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/common.h"
#include "agent/conf.h"

int		LLVMFuzzerInitialize(int *, char ***);
int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	fuzz_defuse(char *, size_t, const char *);
static void	fuzz_touch(char **, size_t);
static void	fuzz_cleanup(void);

static char			fuzz_file[4096];
static volatile unsigned char	sink_byte;

static void
fuzz_cleanup(void)
{
	if (fuzz_file[0] != '\0')
		unlink(fuzz_file);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*dir = getenv("TMPDIR");
	int		 fd;

	(void)argc;
	(void)argv;
	log_init(LOG_TO_STDERR, 0);
	snprintf(fuzz_file, sizeof fuzz_file, "%s/conf-fuzzer.XXXXXX",
	    dir != NULL && *dir != '\0' ? dir : "/tmp");
	if ((fd = mkstemp(fuzz_file)) == -1) {
		perror("conf-fuzzer: mkstemp");
		exit(1);
	}
	close(fd);
	atexit(fuzz_cleanup);
	return (0);
}

/* Overwrite every occurrence of what (case-insensitive) with 'x's. */
static void
fuzz_defuse(char *s, size_t len, const char *what)
{
	size_t	n = strlen(what), i;

	for (i = 0; i + n <= len; i++)
		if (strncasecmp(s + i, what, n) == 0)
			memset(s + i + 1, 'x', n - 1);
}

static void
fuzz_touch(char **v, size_t n)
{
	size_t	i, j;

	for (i = 0; i < n; i++)
		for (j = 0; v[i][j] != '\0'; j++)
			sink_byte ^= (unsigned char)v[i][j];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_msgs	 msgs;
	struct conf		*c;
	FILE			*f;
	char			*s;
	size_t			 i;

	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_defuse(s, size, "@include");
	fuzz_defuse(s, size, "/dev");
	fuzz_defuse(s, size, "/proc");
	fuzz_defuse(s, size, "/sys");
	fuzz_defuse(s, size, "/run");
	if ((f = fopen(fuzz_file, "w")) == NULL ||
	    fwrite(s, 1, size, f) != size || fclose(f) != 0) {
		perror("conf-fuzzer: write");
		exit(1);
	}
	free(s);
	c = conf_load(fuzz_file, &msgs);
	fuzz_touch(msgs.errors, msgs.nerrors);
	fuzz_touch(msgs.warnings, msgs.nwarnings);
	if (c != NULL) {
		for (i = 0; i < c->nmailboxes; i++) {
			if (conf_find_mailbox(c, c->mailboxes[i].name) == NULL)
				abort();
		}
		conf_free(c);
	}
	conf_msgs_free(&msgs);
	return (0);
}
