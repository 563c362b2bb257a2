/*
 * cmd-reparse.c: `dmarc-agent reparse [--all | --since DATE | REPORT_ID...]`.
 *
 * Re-derives report rows from the raw payloads the sink kept (gzip'd),
 * after a parser upgrade: aggregate reports (XML), SMTP TLS reports
 * (RFC 8460 JSON) and failure reports (ARF).  Each payload is done in a
 * transaction of its own; the report keeps its id, natural key,
 * first_seen and seen_count, so running it twice gives the same rows.
 * Payloads that failed before are tried again (with --all) and stored
 * when they now parse.
 *
 * A failure report's copy holds, before the report itself, what its parse
 * reads beside it (the report-type, the returned message, the text part:
 * pipeline.h).  Copies stored before that hold the feedback part alone:
 * reparsing them would lose the sample of the failed message and the
 * report-type, so they are kept as they are and counted apart.
 *
 * The message that delivered each payload is verified again when it was
 * kept whole (verify_payload), so a rewritten report gets its authenticity
 * back.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "agent/agent.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "agent/pipeline.h"
#include "mime/mime.h"
#include "report/report.h"
#include "sink/sink.h"

struct reparse_counts {
	unsigned	payloads, reparsed, failed, kept;
};

/* A failure report's payload held in memory, read as a stream. */
struct rp_mem {
	const char	*p;
	size_t		 len, off;
};

static int	rp_head(const struct report_head *, void *, char **);
static int	rp_records(const struct report_record *, size_t, void *,
		    char **);
static int	rp_end(const struct report_head *, void *, char **);
static int	rp_tls_cb(const struct tlsrpt_report *, void *, char **);
static int	rp_arf_cb(const struct failure_report *, void *, char **);
static ssize_t	rp_mem_read(void *, char *, size_t, char **);
static int	rp_settle(struct sink *, enum report_status, char **,
		    char **);
static int	rp_failed(struct sink *, int64_t, const char *,
		    struct reparse_counts *, char **);
static int	rp_xml(struct sink *, const struct conf *, int64_t,
		    struct reparse_counts *, char **);
static int	rp_tls(struct sink *, const struct conf *, int64_t,
		    struct reparse_counts *, char **);
static int	rp_arf(struct sink *, const struct conf *, int64_t,
		    struct reparse_counts *, char **);
static int	rp_read_all(struct sink *, int64_t, size_t, struct buf *,
		    unsigned char *, int *, char **);
static int	rp_one(struct sink *, const struct conf *, int64_t,
		    struct reparse_counts *, char **);
static int	rp_args(int, char **, struct sink_raw_filter *);

static const struct report_callbacks rp_callbacks = {
	rp_head, rp_records, rp_end
};
static const struct tlsrpt_callbacks rp_tls_callbacks = { rp_tls_cb };
static const struct arf_callbacks rp_arf_callbacks = { rp_arf_cb };

static int
rp_head(const struct report_head *h, void *arg, char **cause)
{
	return (sink_report_head(arg, h, cause));
}

static int
rp_records(const struct report_record *r, size_t n, void *arg, char **cause)
{
	return (sink_report_records(arg, r, n, cause));
}

static int
rp_end(const struct report_head *h, void *arg, char **cause)
{
	return (sink_report_end(arg, h, cause));
}

static int
rp_tls_cb(const struct tlsrpt_report *r, void *arg, char **cause)
{
	return (sink_tlsrpt_store(arg, r, cause));
}

static int
rp_arf_cb(const struct failure_report *r, void *arg, char **cause)
{
	return (sink_failure_store(arg, r, cause));
}

/* report_read_fn over memory. */
static ssize_t
rp_mem_read(void *arg, char *buf, size_t len, char **cause)
{
	struct rp_mem	*m = arg;

	if (len > m->len - m->off)
		len = m->len - m->off;
	memcpy(buf, m->p + m->off, len);
	m->off += len;
	return ((ssize_t)len);
}

