/*
 * show.h: the read side, "dmarc-agent report".
 *
 * show/ reads the dmarc schema's views with libpq (it does not use the
 * sink) and writes one report over a window of UTC days, per policy
 * domain: daily volume and DMARC pass rate, top sources, sources failing
 * DMARC, suspected forwarding and spoofing, reporters.  Three formats: text
 * for a terminal (80 columns, colours only on a terminal), one
 * self-contained HTML page, and JSON (doc/dashboards.md).
 *
 * Everything read from the database came from a report and is escaped for
 * the output it goes to.
 */
#ifndef SHOW_H
#define SHOW_H

#include <stdio.h>

enum show_format {
	SHOW_TEXT,
	SHOW_HTML,
	SHOW_JSON,
	SHOW_MAIL		/* the HTML part of a mail (show-mail.c) */
};

/* What to show.  show_args fills it; the strings are borrowed from argv. */
struct show_opts {
	int		 days;		/* window length, 1 to 3660 */
	char		 until[11];	/* last day, YYYY-MM-DD, UTC */
	const char	*domain;	/* one policy domain, NULL: all */
	enum show_format format;
	const char	*output;	/* -o FILE; NULL: standard output */
	int		 color;		/* ANSI colours in text output */
};

struct show;

/*
 * Parse the report command's arguments: argv[0] .. argv[argc - 1] are the
 * words after "report" (argv[0] is not a program name):
 *   [--days N] [--until YYYY-MM-DD] [--domain D]
 *   [--format text|html|json|mail]
 *   [-o FILE]
 * Defaults: 30 days up to today (UTC), every domain, text, standard output,
 * no colour (show_main turns it on for a terminal).  -1 and *cause on a
 * usage error.
 */
int	show_args(int, char **, struct show_opts *, char **);

/* Whether s is a real date, YYYY-MM-DD; today's UTC date into out[11]. */
int	show_day_valid(const char *);
void	show_today(char *);

/* Connect (libpq conninfo or URI) and check the schema; NULL and *cause. */
struct show *show_open(const char *, char **);

/* Write the report to f.  -1 and *cause when a query fails. */
int	show_write(struct show *, const struct show_opts *, FILE *, char **);

/*
 * The report as a mail: its Subject (raw, the window and the domains'
 * pass rates), its text part (the text report, no colours) and its
 * mail-safe HTML part, read in one transaction.  The caller frees the
 * three.  -1 and *cause when a query fails.
 */
int	show_mail_render(struct show *, const struct show_opts *, char **,
	    char **, char **, char **);

/* Disconnect and free. */
void	show_close(struct show *);

/*
 * The whole command: parse the arguments, connect, write to -o FILE or
 * standard output (colours when it is a terminal), log what failed.
 * Returns the exit code: 0, 1 (database or file failure), 2 (usage).
 */
int	show_main(const char *, int, char **);

/* The usage lines of the report command, for the program's usage text. */
extern const char show_usage[];

/*
 * The senders command (show-senders.c): the senders seen per policy
 * domain, approved or not, or a change to dmarc.approved_sender:
 *   senders [--domain D] [--days N] [--until YYYY-MM-DD]
 *           [--format text|json]
 *   senders approve DOMAIN KIND VALUE [--note TEXT]
 *   senders unapprove DOMAIN KIND VALUE
 * KIND is domain, ptr, name, asn or cidr.  Returns the exit code: 0, 1
 * (database failure; unapproving what was not approved), 2 (usage).
 */
int	show_senders_main(const char *, int, char **);
extern const char show_senders_usage[];

/*
 * Alerts (show-alert.c, show-alert-msg.c; schema 11).  The rules, in the
 * order of the configuration's alerts group:
 */
enum show_rule {
	SHOW_RULE_NFS,		/* new_failing_source */
	SHOW_RULE_ASF,		/* approved_sender_failing */
	SHOW_RULE_PRD,		/* pass_rate_drop */
	SHOW_RULE_SR,		/* silent_reporter */
	SHOW_RULE_MF,		/* mailbox_failing */
	SHOW_NRULES
};
extern const char *const show_rule_names[SHOW_NRULES];

