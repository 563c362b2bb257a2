/*
 * cmd-prune.c: `dmarc-agent prune [--dry-run]`, delete what is older than
 * the retention group of the configuration says, and prune_pass, which
 * `run` also makes once a day.
 *
 * Kind by kind (enum sink_prune in sink.h says what each deletes):
 * reports, TLS reports, failure reports (personal data: this is how a
 * user keeps them no longer than their own policy allows), raw payloads
 * and the whole report mails kept for verify (both by `raw`), then the
 * ledger (after the reports, whose deletion frees ledger rows) and the
 * polls' rows.
 * A kind without a retention is never touched.  Each batch is its own
 * short transaction, so polls go on meanwhile.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "agent/agent.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "sink/sink.h"

/*
 * Batches: about a tenth of a second of deletes each on the bench
 * machine (a report has 300 records on average there, each with a DKIM
 * and an SPF row).
 */
static const struct prune_kind {
	const char	*setting;	/* item of the retention group */
	enum sink_prune	 what;
	size_t		 batch;
	size_t		 off;		/* of its days in conf_retention */
} kinds[] = {
	{ "reports", SINK_PRUNE_REPORTS, 50,
	    offsetof(struct conf_retention, reports) },
	{ "tls_reports", SINK_PRUNE_TLS, 200,
	    offsetof(struct conf_retention, tls_reports) },
	{ "failure_reports", SINK_PRUNE_FAILURE, 200,
	    offsetof(struct conf_retention, failure_reports) },
	{ "raw", SINK_PRUNE_RAW, 200, offsetof(struct conf_retention, raw) },
	{ "raw", SINK_PRUNE_MAIL_RAW, 200,
	    offsetof(struct conf_retention, raw) },
	{ "ledger", SINK_PRUNE_LEDGER, 2000,
	    offsetof(struct conf_retention, ledger) },
	{ "ledger", SINK_PRUNE_RUNS, 2000,
	    offsetof(struct conf_retention, ledger) },
};
#define NKINDS	(sizeof kinds / sizeof kinds[0])

static int	prune_days(const struct conf *, const struct prune_kind *);
static void	prune_say(FILE *, const struct prune_kind *, int, time_t,
		    const struct sink_prune_count *, int);
static int	prune_kind(struct sink *, const struct prune_kind *,
		    const time_t *, int, long, int (*)(void),
		    struct sink_prune_count *, char **);

static int
prune_days(const struct conf *conf, const struct prune_kind *k)
{
	return (*(const int *)(const void *)((const char *)&conf->retention +
	    k->off));
}

