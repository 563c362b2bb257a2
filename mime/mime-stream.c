/*
 * mime-stream.c: the pull stream handed to the payload callback.
 *
 * A stream is rebuilt from its description (a buffer plus a list of layers,
 * see mime_p.h) whenever it starts or is rewound.  Reading pulls from the top
 * stage, which pulls from the one below, down to the buffer in memory, so
 * the decompressed data is never held whole.  Every decompressing stage
 * counts its input and output and stops with an error as soon as the output
 * passes max_payload, or passes the ratio cap once it is over 8 MiB; sizes
 * that the container declares (gzip ISIZE, zip headers) are never trusted.
 *
 * Gzip is inflated with zlib's automatic header detection; at Z_STREAM_END
 * the stage looks at what is left: another gzip member is inflated too,
 * anything else is trailing garbage (Mimecast adds a CRLF) and ignored.
 *
 * The first bytes are peeked for sniffing and kept for the first read.
 * The SHA-256 and the byte count cover exactly what was handed out.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "mime/mime_p.h"

static int	 stream_open(struct mime_stream *, char **);
static void	 stream_close(struct mime_stream *);
static int	 stage_open(struct mime_stream *, struct mime_stage *, char **);
static void	 stage_close(struct mime_stage *);
static ssize_t	 stage_read(struct mime_stream *, struct mime_stage *,
		    unsigned char *, size_t, char **);
static ssize_t	 stage_read_mem(struct mime_stage *, unsigned char *, size_t);
static ssize_t	 stage_read_inflate(struct mime_stream *, struct mime_stage *,
		    unsigned char *, size_t, char **);
static ssize_t	 stage_read_zip(struct mime_stream *, struct mime_stage *,
		    unsigned char *, size_t, char **);
static int	 inflate_fill(struct mime_stream *, struct mime_stage *,
		    char **);
static int	 inflate_next_member(struct mime_stream *,
		    struct mime_stage *, char **);
static int	 stage_check_caps(struct mime_stream *, struct mime_stage *,
		    char **);
static ssize_t	 stream_pull(struct mime_stream *, unsigned char *, size_t,
		    char **);
static ssize_t	 stream_fail(struct mime_stream *, char *, char **);

/* Name a layer for causes and container strings. */
const char *
mime_layer_name(const struct mime_layer *l)
{
	switch (l->type) {
	case MIME_STAGE_INFLATE:
		return (l->gzip ? "gzip" : "zlib");
	case MIME_STAGE_ZIP:
		return ("zip");
	default:
		return ("inline");
	}
}

/* Build a stream over mem (borrowed: it must outlive the stream). */
struct mime_stream *
mime_stream_new(const unsigned char *mem, size_t memlen,
    const struct mime_layer *layers, unsigned nlayers,
    const struct mime_limits *lim, char **cause)
{
	struct mime_stream	*s;

	s = xcalloc(1, sizeof *s);
	s->mem = mem;
	s->memlen = memlen;
	s->nlayers = nlayers;
	if (nlayers != 0) {
		s->layers = xreallocarray(NULL, nlayers, sizeof *s->layers);
		memcpy(s->layers, layers, nlayers * sizeof *s->layers);
	}
	s->max_payload = lim->max_payload;
	s->max_ratio = lim->max_ratio;
	s->sha = mime_sha_new();
	if (stream_open(s, cause) == -1) {
		mime_stream_free(s);
		return (NULL);
	}
	return (s);
}

void
mime_stream_free(struct mime_stream *s)
{
	if (s == NULL)
		return;
	stream_close(s);
	mime_sha_free(s->sha);
	free(s->layers);
	free(s->error);
	free(s);
}

/* Create the stages bottom-up. */
static int
stream_open(struct mime_stream *s, char **cause)
{
	unsigned	 i;

	s->stages = xcalloc(s->nlayers + 1, sizeof *s->stages);
	s->stages[0].layer.type = MIME_STAGE_MEM;
	s->stages[0].mem = s->mem;
	s->stages[0].memlen = s->memlen;
	for (i = 1; i <= s->nlayers; i++) {
		s->stages[i].layer = s->layers[i - 1];
		s->stages[i].lower = &s->stages[i - 1];
		if (stage_open(s, &s->stages[i], cause) == -1)
			return (-1);
	}
	return (0);
}

static void
stream_close(struct mime_stream *s)
{
	unsigned	 i;

	if (s->stages == NULL)
		return;
	for (i = 0; i <= s->nlayers; i++)
		stage_close(&s->stages[i]);
	free(s->stages);
	s->stages = NULL;
}