/*
 * After a parse inside the reparse transaction: 0 when it parsed and was
 * committed (a payload that is no report keeps why, as the pipeline
 * writes it), 1 when it failed and was rolled back (*pcause says why),
 * -1 when the database failed (*cause).
 */
static int
rp_settle(struct sink *sink, enum report_status st, char **pcause,
    char **cause)
{
	char	*why;
	int	 rc;

	if (st == REPORT_OK || st == REPORT_DUPLICATE ||
	    st == REPORT_NOT_DMARC) {
		rc = sink_reparse_commit(sink, st != REPORT_NOT_DMARC ? NULL :
		    *pcause != NULL ? *pcause : "not a report", cause);
		free(*pcause);
		*pcause = NULL;
		return (rc);
	}
	sink_reparse_rollback(sink);
	if (st == REPORT_ABORTED && sink_last_error(sink) != SINK_ERR_DATA) {
		*cause = *pcause != NULL ? *pcause : xstrdup("database failed");
		*pcause = NULL;
		return (-1);
	}
	if (st == REPORT_ABORTED) {
		xasprintf(&why, "the database refused the report: %s",
		    *pcause != NULL ? *pcause : "?");
		free(*pcause);
		*pcause = why;
	}
	return (1);
}

/* Record that payload id does not parse (why), in its own transaction. */
static int
rp_failed(struct sink *sink, int64_t id, const char *why,
    struct reparse_counts *c, char **cause)
{
	if (sink_reparse_begin(sink, id, cause) != 0 ||
	    sink_reparse_commit(sink, why, cause) != 0)
		return (-1);
	log_warnx("reparse: payload %lld: %s", (long long)id, why);
	c->failed++;
	return (0);
}

/*
 * An aggregate report, trying the strict, windows-1252 and recovery
 * modes in turn.
 */
static int
rp_xml(struct sink *sink, const struct conf *conf, int64_t id,
    struct reparse_counts *c, char **cause)
{
	struct report_limits	 rl;
	struct sink_raw		*raw;
	enum report_status	 st;
	char			*pcause = NULL;
	int			 mode, retry = 0, rc;

	pipeline_report_limits(&conf->limits, &rl);
	for (mode = REPORT_STRICT; mode <= REPORT_RECOVER; mode++) {
		free(pcause);
		pcause = NULL;
		if (sink_reparse_begin(sink, id, cause) != 0)
			return (-1);
		if ((raw = sink_raw_open(sink, id, cause)) == NULL) {
			sink_reparse_rollback(sink);
			return (-1);
		}
		rl.mode = mode;
		st = report_parse_xml(sink_raw_read, raw, &rl, &rp_callbacks,
		    sink, &retry, &pcause);
		sink_raw_close(raw);
		if ((rc = rp_settle(sink, st, &pcause, cause)) <= 0) {
			c->reparsed += rc == 0;
			return (rc);
		}
		if (st != REPORT_INVALID || !retry)
			break;
	}
	rc = rp_failed(sink, id, pcause != NULL ? pcause : "unreadable XML",
	    c, cause);
	free(pcause);
	return (rc);
}

/* An SMTP TLS report: its copy is the JSON as it came. */
static int
rp_tls(struct sink *sink, const struct conf *conf, int64_t id,
    struct reparse_counts *c, char **cause)
{
	struct report_limits	 rl;
	struct sink_raw		*raw;
	enum report_status	 st;
	char			*pcause = NULL;
	int			 rc;

	pipeline_report_limits(&conf->limits, &rl);
	if (sink_reparse_begin(sink, id, cause) != 0)
		return (-1);
	if ((raw = sink_raw_open(sink, id, cause)) == NULL) {
		sink_reparse_rollback(sink);
		return (-1);
	}
	st = report_parse_tlsrpt(sink_raw_read, raw, &rl, &rp_tls_callbacks,
	    sink, &pcause);
	sink_raw_close(raw);
	if ((rc = rp_settle(sink, st, &pcause, cause)) <= 0) {
		c->reparsed += rc == 0;
		return (rc);
	}
	rc = rp_failed(sink, id, pcause != NULL ? pcause :
	    "unreadable report", c, cause);
	free(pcause);
	return (rc);
}

