/*
 * pipeline.c: move one message from bytes to rows.
 *
 * agent/ is the only place that knows every module: mime_scan finds the
 * payloads, report_parse_xml streams each one, and its callbacks hand the
 * header and record batches straight to the sink.  Nothing holds a whole
 * report.
 *
 * Order of events for one message:
 *   sink_msg_begin (BEGIN, ledger row locked)
 *   for each payload: SAVEPOINT, report_file row, report, records;
 *     on a parse error ROLLBACK TO SAVEPOINT, retry in the tolerant modes,
 *     and finally record the payload with its error
 *   sink_msg_commit (final status, COMMIT)
 * A database error anywhere rolls the whole message back: it stays
 * 'claimed' and the next poll fetches it again.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "agent/conf.h"
#include "agent/pipeline.h"
#include "mime/mime.h"
#include "report/report.h"
#include "sink/sink.h"
#include "verify/verify.h"

/*
 * The process's verifier (verify/): its key cache serves every thread.
 * Replaced only by pipeline_verify_setup, when no message is in hand.
 */
static struct verify	*pipe_verify;
static int		 pipe_keep_message;

/* The reports of one message and their verdicts. */
struct pipe_auth {
	struct verify_result	 vr;
	int			 checked;	/* vr is filled */
	char			**ids;		/* report_id of each report */
	const char		**verdicts;	/* static names */
	size_t			 n;
	char			*reporter;	/* the first report's */
	int			 matched;	/* -1: no report */
};

/* State for one message. */
struct pipe_msg {
	struct sink			*sink;
	const struct conf		*conf;
	const struct conf_limits	*limits;
	unsigned			 stored, duplicate, ignored, invalid;
	char				*detail;	/* first problem */
	char				*dbcause;	/* database error */
	struct mime_subject		 subj;	/* what the Subject says */
	struct mime_name		 name;	/* the payload's file name */
	struct pipe_auth		 auth;
	/* The message's start (pipe_facts), told by the scan. */
	const char			*buf;
	size_t				 len;
	struct sink_msg_info		*info;
	enum sink_status		 prior;
	int				 begun;	/* the ledger row is written */
	char				*begin_cause; /* it could not be */
};

static int	pipe_facts(const struct mime_info *, void *);
static int	pipe_payload(struct mime_payload *, void *, char **);
static int	pipe_xml(struct pipe_msg *, struct mime_payload *, char **);
static int	pipe_other(struct pipe_msg *, struct mime_payload *, char **);
static int	pipe_record_failed(struct pipe_msg *, struct mime_payload *,
		    const char *, char **);
static void	pipe_file_info(struct pipe_msg *, const struct mime_payload *,
		    struct sink_file_info *);
struct pipe_tee;
static void	pipe_drain(struct pipe_tee *);
static int	pipe_raw_head(struct pipe_msg *, const struct mime_payload *,
		    char **);
static void	arf_raw_value(struct buf *, const char *, const char *,
		    size_t);
static ssize_t	pipe_tee_read(void *, char *, size_t, char **);
static enum sink_result pipe_file_end(struct pipe_tee *, const char *,
		    char **);
/* What pipe_after_parse found. */
enum pipe_parse {
	PARSE_FAILED = -1,	/* the database failed: *cause */
	PARSE_DONE,		/* stored, duplicate or not a report */
	PARSE_BAD		/* the attempt failed, rolled back: *pcause */
};
static enum pipe_parse pipe_after_parse(struct pipe_msg *, struct pipe_tee *,
		    enum report_status, char **, char **);
static int	pipe_parsed(struct pipe_msg *, struct pipe_tee *,
		    struct mime_payload *, enum report_status, const char *,
		    char **);
static void	pipe_note(struct pipe_msg *, const char *, const char *);
static void	pipe_bad_part(const struct mime_payload *, const char *,
		    void *);
static void	pipe_mime_limits(const struct conf_limits *,
		    struct mime_limits *);
static int	pipe_cb_head(const struct report_head *, void *, char **);
static int	pipe_cb_records(const struct report_record *, size_t, void *,
		    char **);
static int	pipe_cb_end(const struct report_head *, void *, char **);
static const char *pipe_auth_report(struct pipe_msg *,
		    const struct report_head *);
static int	pipe_auth_store(struct pipe_msg *, const char *, size_t,
		    char **);
static void	pipe_auth_free(struct pipe_auth *);

static const struct report_callbacks pipe_callbacks = {
	pipe_cb_head, pipe_cb_records, pipe_cb_end
};

void
pipeline_init(void)
{
	mime_init();
}

void
pipeline_shutdown(void)
{
	verify_free(pipe_verify);
	pipe_verify = NULL;
	mime_shutdown();
}

