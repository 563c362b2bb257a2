/*
 * cmd-report.c: `dmarc-agent report`, the read side; show/ does the work
 * on a libpq connection of its own.  With --mail the report goes out as a
 * mail instead (deliver/, the notify.mail settings): its text part the
 * text report, its HTML part the mail-safe page of show-mail.c.
 *
 * The summary mail of the summary group is the same mail, which `run`
 * sends once per period (summary_pass): the period's row in
 * dmarc.summary_sent says whether it went, so a restart neither skips nor
 * repeats one.
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

#define REPORT_MAX_TO	32	/* --to addresses */

static const char *every_names[] = { "", "daily", "weekly", "monthly" };

static int	report_mail(const struct conf *, const struct show_opts *,
		    const char *const *, size_t);
static int	report_render_send(const struct conf *,
		    const struct show_opts *, const char *const *, size_t,
		    char **);
static void	summary_day(long, char *);
static long	summary_period(enum conf_every, long, long *);

/* The report rendered for a mail and sent to to; -1 and *cause. */
static int
report_render_send(const struct conf *c, const struct show_opts *o,
    const char *const *to, size_t nto, char **cause)
{
	struct deliver_message	 msg;
	struct deliver_mail	 m;
	struct show		*s;
	char			*subj, *text, *html, *why = NULL;
	int			 rc;

	if ((s = show_open(c->conninfo, &why)) == NULL) {
		xasprintf(cause, "database: %s", why);
		free(why);
		return (-1);
	}
	rc = show_mail_render(s, o, &subj, &text, &html, cause);
	show_close(s);
	if (rc != 0)
		return (-1);
	alerts_mail_opts(c, &m);
	m.to = to;
	m.nto = nto;
	msg.subject = subj;
	msg.text = text;
	msg.html = html;
	rc = deliver_mail_send(&m, &msg, cause);
	free(subj);
	free(text);
	free(html);
	return (rc);
}

/* report --mail: send it now, to to (or the summary's, or notify's). */
static int
report_mail(const struct conf *c, const struct show_opts *o,
    const char *const *to, size_t nto)
{
	char	*cause = NULL;

	if (nto == 0 && c->summary.nto != 0) {
		to = (const char *const *)c->summary.to;
		nto = c->summary.nto;
	} else if (nto == 0) {
		to = (const char *const *)c->notify.mail->to;
		nto = c->notify.mail->nto;
	}
	if (report_render_send(c, o, to, nto, &cause) != 0) {
		log_warnx("report: %s", cause);
		free(cause);
		return (EXIT_OPFAIL);
	}
	log_info("report: mailed to %zu address(es)", nto);
	return (0);
}

int
cmd_report(struct cmd_env *env, int argc, char **argv)
{
	struct show_opts	 o;
	const char		*to[REPORT_MAX_TO];
	char			**rest, *cause = NULL;
	size_t			 nto = 0;
	int			 i, n = 0, mail = 0, rc;

	rest = xcalloc((size_t)argc + 1, sizeof *rest);
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--mail") == 0)
			mail = 1;
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc &&
		    nto < REPORT_MAX_TO)
			to[nto++] = argv[++i];
		else
			rest[n++] = argv[i];
	}
	if (!mail && nto == 0) {
		free(rest);
		return (show_main(env->conf->conninfo, argc, argv));
	}
	rc = show_args(n, rest, &o, &cause);
	free(rest);
	if (rc != 0 || !mail || o.output != NULL || o.format != SHOW_TEXT) {
		log_warnx("report: %s", cause != NULL ? cause : "--to, -o and"
		    " --format: --mail [--to ADDR]... only");
		free(cause);
		fputs("usage: dmarc-agent [-c FILE] COMMAND\n", stderr);
		fputs(show_usage, stderr);
		return (EXIT_USAGE);
	}
	for (i = 0; i < (int)nto; i++)
		if (strchr(to[i], '@') == NULL || strpbrk(to[i],
		    " \t\r\n<>,;\"") != NULL) {
			log_warnx("report: --to: not a mail address");
			return (EXIT_USAGE);
		}
	if (env->conf->notify.mail == NULL) {
		log_warnx("report: --mail needs notify.mail in %s",
		    env->conf_file);
		return (EXIT_USAGE);
	}
	return (report_mail(env->conf, &o, to, nto));
}