/* What the rules look at, and their thresholds (the caller fills it). */
struct show_rules {
	char		 until[11];	/* the last day, YYYY-MM-DD (UTC) */
	int		 days;		/* the days up to it looked at */
	int		 hold;		/* seconds a report waits for its
					   addresses' enrichment; 0: none */
	int		 on[SHOW_NRULES];
	int		 nfs_min;	/* failing messages in a day */
	int		 asf_min;	/* messages in a day */
	int		 asf_rate;	/* pass rate under this percentage */
	int		 prd_points;	/* points under the median */
	int		 prd_min;	/* messages in the day */
	int		 prd_history;	/* days the median is taken over */
	int		 sr_days;	/* days without a report */
	int		 mf_polls;	/* failed polls in a row */
	const char *const *mailboxes;	/* borrowed: the configured ones */
	size_t		 nmailboxes;
};

struct show_alert_counts {
	unsigned	 fresh;		/* raised now */
	unsigned	 open;		/* raised before, still true */
	unsigned	 resolved;	/* no longer true */
};

/*
 * Evaluate the rules and record their alerts (dmarc.alert), resolve those
 * that no longer hold, and owe a delivery on each of the channels
 * ("mail", "webhook") for each new episode; one transaction, rolled back
 * with dry_run.  Each alert found or resolved is a line on out (when not
 * NULL).  -1 and *cause when a query failed (nothing recorded).
 */
int	show_alerts_evaluate(struct show *, const struct show_rules *,
	    const char *const *, size_t, int, FILE *,
	    struct show_alert_counts *, char **);

/*
 * The deliveries due on one channel, at most 100 alerts, locked in a
 * transaction left open until show_alerts_done records the outcome:
 * delivered (error NULL: the alert is notified once every channel of
 * channels delivered it) or failed (tried again after retry seconds,
 * doubling with each attempt, up to an hour).  show_alerts_due gives
 * *out NULL when nothing is due; show_alerts_done frees the batch either
 * way.  -1 and *cause on a database failure.
 */
struct show_alerts;
int	show_alerts_due(struct show *, const char *, struct show_alerts **,
	    char **);
int	show_alerts_done(struct show *, struct show_alerts *, const char *,
	    int, const char *const *, size_t, char **);
void	show_alerts_free(struct show_alerts *);
size_t	show_alerts_count(const struct show_alerts *);
/* Seconds until the next owed delivery is due (0: now), -1: none. */
int	show_alerts_next(struct show *, const char *const *, size_t, long *,
	    char **);

/*
 * The batch as a message: a Subject (raw: the caller's mail code makes it
 * a header), a text part, a mail-safe HTML part, and the webhook's JSON
 * (sent_at the time, RFC 3339).  Every value from a report is cleaned or
 * escaped for where it goes.  The caller frees each.
 */
char	*show_alerts_subject(const struct show_alerts *);
char	*show_alerts_text(const struct show_alerts *);
char	*show_alerts_html(const struct show_alerts *);
char	*show_alerts_json(const struct show_alerts *, const char *);

/*
 * The summary mail's schedule (show-summary.c): the summary of one period
 * (every: "daily", "weekly" or "monthly"; the period's first day) covering
 * [first, last], for the recipients.  show_summary_claim inserts its
 * dmarc.summary_sent row when missing; when it is due (not sent, its next
 * attempt come, no other agent sending it) *due is 1 and the row stays
 * locked in a transaction until show_summary_done records the outcome:
 * sent (error NULL), or tried again after retry seconds, doubling up to an
 * hour.  show_summary_next: seconds until it is due (0: now), -1 when it
 * was sent.  -1 and *cause on a database failure.
 */
int	show_summary_claim(struct show *, const char *, const char *,
	    const char *, const char *, const char *const *, size_t, int *,
	    char **);
int	show_summary_done(struct show *, const char *, const char *,
	    const char *, int, char **);
int	show_summary_next(struct show *, const char *, const char *, long *,
	    char **);

#endif
