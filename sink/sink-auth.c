/*
 * sink-auth.c: who sent a report mail, stored (message_auth,
 * message_signature, report.authenticity) and the whole message kept
 * gzip'd (message_raw) so that it can be checked again.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "common/common.h"
#include "sink/sink.h"
#include "sink/sink_p.h"

static void	auth_params(struct sink_params *, const char *,
		    const struct sink_auth_info *);
static int	auth_arrays(struct sink_params *,
		    const struct sink_auth_info *, char **);
static int	raw_chunk(struct sink *, const char *, int,
		    const unsigned char *, size_t, char **);

static void
auth_params(struct sink_params *p, const char *pk,
    const struct sink_auth_info *a)
{
	sink_param_str(p, pk);
	sink_param_int(p, (long long)a->checked_at);
	sink_param_str(p, a->from_domain);
	sink_param_int(p, a->from_count);
	sink_param_int(p, a->sigs_seen);
	sink_param_str(p, a->dmarc);
	sink_param_str(p, a->dmarc_via);
	sink_param_str(p, a->alignment);
	sink_param_str(p, a->ar_id);
	sink_param_str(p, a->ar_dkim);
	sink_param_str(p, a->ar_dkim_domain);
	sink_param_str(p, a->ar_spf);
	sink_param_str(p, a->ar_dmarc);
	sink_param_str(p, a->ar_dmarc_from);
}

/* The arrays: authenticated domains, signatures, report verdicts. */
static int
auth_arrays(struct sink_params *p, const struct sink_auth_info *a,
    char **cause)
{
	struct sink_array	 arr[8];
	const struct sink_sig_info *sg;
	char			*lit;
	size_t			 i, j;

	sink_array_init(&arr[0]);
	for (i = 0; i < a->nauth; i++)
		sink_array_add(&arr[0], a->auth_domains[i]);
	if ((lit = sink_array_end(&arr[0], cause)) == NULL)
		return (-1);
	sink_param_own(p, lit);
	sink_param_str(p, a->reporter_domain);
	sink_param_str(p, a->reporter_matched < 0 ? NULL :
	    a->reporter_matched ? "true" : "false");
	sink_param_str(p, a->authenticity);
	sink_param_str(p, a->detail);
	for (j = 0; j < 8; j++)
		sink_array_init(&arr[j]);
	for (i = 0; i < a->nsigs; i++) {
		sg = &a->sigs[i];
		sink_array_add(&arr[0], sg->domain);
		sink_array_add(&arr[1], sg->selector);
		sink_array_add(&arr[2], sg->algorithm);
		sink_array_add(&arr[3], sg->result);
		sink_array_add(&arr[4], sg->error);
		if (sg->body_length < 0)
			sink_array_add(&arr[5], NULL);
		else
			sink_array_addint(&arr[5], sg->body_length);
		sink_array_add(&arr[6], sg->key_sha256);
		sink_array_add(&arr[7], sg->aligned);
	}
	for (j = 0; j < 8; j++) {
		if ((lit = sink_array_end(&arr[j], cause)) == NULL) {
			while (++j < 8)
				sink_array_free(&arr[j]);
			return (-1);
		}
		sink_param_own(p, lit);
	}
	sink_array_init(&arr[0]);
	sink_array_init(&arr[1]);
	for (i = 0; i < a->nreports; i++) {
		sink_array_add(&arr[0], a->report_ids[i]);
		sink_array_add(&arr[1], a->report_auth[i]);
	}
	for (j = 0; j < 2; j++) {
		if ((lit = sink_array_end(&arr[j], cause)) == NULL) {
			if (j == 0)
				sink_array_free(&arr[1]);
			return (-1);
		}
		sink_param_own(p, lit);
	}
	return (0);
}