/* Days since 1970-01-01 as YYYY-MM-DD (11 bytes). */
static void
summary_day(long day, char *out)
{
	struct tm	tm;
	time_t		t = (time_t)day * 86400;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, 11, "%Y-%m-%d",
	    &tm) != 10)
		fatalx("%s: day %ld", __func__, day);
}

/*
 * The first day of the period holding day (days since 1970-01-01, UTC):
 * itself, its ISO week's Monday (1970-01-01 was a Thursday), its month's
 * first.  *next: the first day of the period after.
 */
static long
summary_period(enum conf_every every, long day, long *next)
{
	struct tm	tm;
	time_t		t = (time_t)day * 86400;
	long		start;

	switch (every) {
	case CONF_EVERY_WEEKLY:
		start = day - (day + 3) % 7;
		*next = start + 7;
		return (start);
	case CONF_EVERY_MONTHLY:
		gmtime_r(&t, &tm);
		start = day - (tm.tm_mday - 1);
		tm.tm_mon++;
		tm.tm_mday = 1;
		tm.tm_hour = 12;
		*next = (long)(timegm(&tm) / 86400);
		return (start);
	case CONF_EVERY_DAILY:
	case CONF_EVERY_NONE:
	default:
		*next = day + 1;
		return (day);
	}
}

int
summary_pass(const struct conf *c, long *wait)
{
	const struct conf_summary	*su = &c->summary;
	struct show_opts		 o;
	struct show			*s;
	const char *const		*to;
	const char			*every = every_names[su->every];
	char				 period[11], first[11], *cause = NULL;
	char				*why = NULL;
	time_t				 now = time(NULL);
	long				 today, start, next, secs;
	size_t				 nto;
	int				 due, rc;

	*wait = -1;
	if (su->every == CONF_EVERY_NONE || c->notify.mail == NULL)
		return (0);
	today = (long)(now / 86400);
	start = summary_period(su->every, today, &next);
	summary_day(start, period);
	memset(&o, 0, sizeof o);
	o.days = su->days;
	o.format = SHOW_TEXT;
	summary_day(start - 1, o.until);
	summary_day(start - su->days, first);
	to = (const char *const *)(su->nto != 0 ? su->to : c->notify.mail->to);
	nto = su->nto != 0 ? su->nto : c->notify.mail->nto;
	/* Whatever happens, look again when the next period begins. */
	*wait = next * 86400 - (long)now;
	if ((s = show_open(c->conninfo, &cause)) == NULL) {
		log_warnx("summary: database: %s", cause);
		free(cause);
		return (-1);
	}
	if (show_summary_claim(s, every, period, first, o.until, to, nto,
	    &due, &cause) != 0)
		goto fail;
	if (due) {
		rc = report_render_send(c, &o, to, nto, &why);
		if (rc != 0)
			log_warnx("summary: the %s summary of %s not sent, tried"
			    " again later: %s", every, period, why);
		else
			log_info("summary: the %s summary of %s (%s to %s)"
			    " sent to %zu address(es)", every, period, first,
			    o.until, nto);
		rc = show_summary_done(s, every, period, why, c->notify.retry,
		    &cause);
		free(why);
		if (rc != 0)
			goto fail;
	}
	if (show_summary_next(s, every, period, &secs, &cause) != 0)
		goto fail;
	if (secs >= 0 && secs < *wait)
		*wait = secs;
	show_close(s);
	return (0);
fail:
	log_warnx("summary: %s", cause);
	free(cause);
	show_close(s);
	return (-1);
}