static int
stage_open(struct mime_stream *s, struct mime_stage *st, char **cause)
{
	struct archive_entry	*ent = NULL;
	unsigned		 i;
	int			 r;

	(void)s;
	switch (st->layer.type) {
	case MIME_STAGE_INFLATE:
		st->in = xmalloc(MIME_INBUF);
		if (inflateInit2(&st->z, 15 + 32) != Z_OK)
			fatalx("inflateInit2 failed");
		st->zinit = 1;
		return (0);
	case MIME_STAGE_ZIP:
		if (st->lower->layer.type != MIME_STAGE_MEM)
			fatalx("%s: zip above a stream", __func__);
		if ((st->ar = archive_read_new()) == NULL)
			fatalx("archive_read_new: out of memory");
		archive_read_support_format_zip(st->ar);
		if (archive_read_open_memory(st->ar, st->lower->mem,
		    st->lower->memlen) != ARCHIVE_OK)
			goto fail;
		for (i = 0; i <= st->layer.index; i++) {
			r = archive_read_next_header(st->ar, &ent);
			if (r == ARCHIVE_EOF) {
				xasprintf(cause, "zip: entry %u missing",
				    st->layer.index);
				return (-1);
			}
			if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
				goto fail;
		}
		if (archive_entry_is_encrypted(ent)) {
			xasprintf(cause, "zip: entry is encrypted");
			return (-1);
		}
		st->in_bytes = st->lower->memlen;
		return (0);
	default:
		return (0);
	}

fail:
	xasprintf(cause, "zip: %s", archive_error_string(st->ar) != NULL ?
	    archive_error_string(st->ar) : "cannot read archive");
	return (-1);
}

static void
stage_close(struct mime_stage *st)
{
	if (st->zinit)
		inflateEnd(&st->z);
	st->zinit = 0;
	free(st->in);
	st->in = NULL;
	if (st->ar != NULL)
		archive_read_free(st->ar);
	st->ar = NULL;
}

static ssize_t
stage_read(struct mime_stream *s, struct mime_stage *st, unsigned char *buf,
    size_t len, char **cause)
{
	switch (st->layer.type) {
	case MIME_STAGE_MEM:
		return (stage_read_mem(st, buf, len));
	case MIME_STAGE_INFLATE:
		return (stage_read_inflate(s, st, buf, len, cause));
	case MIME_STAGE_ZIP:
		return (stage_read_zip(s, st, buf, len, cause));
	}
	fatalx("%s: bad stage", __func__);
}

static ssize_t
stage_read_mem(struct mime_stage *st, unsigned char *buf, size_t len)
{
	size_t	 n;

	n = st->memlen - st->off;
	if (n == 0)
		return (0);
	if (n > len)
		n = len;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	memcpy(buf, st->mem + st->off, n);
	st->off += n;
	return ((ssize_t)n);
}

/* Refill the inflate input from the stage below, keeping what is left. */
static int
inflate_fill(struct mime_stream *s, struct mime_stage *st, char **cause)
{
	size_t	 left;
	ssize_t	 n;

	left = st->z.avail_in;
	if (left != 0 && st->z.next_in != st->in)
		memmove(st->in, st->z.next_in, left);
	st->z.next_in = st->in;
	n = stage_read(s, st->lower, st->in + left, MIME_INBUF - left, cause);
	if (n == -1)
		return (-1);
	if (n == 0)
		st->lower_eof = 1;
	st->z.avail_in = left + (size_t)n;
	st->in_bytes += (uint64_t)n;
	return (0);
}

/*
 * After Z_STREAM_END: go on with the next gzip member, or stop and ignore
 * whatever follows.
 */
static int
inflate_next_member(struct mime_stream *s, struct mime_stage *st,
    char **cause)
{
	if (!st->layer.gzip) {
		st->done = 1;
		return (0);
	}
	while (st->z.avail_in < 2 && !st->lower_eof) {
		if (inflate_fill(s, st, cause) == -1)
			return (-1);
	}
	if (st->z.avail_in >= 2 && st->z.next_in[0] == 0x1f &&
	    st->z.next_in[1] == 0x8b) {
		if (inflateReset(&st->z) != Z_OK)
			fatalx("inflateReset failed");
		return (0);
	}
	st->done = 1;
	return (0);
}

static ssize_t
stage_read_inflate(struct mime_stream *s, struct mime_stage *st,
    unsigned char *buf, size_t len, char **cause)
{
	const char	*name = mime_layer_name(&st->layer);
	size_t		 produced;
	int		 ret;

	if (len > UINT_MAX)
		len = UINT_MAX;
	st->z.next_out = buf;
	st->z.avail_out = (uInt)len;
	produced = 0;
	while (!st->done && produced == 0) {
		if (st->z.avail_in == 0 && !st->lower_eof &&
		    inflate_fill(s, st, cause) == -1)
			return (-1);
		ret = inflate(&st->z, Z_NO_FLUSH);
		produced = len - st->z.avail_out;
		switch (ret) {
		case Z_STREAM_END:
			if (inflate_next_member(s, st, cause) == -1)
				return (-1);
			break;
		case Z_OK:
			break;
		case Z_BUF_ERROR:
			if (st->z.avail_in == 0 && st->lower_eof) {
				xasprintf(cause, "%s: unexpected end of data",
				    name);
				return (-1);
			}
			if (st->z.avail_in != 0 && produced == 0) {
				xasprintf(cause, "%s: no progress", name);
				return (-1);
			}
			break;
		case Z_MEM_ERROR:
			fatalx("inflate: out of memory");
		default:
			xasprintf(cause, "%s: %s", name, st->z.msg != NULL ?
			    st->z.msg : "data error");
			return (-1);
		}
	}
	st->out_bytes += produced;
	if (stage_check_caps(s, st, cause) == -1)
		return (-1);
	return ((ssize_t)produced);
}

