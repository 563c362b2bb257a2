/*
 * cmd-alerts.c: `dmarc-agent alerts`, and the alerting pass `run` makes
 * after polls and at least hourly: evaluate the rules of the alerts group
 * (show/ records them in dmarc.alert), then deliver what is owed on each
 * channel of the notify group (deliver/ sends it).
 *
 * A delivery that fails stays owed, in the database, and is tried again
 * after notify.retry seconds, doubling up to an hour: `alerts` tries what
 * is due when it runs, `run` wakes up when the next try is due.
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
#include "deliver/deliver.h"
#include "show/show.h"

static void	alerts_rules(const struct conf *, const char *,
		    struct show_rules *, const char **);
static size_t	alerts_channels(const struct conf *, const char **);
static int	alerts_deliver(const struct conf *, struct show *,
		    const char *, const char **, size_t, unsigned *);
static int	alerts_send(const struct conf *, const char *,
		    const struct show_alerts *, char **);

const char alerts_usage[] =
    "  alerts [--dry-run] [--until YYYY-MM-DD]\n"
    "                      evaluate the alert rules, record and notify\n";

/* The rules as configured, evaluated up to until (YYYY-MM-DD). */
static void
alerts_rules(const struct conf *c, const char *until, struct show_rules *r,
    const char **mbs)
{
	const struct conf_alert_rule	*a = c->alerts.rule;
	size_t				 i;

	memset(r, 0, sizeof *r);
	snprintf(r->until, sizeof r->until, "%s", until);
	r->days = c->alerts.days;
	/* Wait for the enrichment's names, when it runs, an hour at most. */
	r->hold = c->enrich.enabled ? 3600 : 0;
	for (i = 0; i < CONF_NRULES; i++)
		r->on[i] = a[i].enabled;
	r->nfs_min = a[CONF_RULE_NEW_FAILING_SOURCE].min_messages;
	r->asf_min = a[CONF_RULE_APPROVED_SENDER_FAILING].min_messages;
	r->asf_rate = a[CONF_RULE_APPROVED_SENDER_FAILING].pass_rate;
	r->prd_points = a[CONF_RULE_PASS_RATE_DROP].points;
	r->prd_min = a[CONF_RULE_PASS_RATE_DROP].min_messages;
	r->prd_history = a[CONF_RULE_PASS_RATE_DROP].history_days;
	r->sr_days = a[CONF_RULE_SILENT_REPORTER].days;
	r->mf_polls = a[CONF_RULE_MAILBOX_FAILING].polls;
	for (i = 0; i < c->nmailboxes; i++)
		mbs[i] = c->mailboxes[i].name;
	r->mailboxes = mbs;
	r->nmailboxes = c->nmailboxes;
}

/* The configured channels' names into ch (room for two). */
static size_t
alerts_channels(const struct conf *c, const char **ch)
{
	size_t	n = 0;

	if (c->notify.mail != NULL)
		ch[n++] = "mail";
	if (c->notify.webhook != NULL)
		ch[n++] = "webhook";
	return (n);
}

/* The mail settings of the notify group for deliver/ (to: its own). */
void
alerts_mail_opts(const struct conf *c, struct deliver_mail *m)
{
	const struct conf_notify_mail	*ml = c->notify.mail;

	memset(m, 0, sizeof *m);
	m->url = ml->url;
	m->username = ml->username;
	m->password = ml->password;
	m->ca_file = ml->tls_ca_file;
	m->from = ml->from;
	m->to = (const char *const *)ml->to;
	m->nto = ml->nto;
	m->timeout = (long)c->limits.timeout;
	m->cancel = agent_quitting;
}

/* One batch out on one channel. */
static int
alerts_send(const struct conf *c, const char *ch, const struct show_alerts *a,
    char **cause)
{
	const struct conf_notify_hook	*h = c->notify.webhook;
	struct deliver_message		 msg;
	struct deliver_mail		 m;
	struct deliver_hook		 hk;
	struct tm			 tm;
	time_t				 now = time(NULL);
	char				 when[32], *body;
	int				 rc;

	if (strcmp(ch, "mail") == 0) {
		alerts_mail_opts(c, &m);
		msg.subject = show_alerts_subject(a);
		msg.text = show_alerts_text(a);
		msg.html = show_alerts_html(a);
		rc = deliver_mail_send(&m, &msg, cause);
		free((char *)msg.subject);
		free((char *)msg.text);
		free((char *)msg.html);
		return (rc);
	}
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	memset(&hk, 0, sizeof hk);
	hk.url = h->url;
	hk.secret = h->secret;
	hk.secret_len = strlen(h->secret);
	hk.ca_file = h->tls_ca_file;
	hk.timeout = (long)c->limits.timeout;
	hk.cancel = agent_quitting;
	body = show_alerts_json(a, when);
	rc = deliver_webhook(&hk, body, strlen(body), cause);
	free(body);
	return (rc);
}

