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

#include "agent/agent.h"
#include "agent/conf.h"
#include "agent/pipeline.h"
#include "mime/mime.h"
#include "report/report.h"
#include "sink/sink.h"

/* State for one message. */
struct pipe_msg {
	struct sink			*sink;
	const struct conf_limits	*limits;
	unsigned			 stored, duplicate, ignored, invalid;
	char				*detail;	/* first problem */
	char				*dbcause;	/* database error */
};

static int	pipe_payload(struct mime_payload *, void *, char **);
static int	pipe_xml(struct pipe_msg *, struct mime_payload *, char **);
static int	pipe_other(struct pipe_msg *, struct mime_payload *, char **);
static int	pipe_record_failed(struct pipe_msg *, struct mime_payload *,
		    const char *, char **);
static void	pipe_file_info(const struct mime_payload *,
		    struct sink_file_info *);
static void	pipe_drain(struct mime_stream *);
static void	pipe_note(struct pipe_msg *, const char *, const char *);
static void	pipe_bad_part(const struct mime_payload *, const char *,
		    void *);
static int	pipe_cb_head(const struct report_head *, void *, char **);
static int	pipe_cb_records(const struct report_record *, size_t, void *,
		    char **);
static int	pipe_cb_end(const struct report_head *, void *, char **);

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
	mime_shutdown();
}