static ssize_t
stage_read_zip(struct mime_stream *s, struct mime_stage *st,
    unsigned char *buf, size_t len, char **cause)
{
	la_ssize_t	 n;

	n = archive_read_data(st->ar, buf, len);
	if (n < 0) {
		xasprintf(cause, "zip: %s", archive_error_string(st->ar) !=
		    NULL ? archive_error_string(st->ar) : "read error");
		return (-1);
	}
	st->out_bytes += (uint64_t)n;
	if (stage_check_caps(s, st, cause) == -1)
		return (-1);
	return ((ssize_t)n);
}

/* The byte and ratio caps of a decompressing stage. */
static int
stage_check_caps(struct mime_stream *s, struct mime_stage *st, char **cause)
{
	const char	*name = mime_layer_name(&st->layer);
	uint64_t	 in;

	if (st->out_bytes > s->max_payload) {
		xasprintf(cause, "%s payload over %llu bytes", name,
		    (unsigned long long)s->max_payload);
		return (-1);
	}
	in = st->in_bytes;
	if (st->layer.type == MIME_STAGE_INFLATE)
		in -= st->z.avail_in;	/* fed but not consumed yet */
	if (in == 0)
		in = 1;
	if (st->out_bytes > MIME_RATIO_FROM &&
	    st->out_bytes / in >= s->max_ratio) {
		xasprintf(cause, "%s payload over %u:1 compression ratio",
		    name, s->max_ratio);
		return (-1);
	}
	return (0);
}

/* Read from the top stage. */
static ssize_t
stream_pull(struct mime_stream *s, unsigned char *buf, size_t len,
    char **cause)
{
	return (stage_read(s, &s->stages[s->nlayers], buf, len, cause));
}

/*
 * Fill the peek buffer once (up to MIME_PEEK bytes) and point at it.
 * Returns the number of bytes peeked or -1 with *cause.
 */
ssize_t
mime_stream_peek(struct mime_stream *s, const unsigned char **p, char **cause)
{
	ssize_t	 n;

	if (s->error != NULL) {
		*cause = xstrdup(s->error);
		return (-1);
	}
	if (s->peeklen == 0 && s->bytes == 0) {
		while (s->peeklen < sizeof s->peek) {
			n = stream_pull(s, s->peek + s->peeklen,
			    sizeof s->peek - s->peeklen, cause);
			if (n == -1) {
				s->error = xstrdup(*cause);
				return (-1);
			}
			if (n == 0)
				break;
			s->peeklen += (size_t)n;
		}
	}
	*p = s->peek;
	return ((ssize_t)s->peeklen);
}

/* Record a failure: later reads fail the same way. */
static ssize_t
stream_fail(struct mime_stream *s, char *msg, char **cause)
{
	free(s->error);
	s->error = msg;
	*cause = xstrdup(msg);
	return (-1);
}

/* Read decompressed payload bytes (see mime.h). */
ssize_t
mime_stream_read(void *arg, char *buf, size_t len, char **cause)
{
	struct mime_stream	*s = arg;
	ssize_t			 n;
	size_t			 avail;
	char			*msg;

	if (s->error != NULL) {
		*cause = xstrdup(s->error);
		return (-1);
	}
	if (len == 0)
		return (0);
	if (s->peekoff < s->peeklen) {
		avail = s->peeklen - s->peekoff;
		n = (ssize_t)(avail < len ? avail : len);
		memcpy(buf, s->peek + s->peekoff, (size_t)n);
		s->peekoff += (size_t)n;
	} else {
		if (len > SSIZE_MAX)
			len = SSIZE_MAX;
		msg = NULL;
		n = stream_pull(s, (unsigned char *)buf, len, &msg);
		if (n == -1)
			return (stream_fail(s, msg, cause));
	}
	if ((uint64_t)n > s->max_payload - s->bytes) {
		xasprintf(&msg, "payload over %llu bytes",
		    (unsigned long long)s->max_payload);
		return (stream_fail(s, msg, cause));
	}
	s->bytes += (uint64_t)n;
	mime_sha_add(s->sha, buf, (size_t)n);
	return (n);
}

/* Byte count and SHA-256 of everything read so far. */
void
mime_stream_stats(struct mime_stream *s, uint64_t *bytes,
    unsigned char sha256[32])
{
	if (bytes != NULL)
		*bytes = s->bytes;
	if (sha256 != NULL)
		mime_sha_peek(s->sha, sha256);
}

/* Start again from the first byte, with fresh decompressors. */
int
mime_stream_rewind(struct mime_stream *s, char **cause)
{
	stream_close(s);
	free(s->error);
	s->error = NULL;
	s->peeklen = s->peekoff = 0;
	s->bytes = 0;
	mime_sha_reset(s->sha);
	if (stream_open(s, cause) == -1) {
		s->error = xstrdup(*cause);
		return (-1);
	}
	return (0);
}