void
pipeline_verify_setup(const struct conf *conf)
{
	struct verify_opts	 o;
	const struct conf_verify *cv = &conf->verify;
	char			*cause = NULL;

	verify_free(pipe_verify);
	pipe_verify = NULL;
	pipe_keep_message = cv->keep_message;
	if (!cv->enabled)
		return;
	memset(&o, 0, sizeof o);
	o.resolver = cv->resolver != NULL ? cv->resolver :
	    conf->enrich.resolver;
	o.timeout_ms = cv->timeout_ms;
	o.budget_ms = cv->budget_ms;
	o.cache_ttl = cv->cache_ttl;
	o.negative_ttl = cv->negative_ttl;
	o.max_signatures = (unsigned)cv->max_signatures;
	o.max_signature_bytes = (size_t)cv->max_signature_bytes;
	o.trusted_ids = (const char *const *)cv->trusted_ids;
	o.ntrusted = cv->ntrusted;
	if ((pipe_verify = verify_new(&o, &cause)) == NULL) {
		log_warnx("verification: %s; report mail is not verified",
		    cause);
		free(cause);
	}
}

struct verify *
pipeline_verifier(void)
{
	return (pipe_verify);
}

/*
 * The verdict of one report, by the reporter it names: its name (static),
 * or NULL (unverified) when the message was not checked or past the
 * 1000th report of a message.
 */
static const char *
pipe_auth_report(struct pipe_msg *pm, const struct report_head *h)
{
	struct pipe_auth		*a = &pm->auth;
	enum verify_authenticity	 v;
	char				*rep = NULL;

	if (!a->checked || a->n >= 1000)
		return (NULL);
	v = verify_reporter(pipe_verify, &a->vr, h->org_email, h->org_name,
	    &rep);
	a->ids = xreallocarray(a->ids, a->n + 1, sizeof *a->ids);
	a->verdicts = xreallocarray(a->verdicts, a->n + 1,
	    sizeof *a->verdicts);
	a->ids[a->n] = xstrdup(h->report_id);
	a->verdicts[a->n] = verify_authenticity_name(v);
	if (a->n++ == 0) {
		a->reporter = rep;
		a->matched = v == VERIFY_VERIFIED;
	} else
		free(rep);
	return (a->verdicts[a->n - 1]);
}

static void
pipe_auth_free(struct pipe_auth *a)
{
	size_t	i;

	if (a->checked)
		verify_result_free(&a->vr);
	for (i = 0; i < a->n; i++)
		free(a->ids[i]);
	free(a->ids);
	free(a->verdicts);
	free(a->reporter);
	memset(a, 0, sizeof *a);
}

/*
 * The message's verdict and its reports' authenticity, and the message
 * itself when it is signed (so that verify can check it again later).  A
 * verdict the database refuses is left out (its savepoint rolled back)
 * rather than failing the message for ever.
 */
static int
pipe_auth_store(struct pipe_msg *pm, const char *buf, size_t len,
    char **cause)
{
	struct sink_auth_info	 ai;
	char			*why = NULL;
	int			 rc;

	if (!pm->auth.checked)
		return (0);
	if (sink_payload_savepoint(pm->sink, cause) != 0)
		return (-1);
	pipeline_auth_info(&pm->auth.vr, &ai);
	ai.reporter_domain = pm->auth.reporter;
	ai.reporter_matched = pm->auth.n == 0 ? -1 : pm->auth.matched;
	ai.authenticity = pm->auth.n == 0 ? NULL : pm->auth.verdicts[0];
	ai.report_ids = (const char *const *)pm->auth.ids;
	ai.report_auth = pm->auth.verdicts;
	ai.nreports = pm->auth.n;
	rc = sink_auth_store(pm->sink, 0, &ai, &why);
	pipeline_auth_info_free(&ai);
	if (rc == 0 && pipe_keep_message && pm->auth.vr.sigs_seen != 0)
		rc = sink_msg_raw_store(pm->sink, buf, len, &why);
	if (rc == 0)
		return (0);
	if (sink_last_error(pm->sink) != SINK_ERR_DATA) {
		*cause = why;
		return (-1);
	}
	log_warnx("verdict not stored: %s", why);
	free(why);
	return (sink_payload_rollback(pm->sink, cause));
}


/* The configured limits, in each module's terms. */
static void
pipe_mime_limits(const struct conf_limits *cl, struct mime_limits *ml)
{
	mime_limits_default(ml);
	ml->max_payload = cl->max_payload_size;
	ml->max_ratio = (unsigned)cl->max_ratio;
	ml->max_zip_entries = (unsigned)cl->max_zip_members;
	ml->max_depth = (unsigned)cl->max_containers;
	ml->max_mime_depth = (unsigned)cl->max_mime_depth;
	ml->max_parts = (unsigned)cl->max_mime_parts;
	ml->max_header_line = (size_t)cl->max_header_line;
	if (ml->max_decoded > cl->max_message_size)
		ml->max_decoded = (size_t)cl->max_message_size;
}

