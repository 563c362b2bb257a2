/*
 * sink-raw.c: raw payloads (table report_raw) and reparse transactions.
 *
 * Writing: sink_raw_append compresses the payload bytes as the agent reads
 * them (zlib deflate with a gzip header) into a buffer of SINK_RAW_CHUNK
 * bytes; each time the buffer fills it becomes one report_raw row
 * (file_pk, seq, data), sent as a binary parameter.  sink_file_end
 * finishes the stream (sink_rawout_finish).  Memory: one zlib state and
 * one chunk, whatever the payload's size.
 *
 * Reading: sink_raw_open checks that the chunks are all there; sink_raw_read
 * fetches them one at a time (binary result) and inflates into the
 * parser's buffer, refusing more output than report_file.payload_bytes.
 *
 * Reparse: sink_reparse_begin opens a transaction and locks the payload's
 * report_file row; the report callbacks then work in place (see
 * sink_reparse_head in sink-report.c); sink_reparse_commit writes the
 * payload's error text and commits.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <zlib.h>

#include "common/common.h"
#include "sink/sink.h"
#include "sink/sink_p.h"

/* A payload being compressed into report_raw. */
struct sink_rawout {
	z_stream	 z;
	unsigned char	*out;		/* SINK_RAW_CHUNK bytes */
	size_t		 used;
	int		 seq;		/* next chunk's seq */
};

/* A payload being read back. */
struct sink_raw {
	struct sink	*s;
	char		 file_pk[24];
	z_stream	 z;
	PGresult	*chunk;		/* the chunk being inflated */
	int		 seq;		/* next chunk to fetch */
	int		 nchunks;
	uint64_t	 out;		/* bytes produced so far */
	uint64_t	 max;		/* payload_bytes, or UINT64_MAX */
	int		 eof;
	char		 kind[8];	/* report_file.kind */
	unsigned char	 sha[32];	/* report_file.payload_sha256 */
	int		 has_sha;
};

static int	sink_rawout_flush(struct sink *, char **);
static int	sink_rawout_deflate(struct sink *, int, char **);
static int	sink_raw_fetch(struct sink_raw *, char **);
static int	sink_raw_check(struct sink_raw *, char **);
static int	sink_hex_sha(const char *, unsigned char *);

/* Turn storing raw payloads on or off (on by default). */
void
sink_set_store_raw(struct sink *s, int on)
{
	s->store_raw = on != 0;
}

/* Drop an unfinished raw stream (its rows go with the rollback). */
void
sink_rawout_discard(struct sink *s)
{
	struct sink_rawout	*ro = s->rawout;

	if (ro == NULL)
		return;
	deflateEnd(&ro->z);
	free(ro->out);
	free(ro);
	s->rawout = NULL;
}

/*
 * Write the buffered compressed bytes as the next chunk, without waiting
 * (libpq copies the parameter, so the buffer may be reused at once).
 */