static int
pipe_cb_head(const struct report_head *h, void *arg, char **cause)
{
	struct pipe_msg	*pm = arg;

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

static void
pipe_file_info(const struct mime_payload *p, struct sink_file_info *fi)
{
	memset(fi, 0, sizeof *fi);
	fi->mime_path = p->mime_path;
	fi->filename = p->filename;
	fi->content_type = p->content_type;
	fi->transfer_encoding = p->transfer_encoding;
	fi->container = p->container;
	fi->zip_member = p->zip_member;
	fi->kind = mime_kind_name(p->kind);
	fi->encoded_bytes = p->encoded_bytes;
}

/* Read the rest of a payload so its size and SHA-256 are complete. */
static void
pipe_drain(struct mime_stream *s)
{
	char	 buf[65536];
	char	*cause = NULL;

	while (mime_stream_read(s, buf, sizeof buf, &cause) > 0)
		;
	free(cause);
}

static int
pipe_payload(struct mime_payload *p, void *arg, char **cause)
{
	struct pipe_msg	*pm = arg;

	if (p->kind == MIME_KIND_XML)
		return (pipe_xml(pm, p, cause));
	return (pipe_other(pm, p, cause));
}

/*
 * SMTP TLS reports and failure reports are recognised and their provenance
 * kept; parsing them is a later step, so the message counts as ignored.
 */
static int
pipe_other(struct pipe_msg *pm, struct mime_payload *p, char **cause)
{
	struct sink_file_info	 fi;
	uint64_t		 bytes;
	unsigned char		 sha[32];
	char			*why;

	pipe_file_info(p, &fi);
	if (sink_payload_savepoint(pm->sink, cause) != 0 ||
	    sink_file_begin(pm->sink, &fi, cause) != 0)
		return (-1);
	pipe_drain(p->stream);
	mime_stream_stats(p->stream, &bytes, sha);
	xasprintf(&why, "%s payload (%s) is not stored yet",
	    p->kind == MIME_KIND_JSON ? "SMTP TLS report" : "failure report",
	    mime_kind_name(p->kind));
	if (sink_file_end(pm->sink, bytes, sha, why, cause) != 0) {
		free(why);
		return (-1);
	}
	pipe_note(pm, p->mime_path, why);
	free(why);
	pm->ignored++;
	return (0);
}

/*
 * Parse one XML payload: strictly first, then (when the error is one a
 * tolerant reading can help) as windows-1252, then with libxml2 recovery.
 * Each attempt runs inside its own savepoint.
 */
static int
pipe_xml(struct pipe_msg *pm, struct mime_payload *p, char **cause)
{
	struct sink_file_info	 fi;
	struct report_limits	 rl;
	enum report_status	 st;
	uint64_t		 bytes;
	unsigned char		 sha[32];
	char			*pcause = NULL, *rcause = NULL;
	int			 retry, mode;

	pipe_file_info(p, &fi);
	report_limits_default(&rl);
	rl.max_records = pm->limits->max_records;
	for (mode = REPORT_STRICT; mode <= REPORT_RECOVER; mode++) {
		if (mode != REPORT_STRICT &&
		    mime_stream_rewind(p->stream, &rcause) != 0)
			break;
		if (sink_payload_savepoint(pm->sink, cause) != 0 ||
		    sink_file_begin(pm->sink, &fi, cause) != 0) {
			free(pcause);
			return (-1);
		}
		rl.mode = mode;
		free(pcause);
		pcause = NULL;
		retry = 0;
		st = report_parse_xml(mime_stream_read, p->stream, &rl,
		    &pipe_callbacks, pm, &retry, &pcause);
		if (st == REPORT_ABORTED) {
			*cause = pcause;
			return (-1);
		}
		if (st == REPORT_INVALID) {
			if (sink_payload_rollback(pm->sink, cause) != 0) {
				free(pcause);
				return (-1);
			}
			if (retry)
				continue;
			break;
		}
		pipe_drain(p->stream);
		mime_stream_stats(p->stream, &bytes, sha);
		if (st == REPORT_NOT_DMARC) {
			if (sink_file_end(pm->sink, bytes, sha, pcause,
			    cause) != 0) {
				free(pcause);
				return (-1);
			}
			pipe_note(pm, p->mime_path, pcause);
			pm->ignored++;
		} else {
			if (sink_file_end(pm->sink, bytes, sha, NULL,
			    cause) != 0) {
				free(pcause);
				return (-1);
			}
			if (st == REPORT_DUPLICATE)
				pm->duplicate++;
			else
				pm->stored++;
		}
		free(pcause);
		return (0);
	}
	if (rcause != NULL) {
		free(pcause);
		pcause = rcause;
	}
	mode = pipe_record_failed(pm, p, pcause != NULL ? pcause :
	    "unreadable XML", cause);
	free(pcause);
	return (mode);
}

/* Keep a row for a payload that could not be read. */
static int
pipe_record_failed(struct pipe_msg *pm, struct mime_payload *p,
    const char *why, char **cause)
{
	struct sink_file_info	 fi;
	uint64_t		 bytes;
	unsigned char		 sha[32];
	char			*rc = NULL;

	pipe_file_info(p, &fi);
	if (mime_stream_rewind(p->stream, &rc) == 0)
		pipe_drain(p->stream);
	free(rc);
	mime_stream_stats(p->stream, &bytes, sha);
	if (sink_payload_savepoint(pm->sink, cause) != 0 ||
	    sink_file_begin(pm->sink, &fi, cause) != 0 ||
	    sink_file_end(pm->sink, bytes, sha, why, cause) != 0)
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
	pipe_file_info(p, &fi);
	if (fi.container == NULL)
		fi.container = "unknown";
	if (sink_payload_savepoint(pm->sink, &cause) != 0 ||
	    sink_file_begin(pm->sink, &fi, &cause) != 0 ||
	    sink_file_end(pm->sink, 0, NULL, why, &cause) != 0)
		pm->dbcause = cause;
}

int
pipeline_message(struct sink *sink, const struct conf_limits *limits,
    struct sink_msg_info *info, const char *buf, size_t len,
    struct pipeline_counts *counts, char **detail, char **cause)
{
	struct pipe_msg		 pm;
	struct mime_limits	 ml;
	struct mime_info	 mi;
	enum mime_status	 ms;
	enum sink_status	 prior, status;
	char			*mcause = NULL;
	int			 outcome, rc;

	*detail = NULL;
	memset(&pm, 0, sizeof pm);
	pm.sink = sink;
	pm.limits = limits;
	mime_info_read(buf, len, &mi);
	info->message_id = mi.message_id;
	info->from = mi.from;
	info->subject = mi.subject;
	info->date = mi.date;
	info->auth_results = mi.auth_results;
	rc = sink_msg_begin(sink, info, &prior, cause);
	info->message_id = info->from = info->subject = NULL;
	info->auth_results = NULL;
	mime_info_free(&mi);
	if (rc != 0)
		return (-1);
	if (prior != SINK_NONE && prior != SINK_CLAIMED) {
		sink_msg_rollback(sink);
		return (PIPE_ALREADY);
	}
	mime_limits_default(&ml);
	ml.max_payload = limits->max_payload_size;
	ms = mime_scan_all(buf, len, &ml, NULL, pipe_payload, pipe_bad_part,
	    &pm, &mcause);
	if (ms == MIME_ABORTED || pm.dbcause != NULL) {
		sink_msg_rollback(sink);
		free(pm.detail);
		if (pm.dbcause != NULL) {
			free(mcause);
			*cause = pm.dbcause;
		} else
			*cause = mcause;
		return (-1);
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
	if (sink_msg_commit(sink, status, pm.detail, cause) != 0) {
		free(pm.detail);
		return (-1);
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
	*detail = pm.detail;
	return (outcome);
}

int
pipeline_too_large(struct sink *sink, struct sink_msg_info *info,
    uint64_t size, uint64_t cap, struct pipeline_counts *counts,
    char **cause)
{
	enum sink_status	 prior;
	char			*detail;
	int			 rc;

	if (sink_msg_begin(sink, info, &prior, cause) != 0)
		return (-1);
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
		return (-1);
	}
	counts->fetched++;
	counts->invalid++;
	return (PIPE_TOO_LARGE);
}

const char *
pipeline_counts_line(const struct pipeline_counts *c)
{
	static char	line[160];

	snprintf(line, sizeof line, "%u fetched, %u stored, %u duplicate, "
	    "%u invalid", c->fetched, c->stored, c->duplicate, c->invalid);
	if (c->ignored != 0)
		snprintf(line + strlen(line), sizeof line - strlen(line),
		    ", %u ignored", c->ignored);
	return (line);
}
