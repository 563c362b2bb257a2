/*
 * cmd-reparse.c: `dmarc-agent reparse [--all | --since DATE | REPORT_ID...]`.
 *
 * Re-derives report rows from the raw payloads the sink kept (gzip'd),
 * after a parser upgrade.  Each payload is done in a transaction of its
 * own; the report keeps its id, natural key, first_seen and seen_count, so
 * running it twice gives the same rows.  Payloads that failed before are
 * tried again (with --all) and stored when they now parse.  The message
 * that delivered each payload is verified again when it was kept whole
 * (verify_payload), so a rewritten report gets its authenticity back.
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
#include "report/report.h"
#include "sink/sink.h"

struct reparse_counts {
	unsigned	payloads, reparsed, failed;
};

static int	rp_head(const struct report_head *, void *, char **);
static int	rp_records(const struct report_record *, size_t, void *,
		    char **);
static int	rp_end(const struct report_head *, void *, char **);
static int	rp_one(struct sink *, const struct conf *, int64_t,
		    struct reparse_counts *, char **);
static int	rp_args(int, char **, struct sink_raw_filter *);

static const struct report_callbacks rp_callbacks = {
	rp_head, rp_records, rp_end
};

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

/*
 * Reparse one payload, trying the strict, windows-1252 and recovery modes
 * in turn.  Returns 0 (counted as reparsed or failed), or -1 with *cause
 * when the database failed.
 */
static int
rp_one(struct sink *sink, const struct conf *conf, int64_t id,
    struct reparse_counts *c, char **cause)
{
	struct report_limits	 rl;
	struct sink_raw		*raw;
	enum report_status	 st = REPORT_INVALID;
	char			*pcause = NULL;
	int			 mode, retry = 0;

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
		if (st == REPORT_OK || st == REPORT_DUPLICATE ||
		    st == REPORT_NOT_DMARC) {
			free(pcause);
			if (sink_reparse_commit(sink, st == REPORT_NOT_DMARC ?
			    "not a DMARC aggregate report" : NULL, cause) != 0)
				return (-1);
			c->reparsed++;
			return (0);
		}
		sink_reparse_rollback(sink);
		if (st == REPORT_ABORTED &&
		    sink_last_error(sink) != SINK_ERR_DATA) {
			*cause = pcause;
			return (-1);
		}
		if (st != REPORT_INVALID || !retry)
			break;
	}
	if (sink_reparse_begin(sink, id, cause) != 0 ||
	    sink_reparse_commit(sink, pcause != NULL ? pcause :
	    "unreadable XML", cause) != 0) {
		free(pcause);
		return (-1);
	}
	log_warnx("reparse: payload %lld: %s", (long long)id,
	    pcause != NULL ? pcause : "unreadable XML");
	free(pcause);
	c->failed++;
	return (0);
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
	printf("reparse: %u payloads, %u reparsed, %u failed\n", c.payloads,
	    c.reparsed, c.failed);
	pipeline_shutdown();
	sink_close(sink);
	return (rc);
}