/*
 * Read payload id's whole copy into b (at most cap bytes), with the
 * payload's SHA-256 when known (*has_sha): 0; 1 when the copy cannot be
 * read (corrupt, over cap: *cause); -1 when it cannot be opened (*cause).
 */
static int
rp_read_all(struct sink *sink, int64_t id, size_t cap, struct buf *b,
    unsigned char *sha, int *has_sha, char **cause)
{
	struct sink_raw	*raw;
	char		 chunk[65536];
	ssize_t		 n;

	if ((raw = sink_raw_open(sink, id, cause)) == NULL)
		return (-1);
	*has_sha = sink_raw_sha256(raw, sha) == 0;
	buf_init(b, cap);
	while ((n = sink_raw_read(raw, chunk, sizeof chunk, cause)) > 0) {
		if (buf_add(b, chunk, (size_t)n) != 0) {
			xasprintf(cause, "raw copy over %zu bytes "
			    "(limits.max_message_size)", cap);
			n = -1;
			break;
		}
	}
	sink_raw_close(raw);
	if (n < 0) {
		buf_free(b);
		return (1);
	}
	return (0);
}

/*
 * A failure report: its copy read whole (it came out of one message),
 * the parts around the report taken from its head.  A copy of the older
 * form (the payload alone, whose digest is the payload's) is kept as it
 * was.
 */
static int
rp_arf(struct sink *sink, const struct conf *conf, int64_t id,
    struct reparse_counts *c, char **cause)
{
	struct report_limits	 rl;
	struct arf_input	 in;
	struct rp_mem		 m;
	struct buf		 b;
	enum report_status	 st;
	unsigned char		 want[32], got[32];
	char			*pcause = NULL;
	int			 has_sha, rc;

	rc = rp_read_all(sink, id, (size_t)conf->limits.max_message_size, &b,
	    want, &has_sha, cause);
	if (rc == 1) {
		rc = rp_failed(sink, id, *cause, c, &pcause);
		free(*cause);
		*cause = pcause;
		return (rc);
	}
	if (rc != 0)
		return (-1);
	memset(&m, 0, sizeof m);
	if (b.len == 0 ||
	    pipeline_arf_raw_read(b.data, b.len, &in, &m.p, &m.len) != 0) {
		mime_sha256(b.len != 0 ? b.data : "", b.len, got);
		buf_free(&b);
		if (has_sha && memcmp(got, want, 32) == 0) {
			log_info("reparse: payload %lld: a failure report "
			    "stored without its returned message; kept as it "
			    "was", (long long)id);
			c->kept++;
			return (0);
		}
		return (rp_failed(sink, id, "raw copy: not a failure report's",
		    c, cause));
	}
	mime_sha256(m.p, m.len, got);
	if (has_sha && memcmp(got, want, 32) != 0) {
		buf_free(&b);
		return (rp_failed(sink, id, "raw copy: the report in it is not"
		    " the payload's (SHA-256 differs)", c, cause));
	}
	in.store_body = conf->failure_store_body;
	pipeline_report_limits(&conf->limits, &rl);
	if (sink_reparse_begin(sink, id, cause) != 0) {
		buf_free(&b);
		return (-1);
	}
	st = report_parse_arf(rp_mem_read, &m, &in, &rl, &rp_arf_callbacks,
	    sink, &pcause);
	buf_free(&b);
	if ((rc = rp_settle(sink, st, &pcause, cause)) <= 0) {
		c->reparsed += rc == 0;
		return (rc);
	}
	rc = rp_failed(sink, id, pcause != NULL ? pcause :
	    "unreadable report", c, cause);
	free(pcause);
	return (rc);
}