void
pipeline_report_limits(const struct conf_limits *cl, struct report_limits *rl)
{
	report_limits_default(rl);
	rl->max_records = (uint32_t)cl->max_records;
	rl->max_results = (uint32_t)cl->max_results;
	rl->max_text = (size_t)cl->max_text;
	rl->max_json = (size_t)cl->max_json;
}

static int
pipe_cb_head(const struct report_head *h, void *arg, char **cause)
{
	struct pipe_msg	*pm = arg;

	/* The report is written with its verdict (stored again with the
	   message's in pipe_auth_store, unchanged). */
	sink_set_authenticity(pm->sink, pipe_auth_report(pm, h));
	return (sink_report_head(pm->sink, h, cause));
}

static int
pipe_cb_records(const struct report_record *r, size_t n, void *arg,
    char **cause)
{
	struct pipe_msg	*pm = arg;

	return (sink_report_records(pm->sink, r, n, cause));
}

static int
pipe_cb_end(const struct report_head *h, void *arg, char **cause)
{
	struct pipe_msg	*pm = arg;

	return (sink_report_end(pm->sink, h, cause));
}

/* Keep the first problem as the message's detail. */
static void
pipe_note(struct pipe_msg *pm, const char *path, const char *what)
{
	if (pm->detail != NULL)
		return;
	if (path != NULL && *path != '\0')
		xasprintf(&pm->detail, "part %s: %s", path, what);
	else
		pm->detail = xstrdup(what);
}

/* The payload's report_file facts; pm keeps the parsed name's strings. */
static void
pipe_file_info(struct pipe_msg *pm, const struct mime_payload *p,
    struct sink_file_info *fi)
{
	memset(fi, 0, sizeof *fi);
	mime_name_free(&pm->name);
	mime_name_parse(p->filename, &pm->name);
	fi->fn_receiver = pm->name.receiver;
	fi->fn_policy_domain = pm->name.policy_domain;
	fi->fn_begin = pm->name.begin;
	fi->fn_end = pm->name.end;
	fi->fn_unique_id = pm->name.unique_id;
	fi->subj_domain = pm->subj.domain;
	fi->subj_submitter = pm->subj.submitter;
	fi->subj_report_id = pm->subj.report_id;
	fi->mime_path = p->mime_path;
	fi->filename = p->filename;
	fi->content_type = p->content_type;
	fi->transfer_encoding = p->transfer_encoding;
	fi->container = p->container;
	fi->zip_member = p->zip_member;
	fi->kind = mime_kind_name(p->kind);
	fi->encoded_bytes = p->encoded_bytes;
}

/*
 * A payload stream that also feeds what it reads to the sink's raw store
 * (kept gzip'd for reparse), so the payload is read once.
 */
struct pipe_tee {
	struct pipe_msg		*pm;
	struct mime_stream	*stream;
	char			*dbcause;	/* the raw store failed */
};

#define ARF_RAW_MAGIC	"DMARC-AGENT-ARF 1\n"

static ssize_t
pipe_tee_read(void *arg, char *buf, size_t len, char **cause)
{
	struct pipe_tee	*t = arg;
	ssize_t		 n;

	n = mime_stream_read(t->stream, buf, len, cause);
	if (n > 0 && t->dbcause == NULL &&
	    sink_raw_append(t->pm->sink, buf, (size_t)n, &t->dbcause) != 0) {
		*cause = xstrdup(t->dbcause);
		return (-1);
	}
	return (n);
}

/* Read the rest of a payload so its size, SHA-256 and raw copy are
   complete. */
static void
pipe_drain(struct pipe_tee *t)
{
	char	 buf[65536];
	char	*cause = NULL;

	while (pipe_tee_read(t, buf, sizeof buf, &cause) > 0)
		;
	free(cause);
}

/* One value of a failure report's raw copy: "name: N\n", the bytes, "\n". */
static void
arf_raw_value(struct buf *b, const char *name, const char *v, size_t len)
{
	char	n[64];

	if (v == NULL)
		return;
	snprintf(n, sizeof n, "%s: %zu\n", name, len);
	(void)buf_add(b, n, strlen(n));
	(void)buf_add(b, v, len);
	(void)buf_add(b, "\n", 1);
}

/*
 * Before a failure report's bytes, what its parse reads beside them
 * (pipeline.h): the raw copy then holds all report_parse_arf needs.
 * Other payloads' copies are the payload alone.
 */