/* One line: what went (or would go) from which tables. */
static void
prune_say(FILE *out, const struct prune_kind *k, int days, time_t before,
    const struct sink_prune_count *c, int dry)
{
	char		 when[32], what[256];
	struct tm	 tm;
	const char	*verb = dry ? "would delete" : "deleted";
	unsigned long long r = c->rows, i = c->items, f = c->files;

	gmtime_r(&before, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
	switch (k->what) {
	case SINK_PRUNE_REPORTS:
		snprintf(what, sizeof what, "%s %llu report, %llu record and "
		    "%llu report_file rows", verb, r, i, f);
		break;
	case SINK_PRUNE_TLS:
		snprintf(what, sizeof what, "%s %llu tlsrpt_report, %llu "
		    "tlsrpt_policy and %llu report_file rows", verb, r, i, f);
		break;
	case SINK_PRUNE_FAILURE:
		snprintf(what, sizeof what, "%s %llu failure_report, %llu "
		    "report_file and %llu message_raw rows", verb, r, f, i);
		break;
	case SINK_PRUNE_RAW:
		snprintf(what, sizeof what, "%s %llu report_raw rows (the raw "
		    "copies of %llu payloads)", verb, i, r);
		break;
	case SINK_PRUNE_MAIL_RAW:
		snprintf(what, sizeof what, "%s %llu message_raw rows (the "
		    "whole mail of %llu messages, kept for verify)", verb, i, r);
		break;
	case SINK_PRUNE_LEDGER:
		if (dry)
			snprintf(what, sizeof what, "%s %llu mail_message and "
			    "%llu report_file rows (their UIDs would be kept "
			    "in mail_settled)", verb, r, f);
		else
			snprintf(what, sizeof what, "%s %llu mail_message and "
			    "%llu report_file rows (their UIDs kept in %llu new "
			    "mail_settled ranges)", verb, r, f, i);
		break;
	case SINK_PRUNE_RUNS:
		snprintf(what, sizeof what, "%s %llu ingest_run rows (polls; "
		    "each mailbox's last success and later ones stay)", verb, r);
		break;
	case SINK_NPRUNE:
		fatalx("%s: no such kind", __func__);
	}
	if (out != NULL)
		fprintf(out, "prune: %s older than %d days (before %s UTC): "
		    "%s\n", k->setting, days, when, what);
	else if (r + i + f != 0)	/* data went: always said */
		log_warnx("prune: %s older than %d days (before %s UTC): %s",
		    k->setting, days, when, what);
	else
		log_info("prune: %s older than %d days (before %s UTC): %s",
		    k->setting, days, when, what);
}

/*
 * Every batch of one kind (or, dry, the count of what they would delete
 * once the kinds before it went), with nap_ms between two; stops early
 * (returns 1) when stop says so.
 */
static int
prune_kind(struct sink *sink, const struct prune_kind *k, const time_t *cut,
    int dry, long nap_ms, int (*stop)(void), struct sink_prune_count *c,
    char **cause)
{
	struct timespec	 nap;
	int64_t		 cursor = 0;
	int		 more = 1;

	memset(c, 0, sizeof *c);
	if (dry)
		return (sink_prune_count(sink, k->what, cut, c, cause));
	nap.tv_sec = nap_ms / 1000;
	nap.tv_nsec = (nap_ms % 1000) * 1000000;
	while (more) {
		if (stop())
			return (1);
		if (sink_prune_batch(sink, k->what, cut[k->what], k->batch,
		    &cursor, c, &more, cause) != 0)
			return (-1);
		if (more && nap_ms > 0)
			nanosleep(&nap, NULL);
	}
	return (0);
}

/*
 * One pass over every kind with a retention: a line each on out (NULL:
 * the log).  0; 1 when stop (NULL: agent_quitting) cut it short; -1
 * (logged) when the database failed.
 */
int
prune_pass(const struct conf *conf, struct sink *sink, int dry, long nap_ms,
    int (*stop)(void), FILE *out)
{
	struct sink_prune_count	 c;
	const struct prune_kind	*k;
	time_t			 cut[SINK_NPRUNE], now = time(NULL);
	char			*cause = NULL;
	size_t			 i;
	int			 days, rc;

	memset(cut, 0, sizeof cut);
	for (i = 0; i < NKINDS; i++)
		if ((days = prune_days(conf, &kinds[i])) > 0)
			cut[kinds[i].what] = now - (time_t)days * 86400;
	for (i = 0; i < NKINDS; i++) {
		k = &kinds[i];
		if (cut[k->what] == 0)
			continue;
		rc = prune_kind(sink, k, cut, dry, nap_ms, stop != NULL ? stop :
		    agent_quitting, &c, &cause);
		if (rc == -1) {
			log_warnx("prune: %s: %s", k->setting, cause);
			free(cause);
			return (-1);
		}
		prune_say(out, k, prune_days(conf, k), cut[k->what], &c, dry);
		if (rc == 1)
			return (1);
	}
	return (0);
}

/* True when the configuration sets any retention. */
int
prune_wanted(const struct conf *conf)
{
	size_t	i;

	for (i = 0; i < NKINDS; i++)
		if (prune_days(conf, &kinds[i]) > 0)
			return (1);
	return (0);
}

int
cmd_prune(struct cmd_env *env, int argc, char **argv)
{
	struct sink	*sink;
	int		 dry = 0, rc;

	if (argc == 1 && strcmp(argv[0], "--dry-run") == 0)
		dry = 1;
	else if (argc != 0) {
		log_warnx("usage: dmarc-agent prune [--dry-run]");
		return (EXIT_USAGE);
	}
	if (!prune_wanted(env->conf)) {
		printf("prune: no retention set in %s: nothing is ever "
		    "deleted\n", env->conf_file);
		return (0);
	}
	if ((sink = agent_sink_connect(env->conf, env->conf->auto_migrate)) ==
	    NULL)
		return (EXIT_OPFAIL);
	rc = prune_pass(env->conf, sink, dry, 0, NULL, stdout);
	fflush(stdout);
	sink_close(sink);
	return (rc == 0 ? 0 : EXIT_OPFAIL);
}