int
sink_auth_store(struct sink *s, int64_t message_pk,
    const struct sink_auth_info *a, char **cause)
{
	struct sink_params	 p, c;
	char			 pk[24];
	int			 own, rc;

	if (message_pk == 0 && !s->in_msg)
		fatalx("%s: no message open", __func__);
	if (message_pk != 0 && (s->in_msg || s->in_batch))
		fatalx("%s: inside a transaction", __func__);
	if (message_pk == 0)
		snprintf(pk, sizeof pk, "%s", s->message_pk);
	else
		snprintf(pk, sizeof pk, "%" PRId64, message_pk);
	own = message_pk != 0;
	/* The verdict's values first: nothing is sent when they fail. */
	sink_params_init(&p);
	auth_params(&p, pk, a);
	if (auth_arrays(&p, a, cause) != 0) {
		sink_params_free(&p);
		sink_fail_data(s);
		return (-1);
	}
	if (!own && sink_led_open(s)) {
		/* Written with the batch's (sink-set.c). */
		sink_set_auth_hold(s, &p);
		rc = 0;
	} else if (own && sink_cmd(s, SINK_ST_BEGIN, cause) != 0) {
		sink_params_free(&p);
		return (-1);
	} else {
		sink_params_init(&c);
		sink_param_str(&c, pk);
		rc = sink_exec(s, SINK_ST_AUTH_CLEAR, &c, NULL, cause);
		sink_params_free(&c);
		if (rc == 0)
			rc = sink_exec(s, SINK_ST_AUTH_STORE, &p, NULL, cause);
	}
	sink_params_free(&p);
	/*
	 * A report whose authenticity changed moves its records between the
	 * rollup's rows (a trigger of 014 writes rollup_pending): flushed
	 * before the COMMIT, as records are.
	 */
	if (rc == 0)
		s->rollup_dirty = 1;
	if (own && rc == 0)
		rc = sink_rollup_send(s, cause);
	if (own && rc == 0)
		rc = sink_cmd(s, SINK_ST_COMMIT, cause);
	else if (own)
		sink_cmd_quiet(s, SINK_ST_ROLLBACK);
	return (rc);
}

static int
raw_chunk(struct sink *s, const char *pk, int seq, const unsigned char *d,
    size_t len, char **cause)
{
	struct sink_params	p;
	int			rc;

	sink_params_init(&p);
	sink_param_str(&p, pk);
	sink_param_int(&p, seq);
	sink_param_bin(&p, d, len);
	rc = sink_exec(s, SINK_ST_MSGRAW_CHUNK, &p, NULL, cause);
	sink_params_free(&p);
	return (rc);
}

int
sink_msg_raw_store(struct sink *s, const void *buf, size_t len, char **cause)
{
	z_stream	 z;
	unsigned char	*out;
	size_t		 left = len;
	int		 seq = 0, zr, rc = 0, flush;

	if (!s->in_msg || s->reparse)
		fatalx("%s: no message open", __func__);
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		fatalx("%s: deflateInit2 failed", __func__);
	out = xmalloc(SINK_RAW_CHUNK);
	z.next_in = (unsigned char *)(uintptr_t)buf;
	do {
		/* Feed at most 1 GiB at a time (avail_in is 32 bits). */
		z.avail_in = left > (1U << 30) ? (1U << 30) : (uInt)left;
		left -= z.avail_in;
		flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
		do {
			z.next_out = out;
			z.avail_out = SINK_RAW_CHUNK;
			zr = deflate(&z, flush);
			if (zr == Z_STREAM_ERROR)
				fatalx("%s: deflate: stream error", __func__);
			if (z.avail_out != SINK_RAW_CHUNK && rc == 0)
				rc = raw_chunk(s, s->message_pk, seq++, out,
				    SINK_RAW_CHUNK - z.avail_out, cause);
		} while (z.avail_out == 0 || (flush == Z_FINISH &&
		    zr != Z_STREAM_END));
	} while (left > 0);
	deflateEnd(&z);
	free(out);
	return (rc);
}