static int
pipe_raw_head(struct pipe_msg *pm, const struct mime_payload *p,
    char **cause)
{
	struct buf	b;
	int		rc;

	if (p->kind != MIME_KIND_ARF)
		return (0);
	/* Bounded by the message, which is held in memory. */
	buf_init(&b, SIZE_MAX - 1);
	(void)buf_add(&b, ARF_RAW_MAGIC, strlen(ARF_RAW_MAGIC));
	if (p->arf_report_type != NULL)
		arf_raw_value(&b, "report-type", p->arf_report_type,
		    strlen(p->arf_report_type));
	if (p->arf_plain)
		(void)buf_add(&b, "plain\n", 6);
	if (p->arf_headers_only)
		(void)buf_add(&b, "headers-only\n", 13);
	arf_raw_value(&b, "text", p->arf_text, p->arf_text_len);
	arf_raw_value(&b, "original", p->arf_original, p->arf_original_len);
	(void)buf_add(&b, "report:\n", 8);
	rc = sink_raw_append(pm->sink, b.data, b.len, cause);
	buf_free(&b);
	return (rc);
}

int
pipeline_arf_raw_read(char *raw, size_t len, struct arf_input *in,
    const char **payload, size_t *plen)
{
	char		*p = raw, *end = raw + len, *nl, *v, *e;
	const char	**dst;
	size_t		 n, mlen = strlen(ARF_RAW_MAGIC);

	memset(in, 0, sizeof *in);
	if (len < mlen || memcmp(raw, ARF_RAW_MAGIC, mlen) != 0)
		return (-1);
	for (p += mlen; (nl = memchr(p, '\n', end - p)) != NULL; p = nl + 1) {
		*nl = '\0';
		if (strcmp(p, "report:") == 0) {
			*payload = nl + 1;
			*plen = (size_t)(end - (nl + 1));
			return (0);
		}
		if (strcmp(p, "plain") == 0) {
			in->plain = 1;
			continue;
		}
		if (strcmp(p, "headers-only") == 0) {
			in->headers_only = 1;
			continue;
		}
		if (strncmp(p, "report-type: ", 13) == 0)
			dst = &in->report_type;
		else if (strncmp(p, "text: ", 6) == 0)
			dst = &in->text;
		else if (strncmp(p, "original: ", 10) == 0)
			dst = &in->original;
		else
			return (-1);
		n = strtoull(strchr(p, ' ') + 1, &e, 10);
		v = nl + 1;
		if (*e != '\0' || n >= (size_t)(end - v) || v[n] != '\n')
			return (-1);
		v[n] = '\0';
		*dst = v;
		if (dst == &in->text)
			in->text_len = n;
		else if (dst == &in->original)
			in->original_len = n;
		nl = v + n;
	}
	return (-1);
}

static int
pipe_payload(struct mime_payload *p, void *arg, char **cause)
{
	struct pipe_msg	*pm = arg;

	if (p->kind == MIME_KIND_XML)
		return (pipe_xml(pm, p, cause));
	return (pipe_other(pm, p, cause));
}

/* Close a payload's report_file row: size, SHA-256, error (or NULL). */
static enum sink_result
pipe_file_end(struct pipe_tee *t, const char *error, char **cause)
{
	uint64_t	bytes;
	unsigned char	sha[32];

	if (t->dbcause != NULL) {
		*cause = t->dbcause;
		t->dbcause = NULL;
		return (SINK_FAILED);
	}
	mime_stream_stats(t->stream, &bytes, sha);
	return (sink_file_end(t->pm->sink, bytes, sha, error, cause));
}

/*
 * After a parse: PARSE_FAILED when the database failed (*cause set,
 * *pcause freed), PARSE_BAD when the attempt failed and its savepoint was
 * rolled back (*pcause says why), PARSE_DONE when the payload parsed.
 */
static enum pipe_parse
pipe_after_parse(struct pipe_msg *pm, struct pipe_tee *t,
    enum report_status st, char **pcause, char **cause)
{
	char	*why;

	if (t->dbcause != NULL) {
		free(*pcause);
		*pcause = NULL;
		*cause = t->dbcause;
		t->dbcause = NULL;
		return (PARSE_FAILED);
	}
	if (st == REPORT_ABORTED &&
	    sink_last_error(pm->sink) != SINK_ERR_DATA) {
		*cause = *pcause;
		*pcause = NULL;
		return (PARSE_FAILED);
	}
	if (st != REPORT_ABORTED && st != REPORT_INVALID)
		return (PARSE_DONE);
	if (sink_payload_rollback(pm->sink, cause) != 0) {
		free(*pcause);
		*pcause = NULL;
		return (PARSE_FAILED);
	}
	if (st == REPORT_ABORTED) {
		xasprintf(&why, "the database refused the report: %s",
		    *pcause != NULL ? *pcause : "?");
		free(*pcause);
		*pcause = why;
	}
	return (PARSE_BAD);
}

/*
 * Finish a payload that parsed, and count it.  The sink may store the
 * report only now (sink_set_defer): a duplicate then, or a report the
 * database refuses, which is kept as a failed payload.
 */
