/*
 * mime-fuzzer.c: libFuzzer target for the mime module.  Each input is
 * scanned with mime_scan_all as a message or a bare payload, and every
 * payload stream is read to its end, so the MIME walk, the shape check,
 * the sniffing and every decompressing stage (gzip, zlib, zip) see it.
 * The caps are scaled down so that one input never takes long.
 *
 * Build: ./configure CC=clang --enable-fuzzing && make tests/fuzz/mime-fuzzer
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "mime/mime.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 fuzz_payload(struct mime_payload *, void *, char **);
static int	 fuzz_facts(const struct mime_info *, void *);
static void	 fuzz_bad(const struct mime_payload *, const char *, void *);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(LOG_TO_STDERR, 0);
	mime_init();
	return (0);
}

/* Read the payload to its end; rewind once and read the start again. */
static int
fuzz_payload(struct mime_payload *p, void *arg, char **cause)
{
	char		 buf[16384], *rc = NULL;
	ssize_t		 n;
	uint64_t	 bytes;
	unsigned char	 sha[32];

	(void)arg;
	(void)cause;
	while ((n = mime_stream_read(p->stream, buf, sizeof buf, &rc)) > 0)
		;
	free(rc);
	rc = NULL;
	mime_stream_stats(p->stream, &bytes, sha);
	if (mime_stream_rewind(p->stream, &rc) == 0)
		(void)mime_stream_read(p->stream, buf, sizeof buf, &rc);
	free(rc);
	return (0);
}

/* Read every fact, as the ledger does; stop when *arg says so. */
static int
fuzz_facts(const struct mime_info *mi, void *arg)
{
	const int	*stop = arg;
	size_t		 n = 0;

	if (mi->message_id != NULL)
		n += strlen(mi->message_id);
	if (mi->from != NULL)
		n += strlen(mi->from);
	if (mi->subject != NULL)
		n += strlen(mi->subject);
	if (mi->auth_results != NULL)
		n += strlen(mi->auth_results);
	return (*stop || n == SIZE_MAX ? -1 : 0);
}

static void
fuzz_bad(const struct mime_payload *p, const char *cause, void *arg)
{
	(void)p;
	(void)cause;
	(void)arg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_limits	 lim;
	struct mime_info	 info;
	char			*cause = NULL;
	int			 stop;

	mime_limits_default(&lim);
	lim.max_decoded = 4 * 1024 * 1024;
	lim.max_payload = 16 * 1024 * 1024;
	(void)mime_scan_all((const char *)data, size, &lim, &info,
	    fuzz_payload, fuzz_bad, NULL, &cause);
	mime_info_free(&info);
	free(cause);
	cause = NULL;
	/* The facts first, then go on or stop (the input's last byte says). */
	stop = size > 0 && (data[size - 1] & 1);
	(void)mime_scan_facts((const char *)data, size, &lim, fuzz_facts,
	    fuzz_payload, fuzz_bad, &stop, &cause);
	free(cause);
	return (0);
}