int
sink_msg_raw_read(struct sink *s, int64_t message_pk, uint64_t cap,
    char **buf, size_t *len, char **cause)
{
	struct sink_params	 p;
	struct buf		 b;
	PGresult		*res;
	z_stream		 z;
	unsigned char		 out[65536];
	int			 i, n, zr = Z_OK, rc;

	*buf = NULL;
	*len = 0;
	sink_params_init(&p);
	sink_param_int(&p, message_pk);
	rc = sink_exec(s, SINK_ST_MSGRAW_READ, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	if ((n = PQntuples(res)) == 0) {
		PQclear(res);
		return (0);
	}
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		fatalx("%s: inflateInit2 failed", __func__);
	buf_init(&b, (size_t)cap);
	for (i = 0; i < n && zr != Z_STREAM_END && rc == 0; i++) {
		z.next_in = (unsigned char *)PQgetvalue(res, i, 0);
		z.avail_in = (uInt)PQgetlength(res, i, 0);
		while (z.avail_in > 0 && zr != Z_STREAM_END && rc == 0) {
			z.next_out = out;
			z.avail_out = sizeof out;
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END &&
			    zr != Z_BUF_ERROR) {
				xasprintf(cause, "message %" PRId64 ": stored"
				    " copy: %s", message_pk, z.msg != NULL ?
				    z.msg : "inflate failed");
				rc = -1;
			} else if (buf_add(&b, out, sizeof out - z.avail_out)
			    != 0) {
				xasprintf(cause, "message %" PRId64 ": stored"
				    " copy over %" PRIu64 " bytes",
				    message_pk, cap);
				rc = -1;
			}
		}
	}
	inflateEnd(&z);
	PQclear(res);
	if (rc == 0 && zr != Z_STREAM_END) {
		xasprintf(cause, "message %" PRId64 ": stored copy truncated",
		    message_pk);
		rc = -1;
	}
	if (rc != 0) {
		buf_free(&b);
		return (-1);
	}
	buf_add(&b, "", 1);	/* room for a NUL the caller may want */
	*buf = buf_steal(&b, len);
	(*len)--;
	return (1);
}

int
sink_auth_list(struct sink *s, time_t since, int64_t file_pk, int64_t **pks,
    size_t *n, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	int			 i, rows, rc;

	*pks = NULL;
	*n = 0;
	sink_params_init(&p);
	if (since < 0)
		sink_param_str(&p, NULL);
	else
		sink_param_int(&p, (long long)since);
	if (file_pk == 0)
		sink_param_str(&p, NULL);
	else
		sink_param_int(&p, file_pk);
	rc = sink_exec(s, SINK_ST_AUTH_LIST, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	rows = PQntuples(res);
	if (rows > 0)
		*pks = xcalloc((size_t)rows, sizeof **pks);
	for (i = 0; i < rows; i++)
		(*pks)[i] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	*n = (size_t)rows;
	PQclear(res);
	return (0);
}

int
sink_auth_reports(struct sink *s, int64_t message_pk,
    struct sink_auth_report **out, size_t *n, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	struct sink_auth_report	*r;
	int			 i, rows, rc;

	*out = NULL;
	*n = 0;
	sink_params_init(&p);
	sink_param_int(&p, message_pk);
	rc = sink_exec(s, SINK_ST_AUTH_REPORTS, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	rows = PQntuples(res);
	if (rows > 0)
		*out = xcalloc((size_t)rows, sizeof **out);
	for (i = 0; i < rows; i++) {
		r = &(*out)[i];
		r->report_id = xstrdup(PQgetvalue(res, i, 0));
		r->org_email = PQgetisnull(res, i, 1) ? NULL :
		    xstrdup(PQgetvalue(res, i, 1));
		r->org_name = PQgetisnull(res, i, 2) ? NULL :
		    xstrdup(PQgetvalue(res, i, 2));
		r->authenticity = xstrdup(PQgetvalue(res, i, 3));
	}
	*n = (size_t)rows;
	PQclear(res);
	return (0);
}

void
sink_auth_reports_free(struct sink_auth_report *r, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(r[i].report_id);
		free(r[i].org_email);
		free(r[i].org_name);
		free(r[i].authenticity);
	}
	free(r);
}