static int
pipe_parsed(struct pipe_msg *pm, struct pipe_tee *t, struct mime_payload *p,
    enum report_status st, const char *pcause, char **cause)
{
	char	*why;
	int	 rc;

	pipe_drain(t);
	rc = pipe_file_end(t, st == REPORT_NOT_DMARC ? pcause : NULL, cause);
	if (rc == SINK_REFUSED) {
		xasprintf(&why, "the database refused the report: %s", *cause);
		free(*cause);
		*cause = NULL;
		rc = sink_payload_rollback(pm->sink, cause);
		if (rc == 0)
			rc = pipe_record_failed(pm, p, why, cause);
		free(why);
		return (rc);
	}
	if (rc == SINK_DUP) {
		pm->duplicate++;
		rc = 0;
	} else if (rc == 0 && st == REPORT_NOT_DMARC) {
		pipe_note(pm, p->mime_path, pcause);
		pm->ignored++;
	} else if (rc == 0 && st == REPORT_DUPLICATE)
		pm->duplicate++;
	else if (rc == 0)
		pm->stored++;
	return (rc);
}

static int
pipe_cb_tls(const struct tlsrpt_report *r, void *arg, char **cause)
{
	struct pipe_msg	*pm = arg;

	return (sink_tlsrpt_store(pm->sink, r, cause));
}

static int
pipe_cb_arf(const struct failure_report *r, void *arg, char **cause)
{
	struct pipe_msg	*pm = arg;

	return (sink_failure_store(pm->sink, r, cause));
}

static const struct tlsrpt_callbacks pipe_tls_callbacks = { pipe_cb_tls };
static const struct arf_callbacks pipe_arf_callbacks = { pipe_cb_arf };

/*
 * An SMTP TLS report (JSON) or a failure report (ARF, or a plain-text one
 * a few MTAs send): parsed and stored like an aggregate report, in the
 * payload's savepoint, with its raw copy.
 */
static int
pipe_other(struct pipe_msg *pm, struct mime_payload *p, char **cause)
{
	struct sink_file_info	 fi;
	struct report_limits	 rl;
	struct arf_input	 in;
	struct pipe_tee		 t = { pm, p->stream, NULL };
	enum report_status	 st;
	char			*pcause = NULL;
	int			 rc;

	pipe_file_info(pm, p, &fi);
	pipeline_report_limits(pm->limits, &rl);
	if (sink_payload_savepoint(pm->sink, cause) != 0 ||
	    sink_file_begin(pm->sink, &fi, cause) != 0 ||
	    pipe_raw_head(pm, p, cause) != 0)
		return (-1);
	if (p->kind == MIME_KIND_JSON)
		st = report_parse_tlsrpt(pipe_tee_read, &t, &rl,
		    &pipe_tls_callbacks, pm, &pcause);
	else {
		memset(&in, 0, sizeof in);
		in.report_type = p->arf_report_type;
		in.text = p->arf_text;
		in.text_len = p->arf_text_len;
		in.original = p->arf_original;
		in.original_len = p->arf_original_len;
		in.headers_only = p->arf_headers_only;
		in.plain = p->arf_plain;
		in.store_body = pm->conf->failure_store_body;
		st = report_parse_arf(pipe_tee_read, &t, &in, &rl,
		    &pipe_arf_callbacks, pm, &pcause);
	}
	switch (pipe_after_parse(pm, &t, st, &pcause, cause)) {
	case PARSE_BAD:
		rc = pipe_record_failed(pm, p, pcause != NULL ? pcause :
		    "unreadable report", cause);
		break;
	case PARSE_DONE:
		rc = pipe_parsed(pm, &t, p, st, pcause, cause);
		break;
	default:
		rc = -1;
		break;
	}
	free(pcause);
	return (rc);
}

/*
 * Parse one XML payload: strictly first, then (when the error is one a
 * tolerant reading can help) as windows-1252, then with libxml2 recovery.
 * Each attempt runs inside its own savepoint.  A report the database
 * refuses (a data error, not a lost connection) is recorded as a failed
 * payload; the message goes on.
 */
static int
pipe_xml(struct pipe_msg *pm, struct mime_payload *p, char **cause)
{
	struct sink_file_info	 fi;
	struct report_limits	 rl;
	struct pipe_tee		 t = { pm, p->stream, NULL };
	enum report_status	 st;
	char			*pcause = NULL;
	int			 retry, mode, rc;

	pipe_file_info(pm, p, &fi);
	pipeline_report_limits(pm->limits, &rl);
	for (mode = REPORT_STRICT; mode <= REPORT_RECOVER; mode++) {
		if (mode != REPORT_STRICT) {
			free(pcause);
			pcause = NULL;
			if (mime_stream_rewind(p->stream, &pcause) != 0)
				break;
		}
		if (sink_payload_savepoint(pm->sink, cause) != 0 ||
		    sink_file_begin(pm->sink, &fi, cause) != 0) {
			free(pcause);
			return (-1);
		}
		rl.mode = mode;
		free(pcause);
		pcause = NULL;
		retry = 0;
		st = report_parse_xml(pipe_tee_read, &t, &rl, &pipe_callbacks,
		    pm, &retry, &pcause);
		switch (pipe_after_parse(pm, &t, st, &pcause, cause)) {
		case PARSE_FAILED:
			return (-1);
		case PARSE_DONE:
			rc = pipe_parsed(pm, &t, p, st, pcause, cause);
			free(pcause);
			return (rc);
		case PARSE_BAD:
			break;
		}
		if (st != REPORT_INVALID || !retry)
			break;
	}
	rc = pipe_record_failed(pm, p, pcause != NULL ? pcause :
	    "unreadable XML", cause);
	free(pcause);
	return (rc);
}

