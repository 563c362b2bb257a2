/*
 * tst_src.h: what the report module's unit tests (tst_tlsrpt.c, tst_arf.c)
 * share: a read callback over memory in chunks, a corpus file read whole,
 * and a parse status as an int for CHECK_INT.  Include after tst.h.
 */
#ifndef TST_SRC_H
#define TST_SRC_H

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "common/common.h"
#include "report/report.h"

/* A stream over memory in chunks, or a generated hostile input. */
struct src {
	const char	*data;
	size_t		 len;
	size_t		 off;
	size_t		 chunk;
	uint64_t	 gen;		/* bytes of a generated string */
	uint64_t	 given;		/* bytes handed out */
};

static inline ssize_t
src_read(void *arg, char *buf, size_t len, char **cause)
{
	struct src	*s = arg;
	size_t		 n;

	(void)cause;
	n = s->len - s->off;
	if (n > len)
		n = len;
	if (s->chunk != 0 && n > s->chunk)
		n = s->chunk;
	memcpy(buf, s->data + s->off, n);
	s->off += n;
	s->given += n;
	return ((ssize_t)n);
}

/* A corpus file, gunzipped when it is gzip (zlib reads plain files too). */
static inline char *
slurp(const char *corpus, const char *rel, size_t *len)
{
	char	*path, *data = NULL, chunk[65536];
	gzFile	 gz;
	size_t	 have = 0;
	int	 n;

	xasprintf(&path, "%s/%s", corpus, rel);
	if ((gz = gzopen(path, "rb")) == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		free(path);
		tst_failures++;
		return (NULL);
	}
	while ((n = gzread(gz, chunk, sizeof chunk)) > 0) {
		data = xrealloc(data, have + (size_t)n + 1);
		memcpy(data + have, chunk, (size_t)n);
		have += (size_t)n;
	}
	gzclose(gz);
	free(path);
	if (data == NULL)
		data = xstrdup("");
	data[have] = '\0';
	*len = have;
	return (data);
}

/* A status as an int, for CHECK_INT. */
static inline int
st(enum report_status s)
{
	return (s);
}

/* Append a formatted line to the buf b, with char *l for scratch. */
#define OUT(...) do {							\
	xasprintf(&l, __VA_ARGS__);					\
	buf_add(&b, l, strlen(l));					\
	free(l);							\
} while (0)
#define S(x) ((x) != NULL ? (x) : "NULL")

#endif