static int
sink_rawout_flush(struct sink *s, char **cause)
{
	struct sink_rawout	*ro = s->rawout;
	struct sink_params	 p;
	int			 rc;

	if (ro->used == 0)
		return (0);
	if (sink_file_flush(s, cause) != 0)
		return (-1);
	sink_params_init(&p);
	sink_param_str(&p, s->file_pk);
	sink_param_int(&p, ro->seq);
	sink_param_bin(&p, ro->out, ro->used);
	rc = sink_send(s, SINK_ST_RAW_CHUNK, &p, SINK_CHK_NONE, 0, NULL, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	ro->seq++;
	ro->used = 0;
	return (0);
}

/*
 * Run deflate over the pending input with flush (Z_NO_FLUSH or
 * Z_FINISH), writing every chunk that fills up.
 */
static int
sink_rawout_deflate(struct sink *s, int flush, char **cause)
{
	struct sink_rawout	*ro = s->rawout;
	int			 zr;

	for (;;) {
		ro->z.next_out = ro->out + ro->used;
		ro->z.avail_out = SINK_RAW_CHUNK - ro->used;
		zr = deflate(&ro->z, flush);
		if (zr == Z_STREAM_ERROR)
			fatalx("%s: deflate: stream error", __func__);
		ro->used = SINK_RAW_CHUNK - ro->z.avail_out;
		if (ro->used == SINK_RAW_CHUNK &&
		    sink_rawout_flush(s, cause) != 0)
			return (-1);
		if (flush == Z_FINISH) {
			if (zr == Z_STREAM_END)
				return (0);
		} else if (ro->z.avail_in == 0 && ro->z.avail_out != 0)
			return (0);
	}
}

/* Compress and store the next bytes of the open payload. */
int
sink_raw_append(struct sink *s, const void *data, size_t len, char **cause)
{
	struct sink_rawout	*ro;
	const unsigned char	*p = data;
	size_t			 n;

	if (s->file_pk[0] == '\0' || s->reparse)
		fatalx("%s: no payload open", __func__);
	if (!s->store_raw || len == 0)
		return (0);
	if ((ro = s->rawout) == NULL) {
		ro = xcalloc(1, sizeof *ro);
		if (deflateInit2(&ro->z, 6, Z_DEFLATED, 15 + 16, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK)
			fatalx("%s: deflateInit2 failed", __func__);
		ro->out = xmalloc(SINK_RAW_CHUNK);
		s->rawout = ro;
	}
	while (len > 0) {
		n = len > UINT32_MAX ? UINT32_MAX : len;
		ro->z.next_in = (unsigned char *)(uintptr_t)p;
		ro->z.avail_in = (uInt)n;
		if (sink_rawout_deflate(s, Z_NO_FLUSH, cause) != 0) {
			sink_rawout_discard(s);
			return (-1);
		}
		p += n;
		len -= n;
	}
	return (0);
}

/*
 * Finish the payload's raw stream, if there is one: the full chunks are
 * sent, the last one stays for sink_file_end's statement
 * (sink_rawout_last).
 */
int
sink_rawout_finish(struct sink *s, char **cause)
{
	if (s->rawout == NULL)
		return (0);
	s->rawout->z.next_in = NULL;
	s->rawout->z.avail_in = 0;
	return (sink_rawout_deflate(s, Z_FINISH, cause));
}

/*
 * The chunk sink_rawout_finish left: 1 with its bytes (valid until
 * sink_rawout_discard) and number, 0 when there is none.
 */
int
sink_rawout_last(struct sink *s, const unsigned char **data, size_t *len,
    long long *seq)
{
	struct sink_rawout	*ro = s->rawout;

	if (ro == NULL || ro->used == 0)
		return (0);
	*data = ro->out;
	*len = ro->used;
	*seq = ro->seq;
	return (1);
}

/* List the payloads to reparse. */
int
sink_raw_list(struct sink *s, const struct sink_raw_filter *f, int64_t **ids,
    size_t *n, char **cause)
{
	struct sink_params	 p;
	struct sink_array	 a;
	PGresult		*res;
	char			*lit;
	size_t			 i;
	int			 rows, r, rc;

	*ids = NULL;
	*n = 0;
	sink_params_init(&p);
	sink_param_str(&p, f->all ? "true" : "false");
	if (f->since == (time_t)-1)
		sink_param_str(&p, NULL);
	else
		sink_param_int(&p, (long long)f->since);
	if (f->nreport_ids == 0)
		sink_param_str(&p, NULL);
	else {
		sink_array_init(&a);
		for (i = 0; i < f->nreport_ids; i++)
			sink_array_add(&a, f->report_ids[i]);
		if ((lit = sink_array_end(&a, cause)) == NULL) {
			sink_fail_data(s);
			sink_params_free(&p);
			return (-1);
		}
		sink_param_own(&p, lit);
	}
	rc = sink_exec(s, SINK_ST_RAW_LIST, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	rows = PQntuples(res);
	if (rows > 0)
		*ids = xcalloc(rows, sizeof **ids);
	for (r = 0; r < rows; r++)
		(*ids)[r] = strtoll(PQgetvalue(res, r, 0), NULL, 10);
	*n = rows;
	PQclear(res);
	return (0);
}

/* 64 hex digits into 32 bytes; -1 when it is not that. */
static int
sink_hex_sha(const char *hex, unsigned char *out)
{
	unsigned int	v;
	int		i;

	if (strlen(hex) != 64)
		return (-1);
	for (i = 0; i < 32; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return (-1);
		out[i] = (unsigned char)v;
	}
	return (0);
}

/* What the payload is: "xml", "json" or "arf" (report_file.kind). */
const char *
sink_raw_kind(const struct sink_raw *r)
{
	return (r->kind);
}

/* report_file.payload_sha256 into out: 0, or -1 when it is not known. */
int
sink_raw_sha256(const struct sink_raw *r, unsigned char out[32])
{
	if (!r->has_sha)
		return (-1);
	memcpy(out, r->sha, 32);
	return (0);
}

/* How many chunks, whether they are all there, and the size cap. */
static int
sink_raw_check(struct sink_raw *r, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	int			 rc, count, last;

	sink_params_init(&p);
	sink_param_str(&p, r->file_pk);
	rc = sink_exec(r->s, SINK_ST_RAW_CHECK, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	count = atoi(PQgetvalue(res, 0, 0));
	last = atoi(PQgetvalue(res, 0, 1));
	if (!PQgetisnull(res, 0, 2))
		r->max = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
	snprintf(r->kind, sizeof r->kind, "%s", PQgetvalue(res, 0, 3));
	r->has_sha = sink_hex_sha(PQgetvalue(res, 0, 4), r->sha) == 0;
	PQclear(res);
	if (count == 0 || last != count - 1) {
		xasprintf(cause, "open raw payload %s: %s", r->file_pk,
		    count == 0 ? "no raw data stored" : "chunks missing");
		sink_fail_data(r->s);
		return (-1);
	}
	r->nchunks = count;
	return (0);
}

/* Open a stored payload for reading. */
struct sink_raw *
sink_raw_open(struct sink *s, int64_t file_pk, char **cause)
{
	struct sink_raw	*r;

	r = xcalloc(1, sizeof *r);
	r->s = s;
	r->max = UINT64_MAX;
	snprintf(r->file_pk, sizeof r->file_pk, "%" PRId64, file_pk);
	if (sink_raw_check(r, cause) != 0) {
		free(r);
		return (NULL);
	}
	if (inflateInit2(&r->z, 15 + 16) != Z_OK)
		fatalx("%s: inflateInit2 failed", __func__);
	return (r);
}

/* Fetch the next chunk as the inflater's input. */
static int
sink_raw_fetch(struct sink_raw *r, char **cause)
{
	struct sink_params	p;
	int			rc;

	PQclear(r->chunk);
	r->chunk = NULL;
	sink_params_init(&p);
	sink_param_str(&p, r->file_pk);
	sink_param_int(&p, r->seq);
	rc = sink_exec(r->s, SINK_ST_RAW_READ, &p, &r->chunk, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	if (PQntuples(r->chunk) != 1) {
		xasprintf(cause, "read raw payload %s: chunk %d vanished",
		    r->file_pk, r->seq);
		sink_fail_data(r->s);
		return (-1);
	}
	r->seq++;
	r->z.next_in = (unsigned char *)PQgetvalue(r->chunk, 0, 0);
	r->z.avail_in = (uInt)PQgetlength(r->chunk, 0, 0);
	return (0);
}

/* report_read_fn: up to len decompressed bytes, 0 at the end, -1. */
ssize_t
sink_raw_read(void *stream, char *buf, size_t len, char **cause)
{
	struct sink_raw	*r = stream;
	size_t		 got;
	int		 zr;

	if (r->eof || len == 0)
		return (0);
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	r->z.next_out = (unsigned char *)buf;
	r->z.avail_out = (uInt)len;
	while (r->z.avail_out == len) {
		if (r->z.avail_in == 0) {
			if (r->seq >= r->nchunks) {
				xasprintf(cause, "read raw payload %s: gzip"
				    " stream truncated", r->file_pk);
				return (-1);
			}
			if (sink_raw_fetch(r, cause) != 0)
				return (-1);
		}
		zr = inflate(&r->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			r->eof = 1;
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			xasprintf(cause, "read raw payload %s: %s", r->file_pk,
			    r->z.msg ? r->z.msg : "inflate failed");
			return (-1);
		}
	}
	got = len - r->z.avail_out;
	r->out += got;
	if (r->out > r->max) {
		xasprintf(cause, "read raw payload %s: longer than its %"
		    PRIu64 " bytes", r->file_pk, r->max);
		return (-1);
	}
	return ((ssize_t)got);
}

/* Close a stored payload's stream. */
void
sink_raw_close(struct sink_raw *r)
{
	if (r == NULL)
		return;
	inflateEnd(&r->z);
	PQclear(r->chunk);
	free(r);
}

/* Start replacing what was derived from one payload. */
int
sink_reparse_begin(struct sink *s, int64_t file_pk, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	int			 rc;

	if (s->in_msg || s->in_batch)
		fatalx("%s: inside a transaction or a batch", __func__);
	if (sink_cmd(s, SINK_ST_BEGIN, cause) != 0)
		return (-1);
	s->in_msg = s->reparse = 1;
	sink_params_init(&p);
	sink_param_int(&p, file_pk);
	rc = sink_exec(s, SINK_ST_REPARSE_FILE, &p, &res, cause);
	sink_params_free(&p);
	if (rc == 0 && PQntuples(res) != 1) {
		xasprintf(cause, "lock reparsed payload: no payload %" PRId64,
		    file_pk);
		sink_fail_data(s);
		PQclear(res);
		rc = -1;
	}
	if (rc != 0) {
		sink_reparse_rollback(s);
		return (-1);
	}
	snprintf(s->file_pk, sizeof s->file_pk, "%s", PQgetvalue(res, 0, 0));
	snprintf(s->message_pk, sizeof s->message_pk, "%s",
	    PQgetvalue(res, 0, 1));
	s->report_pk[0] = '\0';
	PQclear(res);
	return (0);
}

/* Write the payload's error text and commit the reparse. */
int
sink_reparse_commit(struct sink *s, const char *error, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	int			 rc;

	if (!s->reparse)
		fatalx("%s: no reparse", __func__);
	sink_params_init(&p);
	sink_param_str(&p, s->file_pk);
	sink_param_str(&p, error);
	rc = sink_exec(s, SINK_ST_FILE_ERROR, &p, NULL, cause);
	sink_params_free(&p);
	if (rc == 0)
		rc = sink_rollup_send(s, cause);
	if (rc == 0)
		rc = sink_exec(s, SINK_ST_COMMIT, NULL, &res, cause);
	if (rc == 0) {
		if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
			xasprintf(cause, "commit: transaction was rolled"
			    " back");
			if (s->err == SINK_ERR_NONE)
				sink_fail_data(s);
			rc = -1;
		}
		PQclear(res);
	}
	if (rc != 0) {
		sink_reparse_rollback(s);
		return (-1);
	}
	s->in_msg = s->reparse = 0;
	s->message_pk[0] = s->file_pk[0] = s->report_pk[0] = '\0';
	return (0);
}

/* Roll a reparse back; harmless outside one. */
void
sink_reparse_rollback(struct sink *s)
{
	char	*c = NULL;

	if (!s->reparse)
		return;
	sink_rollback(s, SINK_ST_ROLLBACK, &c);
	free(c);
	s->in_msg = s->reparse = 0;
	s->message_pk[0] = s->file_pk[0] = s->report_pk[0] = '\0';
}