/* Keep a row (and the raw bytes) for a payload that could not be read. */
static int
pipe_record_failed(struct pipe_msg *pm, struct mime_payload *p,
    const char *why, char **cause)
{
	struct sink_file_info	 fi;
	struct pipe_tee		 t = { pm, p->stream, NULL };
	char			*rc = NULL;

	pipe_file_info(pm, p, &fi);
	if (sink_payload_savepoint(pm->sink, cause) != 0 ||
	    sink_file_begin(pm->sink, &fi, cause) != 0 ||
	    pipe_raw_head(pm, p, cause) != 0)
		return (-1);
	if (mime_stream_rewind(p->stream, &rc) == 0)
		pipe_drain(&t);
	free(rc);
	if (pipe_file_end(&t, why, cause) != 0)
		return (-1);
	pipe_note(pm, p->mime_path, why);
	pm->invalid++;
	return (0);
}

/*
 * A part that looked like a report but could not be decoded: keep a
 * report_file row with the reason.  A database error is kept for the
 * caller, since this callback cannot stop the scan.
 */
static void
pipe_bad_part(const struct mime_payload *p, const char *why, void *arg)
{
	struct pipe_msg		*pm = arg;
	struct sink_file_info	 fi;
	char			*cause = NULL;

	pipe_note(pm, p->mime_path, why);
	pm->invalid++;
	if (pm->dbcause != NULL)
		return;
	pipe_file_info(pm, p, &fi);
	if (fi.container == NULL)
		fi.container = "unknown";
	if (sink_payload_savepoint(pm->sink, &cause) != 0 ||
	    sink_file_begin(pm->sink, &fi, &cause) != 0 ||
	    sink_file_end(pm->sink, 0, NULL, why, &cause) != 0)
		pm->dbcause = cause;
}

/*
 * The message's facts, told by the scan before its first payload: DKIM
 * and the Authentication-Results (before the transaction: key lookups may
 * take budget_ms), then the ledger row.  A file that is not mail (no From,
 * no Message-ID, no signature) gets no verdict: its reports stay
 * unverified.  -1 stops the scan: the row could not be written
 * (begin_cause), or the message was already done (prior).
 */
static int
pipe_facts(const struct mime_info *mi, void *arg)
{
	struct pipe_msg		*pm = arg;
	struct sink_msg_info	*info = pm->info;
	int			 rc;

	if (pipe_verify != NULL) {
		verify_message(pipe_verify, pm->buf, pm->len, &pm->auth.vr);
		pm->auth.checked = 1;
		if (mi->from == NULL && mi->message_id == NULL &&
		    pm->auth.vr.sigs_seen == 0)
			pipe_auth_free(&pm->auth);
	}
	info->message_id = mi->message_id;
	info->from = mi->from;
	info->subject = mi->subject;
	info->date = mi->date;
	info->auth_results = mi->auth_results;
	rc = sink_msg_begin(pm->sink, info, &pm->prior, &pm->begin_cause);
	info->message_id = info->from = info->subject = NULL;
	info->auth_results = NULL;
	if (rc != 0 && sink_last_error(pm->sink) == SINK_ERR_DATA) {
		/* Header text the database refuses: keep the message
		   without it rather than retrying it for ever. */
		xasprintf(&pm->detail, "message headers not stored: %s",
		    pm->begin_cause);
		free(pm->begin_cause);
		pm->begin_cause = NULL;
		rc = sink_msg_begin(pm->sink, info, &pm->prior,
		    &pm->begin_cause);
	}
	if (rc != 0)
		return (-1);
	pm->begun = 1;
	if (pm->prior != SINK_NONE && pm->prior != SINK_CLAIMED)
		return (-1);
	mime_subject_parse(mi->subject, &pm->subj);
	return (0);
}

/*
 * One message: its ledger row once the scan has its header (pipe_facts),
 * then its payloads, then its status.  The header is parsed once, by the
 * scan.
 */