/*
 * Reparse one payload, by its kind.  Returns 0 (counted as reparsed,
 * failed or kept), or -1 with *cause when the database failed.
 */
static int
rp_one(struct sink *sink, const struct conf *conf, int64_t id,
    struct reparse_counts *c, char **cause)
{
	struct sink_raw	*raw;
	char		 kind[8];

	if ((raw = sink_raw_open(sink, id, cause)) == NULL)
		return (-1);
	snprintf(kind, sizeof kind, "%s", sink_raw_kind(raw));
	sink_raw_close(raw);
	if (strcmp(kind, "json") == 0)
		return (rp_tls(sink, conf, id, c, cause));
	if (strcmp(kind, "arf") == 0)
		return (rp_arf(sink, conf, id, c, cause));
	return (rp_xml(sink, conf, id, c, cause));
}

/* Options into a filter; -1 on a usage error (logged). */
static int
rp_args(int argc, char **argv, struct sink_raw_filter *f)
{
	struct tm	 tm;
	const char	*end;

	memset(f, 0, sizeof *f);
	f->since = -1;
	if (argc == 1 && strcmp(argv[0], "--all") == 0) {
		f->all = 1;
		return (0);
	}
	if (argc == 2 && strcmp(argv[0], "--since") == 0) {
		memset(&tm, 0, sizeof tm);
		end = strptime(argv[1], "%Y-%m-%d", &tm);
		if (end == NULL || *end != '\0') {
			log_warnx("reparse: --since wants YYYY-MM-DD, not "
			    "\"%s\"", argv[1]);
			return (-1);
		}
		f->since = timegm(&tm);
		return (0);
	}
	if (argc == 0 || argv[0][0] == '-') {
		log_warnx("usage: dmarc-agent reparse --all | --since "
		    "YYYY-MM-DD | REPORT_ID...");
		return (-1);
	}
	f->report_ids = (const char *const *)argv;
	f->nreport_ids = (size_t)argc;
	return (0);
}

int
cmd_reparse(struct cmd_env *env, int argc, char **argv)
{
	struct sink_raw_filter	 f;
	struct reparse_counts	 c;
	struct sink		*sink;
	int64_t			*ids = NULL;
	size_t			 n = 0, i;
	char			*cause = NULL;
	int			 rc = 0;

	if (rp_args(argc, argv, &f) != 0)
		return (EXIT_USAGE);
	if ((sink = agent_sink_connect(env->conf, env->conf->auto_migrate)) ==
	    NULL)
		return (EXIT_OPFAIL);
	pipeline_init();
	pipeline_verify_setup(env->conf);
	memset(&c, 0, sizeof c);
	if (sink_raw_list(sink, &f, &ids, &n, &cause) != 0) {
		log_warnx("reparse: %s", cause);
		rc = EXIT_OPFAIL;
	}
	for (i = 0; i < n && rc == 0 && !agent_quitting(); i++) {
		c.payloads++;
		if (rp_one(sink, env->conf, ids[i], &c, &cause) != 0 ||
		    verify_payload(sink, env->conf, ids[i], &cause) != 0) {
			log_warnx("reparse: payload %lld: %s",
			    (long long)ids[i], cause);
			rc = EXIT_OPFAIL;
		}
	}
	free(cause);
	free(ids);
	if (c.kept != 0)
		log_warnx("reparse: %u failure report(s) kept as they were: "
		    "stored before their raw copy held the returned message "
		    "(-v names them)", c.kept);
	printf("reparse: %u payloads, %u reparsed, %u failed", c.payloads,
	    c.reparsed, c.failed);
	if (c.kept != 0)
		printf(", %u kept as they were", c.kept);
	printf("\n");
	pipeline_shutdown();
	sink_close(sink);
	return (rc);
}