/*
 * Deliver what is due on channel ch, a batch at a time, until nothing is
 * or a batch failed (logged; owed still).  *sent counts the alerts
 * delivered.  -1 when a delivery failed or the database did.
 */
static int
alerts_deliver(const struct conf *c, struct show *s, const char *ch,
    const char **chs, size_t nch, unsigned *sent)
{
	struct show_alerts	*a;
	char			*cause = NULL, *why = NULL;
	size_t			 n;
	int			 failed;

	for (;;) {
		if (show_alerts_due(s, ch, &a, &cause) != 0) {
			log_warnx("alerts: database: %s", cause);
			free(cause);
			return (-1);
		}
		if (a == NULL)
			return (0);
		n = show_alerts_count(a);
		failed = alerts_send(c, ch, a, &why) != 0;
		if (failed)
			log_warnx("alerts: %zu alert(s) not delivered, tried"
			    " again later: %s", n, why);
		if (show_alerts_done(s, a, failed ? why : NULL, c->notify.retry,
		    chs, nch, &cause) != 0) {
			log_warnx("alerts: database: %s", cause);
			free(cause);
			free(why);
			return (-1);
		}
		free(why);
		why = NULL;
		if (failed)
			return (-1);
		*sent += (unsigned)n;
		log_info("alerts: %zu alert(s) delivered by %s", n, ch);
	}
}

int
alerts_pass(const struct conf *c, const char *until, int dry_run, FILE *out,
    long *next)
{
	struct show_rules	 r;
	struct show_alert_counts n;
	struct show		*s;
	const char		**mbs, *chs[2];
	char			 today[11], *cause = NULL;
	unsigned		 sent[2] = { 0, 0 }, by_mail = 0, by_hook = 0;
	size_t			 nch, i;
	int			 rc = 0;

	*next = -1;
	if (until == NULL) {
		show_today(today);
		until = today;
	}
	if ((s = show_open(c->conninfo, &cause)) == NULL) {
		log_warnx("alerts: database: %s", cause);
		free(cause);
		return (-1);
	}
	mbs = xcalloc(c->nmailboxes + 1, sizeof *mbs);
	alerts_rules(c, until, &r, mbs);
	nch = alerts_channels(c, chs);
	if (show_alerts_evaluate(s, &r, chs, nch, dry_run, out, &n,
	    &cause) != 0) {
		log_warnx("alerts: %s", cause);
		free(cause);
		free(mbs);
		show_close(s);
		return (-1);
	}
	free(mbs);
	for (i = 0; i < nch && !dry_run; i++) {
		if (alerts_deliver(c, s, chs[i], chs, nch, &sent[i]) != 0)
			rc = -1;
		if (*chs[i] == 'm')
			by_mail = sent[i];
		else
			by_hook = sent[i];
	}
	if (!dry_run && show_alerts_next(s, chs, nch, next, &cause) != 0) {
		log_warnx("alerts: database: %s", cause);
		free(cause);
		rc = -1;
	}
	show_close(s);
	if (out != NULL)
		fprintf(out, "alerts: %u new, %u still open, %u resolved%s;"
		    " delivered: %u by mail, %u by webhook%s\n", n.fresh,
		    n.open, n.resolved, dry_run ? " (dry run: nothing"
		    " recorded)" : "", by_mail, by_hook, *next >= 0 ?
		    " (some still owed)" : "");
	else if (n.fresh + n.resolved > 0)
		log_info("alerts: %u new, %u still open, %u resolved",
		    n.fresh, n.open, n.resolved);
	return (rc);
}

/* alerts [--dry-run] [--until YYYY-MM-DD] */
int
cmd_alerts(struct cmd_env *env, int argc, char **argv)
{
	const char	*until = NULL;
	long		 next;
	int		 i, dry = 0;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 ||
		    strcmp(argv[i], "-n") == 0)
			dry = 1;
		else if (strcmp(argv[i], "--until") == 0 && i + 1 < argc &&
		    show_day_valid(argv[i + 1]))
			until = argv[++i];
		else {
			log_warnx("alerts: bad argument \"%.64s\"", argv[i]);
			fprintf(stderr, "usage: dmarc-agent [-c FILE] COMMAND\n"
			    "%s", alerts_usage);
			return (EXIT_USAGE);
		}
	}
	if (alerts_pass(env->conf, until, dry, stdout, &next) != 0)
		return (EXIT_OPFAIL);
	return (fflush(stdout) == 0 ? 0 : EXIT_OPFAIL);
}