enum pipeline_outcome
pipeline_message(struct sink *sink, const struct conf *conf,
    struct sink_msg_info *info, const char *buf, size_t len,
    struct pipeline_counts *counts, char **cause)
{
	struct pipe_msg		 pm;
	struct mime_limits	 ml;
	enum mime_status	 ms;
	enum sink_status	 status;
	char			*mcause = NULL;
	enum pipeline_outcome	 outcome;
	int			 rc;

	*cause = NULL;
	memset(&pm, 0, sizeof pm);
	pm.sink = sink;
	pm.conf = conf;
	pm.limits = &conf->limits;
	pm.buf = buf;
	pm.len = len;
	pm.info = info;
	pipe_mime_limits(&conf->limits, &ml);
	ms = mime_scan_facts(buf, len, &ml, pipe_facts, pipe_payload,
	    pipe_bad_part, &pm, &mcause);
	mime_subject_free(&pm.subj);
	mime_name_free(&pm.name);
	if (!pm.begun) {
		/* The ledger row could not be written: nothing was. */
		if (pm.begin_cause == NULL)
			fatalx("%s: the scan told no facts", __func__);
		free(mcause);
		free(pm.detail);
		pipe_auth_free(&pm.auth);
		*cause = pm.begin_cause;
		return (PIPE_FAILED);
	}
	if (pm.prior != SINK_NONE && pm.prior != SINK_CLAIMED) {
		free(mcause);
		free(pm.detail);
		pipe_auth_free(&pm.auth);
		sink_msg_rollback(sink);
		return (PIPE_ALREADY);
	}
	if (ms == MIME_ABORTED || pm.dbcause != NULL) {
		sink_msg_rollback(sink);
		pipe_auth_free(&pm.auth);
		free(pm.detail);
		if (pm.dbcause != NULL) {
			free(mcause);
			*cause = pm.dbcause;
		} else
			*cause = mcause;
		return (PIPE_FAILED);
	}
	if (ms == MIME_NONE || ms == MIME_INVALID) {
		pipe_note(&pm, NULL, mcause != NULL ? mcause : "no report");
		if (ms == MIME_INVALID && pm.invalid == 0)
			pm.invalid++;
	}
	if (ms == MIME_INVALID && pm.stored + pm.duplicate != 0 &&
	    mcause != NULL) {
		/* Payloads past max_payloads were not read. */
		log_warnx("%s", mcause);
	}
	free(mcause);
	if (pm.stored != 0) {
		status = SINK_STORED;
		outcome = PIPE_STORED;
	} else if (pm.duplicate != 0) {
		status = SINK_DUPLICATE;
		outcome = PIPE_DUPLICATE;
	} else if (pm.invalid != 0) {
		status = SINK_INVALID;
		outcome = PIPE_INVALID;
	} else {
		status = SINK_IGNORED;
		outcome = PIPE_IGNORED;
	}
	rc = pipe_auth_store(&pm, buf, len, cause);
	pipe_auth_free(&pm.auth);
	if (rc != 0) {
		sink_msg_rollback(sink);
		free(pm.detail);
		return (PIPE_FAILED);
	}
	if (sink_msg_commit(sink, status, pm.detail, cause) != 0) {
		free(pm.detail);
		return (PIPE_FAILED);
	}
	counts->fetched++;
	switch (outcome) {
	case PIPE_STORED:
		counts->stored++;
		break;
	case PIPE_DUPLICATE:
		counts->duplicate++;
		break;
	case PIPE_INVALID:
		counts->invalid++;
		break;
	default:
		counts->ignored++;
		break;
	}
	*cause = pm.detail;
	return (outcome);
}

/* verify/'s result in the sink's terms; free with pipeline_auth_info_free. */
void
pipeline_auth_info(const struct verify_result *vr, struct sink_auth_info *ai)
{
	static const char	*align[] = { "none", "relaxed", "strict" };
	struct sink_sig_info	*sg;
	size_t			 i;

	memset(ai, 0, sizeof *ai);
	ai->checked_at = vr->checked_at;
	ai->from_domain = vr->from_domain;
	ai->from_count = vr->from_count;
	ai->sigs_seen = vr->sigs_seen;
	ai->dmarc = verify_dmarc_name(vr->dmarc);
	ai->dmarc_via = vr->dmarc_via;
	ai->alignment = align[vr->alignment > 2 ? 0 : vr->alignment];
	ai->ar_id = vr->ar_id;
	ai->ar_dkim = vr->ar_dkim;
	ai->ar_dkim_domain = vr->ar_dkim_domain;
	ai->ar_spf = vr->ar_spf;
	ai->ar_dmarc = vr->ar_dmarc;
	ai->ar_dmarc_from = vr->ar_dmarc_from;
	ai->auth_domains = (const char *const *)vr->auth_domains;
	ai->nauth = vr->nauth;
	ai->reporter_matched = -1;
	ai->detail = vr->detail;
	sg = xcalloc(vr->nsigs + 1, sizeof *sg);
	for (i = 0; i < vr->nsigs; i++) {
		sg[i].domain = vr->sigs[i].domain;
		sg[i].selector = vr->sigs[i].selector;
		sg[i].algorithm = vr->sigs[i].algorithm;
		sg[i].result = verify_sig_result_name(vr->sigs[i].result);
		sg[i].error = vr->sigs[i].error;
		sg[i].body_length = vr->sigs[i].body_length;
		sg[i].key_sha256 = vr->sigs[i].key_sha256;
		sg[i].aligned = align[vr->sigs[i].aligned > 2 ? 0 :
		    vr->sigs[i].aligned];
	}
	ai->sigs = sg;
	ai->nsigs = vr->nsigs;
}

void
pipeline_auth_info_free(struct sink_auth_info *ai)
{
	free((void *)ai->sigs);
	ai->sigs = NULL;
}

enum pipeline_outcome
pipeline_too_large(struct sink *sink, struct sink_msg_info *info,
    uint64_t size, uint64_t cap, struct pipeline_counts *counts,
    char **cause)
{
	enum sink_status	 prior;
	char			*detail;
	int			 rc;

	if (sink_msg_begin(sink, info, &prior, cause) != 0)
		return (PIPE_FAILED);
	if (prior != SINK_NONE && prior != SINK_CLAIMED) {
		sink_msg_rollback(sink);
		return (PIPE_ALREADY);
	}
	xasprintf(&detail, "message of %llu bytes is over the limit of %llu "
	    "bytes (limits.max_message_size)", (unsigned long long)size,
	    (unsigned long long)cap);
	rc = sink_msg_commit(sink, SINK_TOO_LARGE, detail, cause);
	free(detail);
	if (rc != 0) {
		sink_msg_rollback(sink);
		return (PIPE_FAILED);
	}
	counts->fetched++;
	counts->invalid++;
	return (PIPE_TOO_LARGE);
}

void
pipeline_counts_format(const struct pipeline_counts *c, char *line,
    size_t size)
{
	snprintf(line, size, "%u fetched, %u stored, %u duplicate, "
	    "%u invalid", c->fetched, c->stored, c->duplicate, c->invalid);
	if (c->ignored != 0)
		snprintf(line + strlen(line), size - strlen(line),
		    ", %u ignored", c->ignored);
	if (c->unsure != 0)
		snprintf(line + strlen(line), size - strlen(line),
		    " (uncertain: the database failed during a commit; %u "
		    "more may have been stored)", c->unsure);
}

static const char *
outcome_name(enum pipeline_outcome o)
{
	switch (o) {
	case PIPE_STORED:
		return ("stored");
	case PIPE_DUPLICATE:
		return ("duplicate");
	case PIPE_IGNORED:
		return ("ignored");
	case PIPE_INVALID:
		return ("invalid");
	case PIPE_TOO_LARGE:
		return ("too large");
	case PIPE_ALREADY:
		return ("already in the ledger");
	case PIPE_FAILED:
		return ("not processed");
	}
	return ("?");
}

enum sink_status
pipeline_status(enum pipeline_outcome o)
{
	switch (o) {
	case PIPE_STORED:
		return (SINK_STORED);
	case PIPE_DUPLICATE:
	case PIPE_ALREADY:
		return (SINK_DUPLICATE);
	case PIPE_IGNORED:
		return (SINK_IGNORED);
	case PIPE_TOO_LARGE:
		return (SINK_TOO_LARGE);
	case PIPE_INVALID:
	case PIPE_FAILED:
		break;
	}
	return (SINK_INVALID);
}

void
pipeline_log_outcome(const char *where, uint32_t uid, const char *path,
    enum pipeline_outcome o, const char *detail)
{
	char	*esc = NULL, *id;

	if (path != NULL)
		id = log_escape(path, strlen(path), 512);
	else
		xasprintf(&id, "uid %u", uid);
	if (detail != NULL)
		esc = log_escape(detail, strlen(detail), 400);
	if (o == PIPE_INVALID || o == PIPE_TOO_LARGE)
		log_warnx("%s: %s: %s: %s", where, id, outcome_name(o),
		    esc != NULL ? esc : "-");
	else if (o == PIPE_IGNORED)
		log_info("%s: %s: %s: %s", where, id, outcome_name(o),
		    esc != NULL ? esc : "-");
	else if (esc != NULL)
		log_info("%s: %s: %s (%s)", where, id, outcome_name(o), esc);
	else
		log_info("%s: %s: %s", where, id, outcome_name(o));
	free(esc);
	free(id);
}

void
pipeline_log_ignored(const char *where, unsigned n)
{
	if (n != 0)
		log_warnx("%s: %u message%s ignored (not a report; -v names "
		    "each)", where, n, n == 1 ? "" : "s");
}
