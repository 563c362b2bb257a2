/*
 * show-alert-msg.c: a batch of alerts as something a person can act on:
 * what happened, for which domain, the figures, and what to do (approve
 * the sender, fix its DKIM or SPF, or ignore a spoofer that is being
 * rejected).  One composition per alert, written out three ways: the text
 * part of the mail, its HTML part (mail-safe: tables and inline styles, no
 * style sheet, script or image, at most 640 pixels wide) and the webhook's
 * JSON.
 *
 * Every value from the database is first cleaned (control characters,
 * CR and LF among them, become '?'), so no sentence can break a line of a
 * mail header or body; then each output escapes the sentences for itself
 * (show_html_esc, show_json_esc).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "show/show.h"
#include "show/show_p.h"

#define WRAP		72	/* text part's width */

struct alert_msg {
	char	*title;		/* one line */
	char	*what;		/* what happened, with the figures */
	char	*detail;	/* who and how; may be empty */
	char	*advice;	/* what to do */
	char	*command;	/* a command that helps, or NULL */
};

static const char *rule_colors[SHOW_NRULES] = {
	"#cf222e", "#bc4c00", "#9a6700", "#0969da", "#8250df"
};

static char	*cell(const struct show_table *, size_t, size_t);
static enum show_rule rule_of(const struct show_table *, size_t);
static void	compose(const struct show_table *, size_t, struct alert_msg *);
static void	compose_nfs(const struct show_table *, size_t,
		    struct alert_msg *);
static void	compose_asf(const struct show_table *, size_t,
		    struct alert_msg *);
static void	compose_prd(const struct show_table *, size_t,
		    struct alert_msg *);
static void	compose_sr(const struct show_table *, size_t,
		    struct alert_msg *);
static void	compose_mf(const struct show_table *, size_t,
		    struct alert_msg *);
static void	msg_free(struct alert_msg *);
static void	wrap(struct buf *, const char *, const char *, const char *,
		    size_t);
static void	put(struct buf *, const char *);
static void	put_html(struct buf *, const char *);
static void	put_json(struct buf *, const char *, const char *, int);
static void	put_jsonb(struct buf *, const char *);

/* A cell, cleaned: control characters and invalid UTF-8 as '?'. */
static char *
cell(const struct show_table *t, size_t r, size_t c)
{
	return (show_term_clean(show_cell(t, r, c), 0));
}

static enum show_rule
rule_of(const struct show_table *t, size_t r)
{
	int	i;

	for (i = 0; i < SHOW_NRULES; i++)
		if (strcmp(show_cell(t, r, ALT_RULE), show_rule_names[i]) == 0)
			return ((enum show_rule)i);
	fatalx("%s: unknown rule", __func__);
}

static void
compose_nfs(const struct show_table *t, size_t r, struct alert_msg *m)
{
	char	*dom = cell(t, r, ALT_DOMAIN), *kind = cell(t, r, ALT_KIND);
	char	*val = cell(t, r, ALT_VALUE), *ips = cell(t, r, ALT_IPS);
	char	*froms = cell(t, r, ALT_FROMS), *pol = cell(t, r, ALT_POLICY);
	char	*reps = cell(t, r, ALT_REPORTERS), *thr = cell(t, r, ALT_THROUGH);
	char	 a[32], b[32], c[32], d[32];

	xasprintf(&m->title, "New sender failing DMARC for %s: %s %s", dom,
	    kind, val);
	xasprintf(&m->what, "On %s, %s of its %s messages failed DMARC;"
	    " receivers rejected %s and quarantined %s of them.%s%s%s",
	    show_cell(t, r, ALT_DAY), show_fmt_count(a, sizeof a,
	    show_num(t, r, ALT_FAIL)), show_fmt_count(b, sizeof b,
	    show_num(t, r, ALT_MSGS)), show_fmt_count(c, sizeof c,
	    show_num(t, r, ALT_REJ)), show_fmt_count(d, sizeof d,
	    show_num(t, r, ALT_QUAR)), strcmp(thr, show_cell(t, r, ALT_DAY)) ?
	    " It went on until " : "", strcmp(thr, show_cell(t, r, ALT_DAY)) ?
	    thr : "", strcmp(thr, show_cell(t, r, ALT_DAY)) ? "." : "");
	xasprintf(&m->detail, "Addresses: %s. From: %s. Reported by: %s."
	    " Published policy: p=%s.", *ips ? ips : "unknown", froms, reps,
	    *pol ? pol : "?");
	if (strcmp(pol, "reject") == 0)
		xasprintf(&m->advice, "Your policy is p=reject, so receivers"
		    " refuse this mail. If the sender is one of your services,"
		    " approve it and set up its DKIM or SPF for %s; if you do"
		    " not know it, someone is sending in your name and is being"
		    " rejected: ignore it.", dom);
	else
		xasprintf(&m->advice, "If this sender is one of your services,"
		    " approve it and set up DKIM signing for %s or add it to"
		    " your SPF record. If you do not know it, someone is sending"
		    " in your name: once your own senders pass, p=reject makes"
		    " receivers refuse such mail.", dom);
	xasprintf(&m->command, "dmarc-agent senders approve %s %s %s", dom,
	    kind, val);
	free(dom);
	free(kind);
	free(val);
	free(ips);
	free(froms);
	free(pol);
	free(reps);
	free(thr);
}

static void
compose_asf(const struct show_table *t, size_t r, struct alert_msg *m)
{
	char	*dom = cell(t, r, ALT_DOMAIN), *kind = cell(t, r, ALT_KIND);
	char	*val = cell(t, r, ALT_VALUE), *ips = cell(t, r, ALT_IPS);
	char	*dkim = cell(t, r, ALT_DKIM), *spf = cell(t, r, ALT_SPF);
	char	*reps = cell(t, r, ALT_REPORTERS), *note = cell(t, r, ALT_NOTE);
	char	*rate = cell(t, r, ALT_RATE), *thr = cell(t, r, ALT_THRESHOLD);
	char	 a[32], b[32], c[32], d[32];
	long long msgs = show_num(t, r, ALT_MSGS);

	xasprintf(&m->title, "Approved sender failing DMARC for %s: %s %s"
	    " (%s%% pass)", dom, kind, val, rate);
	xasprintf(&m->what, "On %s, only %s%% of its %s messages passed DMARC"
	    " (alerts fire under %s%%): %s would be rejected at p=reject.",
	    show_cell(t, r, ALT_DAY), rate, show_fmt_count(a, sizeof a, msgs),
	    thr, show_fmt_count(b, sizeof b, show_num(t, r, ALT_FAIL)));
	xasprintf(&m->detail, "Aligned DKIM passed for %s, aligned SPF for"
	    " %s. Results of the failing mail: DKIM %s; SPF %s. Addresses: %s."
	    " Reported by: %s.%s%s", show_fmt_count(c, sizeof c, show_num(t, r,
	    ALT_DKIM_OK)), show_fmt_count(d, sizeof d, show_num(t, r,
	    ALT_SPF_OK)), *dkim ? dkim : "none", *spf ? spf : "none", ips,
	    reps, *note ? " Note: " : "", note);
	xasprintf(&m->advice, "Something changed at this sender or in your"
	    " DNS: a DKIM key rotated or removed (look up the selector above),"
	    " an SPF include dropped or past the 10-lookup limit, or its mail"
	    " now leaving from another service. Fix it before receivers start"
	    " refusing it.");
	xasprintf(&m->command, "dmarc-agent senders --domain %s --until %s"
	    " --days 1", dom, show_cell(t, r, ALT_DAY));
	free(dom);
	free(kind);
	free(val);
	free(ips);
	free(dkim);
	free(spf);
	free(reps);
	free(note);
	free(rate);
	free(thr);
}

static void
compose_prd(const struct show_table *t, size_t r, struct alert_msg *m)
{
	char	*dom = cell(t, r, ALT_DOMAIN), *rate = cell(t, r, ALT_RATE);
	char	*med = cell(t, r, ALT_MEDIAN), *thr = cell(t, r, ALT_THRESHOLD);
	char	 a[32], b[32];

	xasprintf(&m->title, "DMARC pass rate of %s fell to %s%% on %s", dom,
	    rate, show_cell(t, r, ALT_DAY));
	xasprintf(&m->what, "On %s, %s%% of %s messages passed DMARC, against"
	    " a median of %s%% over the %lld days with mail before it.",
	    show_cell(t, r, ALT_DAY), rate, show_fmt_count(a, sizeof a,
	    show_num(t, r, ALT_MSGS)), med, show_num(t, r, ALT_HISTORY));
	xasprintf(&m->detail, "%s messages failed.", show_fmt_count(b,
	    sizeof b, show_num(t, r, ALT_FAIL)));
	xasprintf(&m->advice, "Look at who failed that day: a new source"
	    " sending in your name, or one of your own senders failing"
	    " (a DKIM key, an SPF record). The senders listing shows them,"
	    " unapproved failing ones first.");
	xasprintf(&m->command, "dmarc-agent senders --domain %s --until %s"
	    " --days 1", dom, show_cell(t, r, ALT_DAY));
	(void)thr;
	free(dom);
	free(rate);
	free(med);
	free(thr);
}

static void
compose_sr(const struct show_table *t, size_t r, struct alert_msg *m)
{
	char	*dom = cell(t, r, ALT_DOMAIN), *rep = cell(t, r, ALT_SUBJECT);
	char	*org = cell(t, r, ALT_ORG), *last = cell(t, r, ALT_LAST_DAY);

	xasprintf(&m->title, "%s stopped sending DMARC reports for %s",
	    *org ? org : rep, dom);
	xasprintf(&m->what, "%s (%s) sent a report for %s on %lld of the 7"
	    " days up to %s, and none for the %lld days since.",
	    *org ? org : rep, rep, dom, show_num(t, r, ALT_WEEK), last,
	    show_num(t, r, ALT_SILENT));
	m->detail = xstrdup("");
	xasprintf(&m->advice, "Check that the rua= address of the DMARC"
	    " record of %s still reaches the mailbox this agent reads. A"
	    " receiver that goes silent usually means its reports are lost;"
	    " it may also have stopped receiving your mail.", dom);
	m->command = NULL;
	free(dom);
	free(rep);
	free(org);
	free(last);
}

static void
compose_mf(const struct show_table *t, size_t r, struct alert_msg *m)
{
	char	*mb = cell(t, r, ALT_SUBJECT), *err = cell(t, r, ALT_ERROR);
	char	*ok = cell(t, r, ALT_LAST_OK);

	xasprintf(&m->title, "Mailbox %s: %lld polls failed in a row", mb,
	    show_num(t, r, ALT_POLLS));
	xasprintf(&m->what, "Since %s, %lld polls in a row of mailbox %s"
	    " failed; the last one that worked was %s.",
	    show_cell(t, r, ALT_DAY), show_num(t, r, ALT_POLLS), mb,
	    *ok ? ok : "never");
	xasprintf(&m->detail, "Last error: %s.", *err ? err : "unknown");
	xasprintf(&m->advice, "Check the server, the password or token and"
	    " the TLS certificate. Reports wait on the server meanwhile;"
	    " nothing is lost.");
	xasprintf(&m->command, "dmarc-agent poll %s", mb);
	free(mb);
	free(err);
	free(ok);
}

static void
compose(const struct show_table *t, size_t r, struct alert_msg *m)
{
	memset(m, 0, sizeof *m);
	switch (rule_of(t, r)) {
	case SHOW_RULE_NFS:
		compose_nfs(t, r, m);
		break;
	case SHOW_RULE_ASF:
		compose_asf(t, r, m);
		break;
	case SHOW_RULE_PRD:
		compose_prd(t, r, m);
		break;
	case SHOW_RULE_SR:
		compose_sr(t, r, m);
		break;
	case SHOW_RULE_MF:
	default:
		compose_mf(t, r, m);
		break;
	}
}

static void
msg_free(struct alert_msg *m)
{
	free(m->title);
	free(m->what);
	free(m->detail);
	free(m->advice);
	free(m->command);
}

static void
put(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/*
 * s as a paragraph of at most width columns: its first line after first,
 * the others after rest.
 */
static void
wrap(struct buf *b, const char *s, const char *first, const char *rest,
    size_t width)
{
	const char	*indent = first;
	size_t		 col = 0, w;

	while (*s != '\0') {
		while (*s == ' ')
			s++;
		w = strcspn(s, " ");
		if (w == 0)
			break;
		if (col > 0 && col + 1 + w > width) {
			put(b, "\n");
			col = 0;
			indent = rest;
		}
		if (col == 0) {
			put(b, indent);
			col = strlen(indent);
		} else {
			put(b, " ");
			col++;
		}
		buf_add(b, s, w);
		col += w;
		s += w;
	}
	if (col > 0)
		put(b, "\n");
}

char *
show_alerts_subject(const struct show_alerts *a)
{
	const struct show_table	*t = show_alerts_table(a);
	struct alert_msg	 m;
	char			*s;

	compose(t, 0, &m);
	if (t->nrows == 1)
		xasprintf(&s, "[dmarc-agent] %s", m.title);
	else
		xasprintf(&s, "[dmarc-agent] %zu alerts: %s, and %zu more",
		    t->nrows, m.title, t->nrows - 1);
	msg_free(&m);
	return (s);
}

char *
show_alerts_text(const struct show_alerts *a)
{
	const struct show_table	*t = show_alerts_table(a);
	struct alert_msg	 m;
	struct buf		 b;
	char			*line;
	size_t			 r;

	buf_init(&b, SIZE_MAX - 1);	/* at most 100 alerts */
	xasprintf(&line, "dmarc-agent found %zu alert%s in the DMARC reports"
	    " of your domains.", t->nrows, t->nrows == 1 ? "" : "s");
	wrap(&b, line, "", "", WRAP);
	free(line);
	for (r = 0; r < t->nrows; r++) {
		compose(t, r, &m);
		xasprintf(&line, "%zu. %s", r + 1, m.title);
		put(&b, "\n");
		wrap(&b, line, "", "   ", WRAP);
		free(line);
		wrap(&b, m.what, "   ", "   ", WRAP);
		wrap(&b, m.detail, "   ", "   ", WRAP);
		xasprintf(&line, "What to do: %s", m.advice);
		wrap(&b, line, "   ", "   ", WRAP);
		free(line);
		if (m.command != NULL) {
			put(&b, "     $ ");
			put(&b, m.command);
			put(&b, "\n");
		}
		xasprintf(&line, "(alert %s, %s, first seen %s)",
		    show_cell(t, r, ALT_ID), show_cell(t, r, ALT_RULE),
		    show_cell(t, r, ALT_FIRST_SEEN));
		wrap(&b, line, "   ", "   ", WRAP);
		free(line);
		msg_free(&m);
	}
	put(&b, "\n-- \nSent by " PACKAGE_NAME " " PACKAGE_VERSION ". Each"
	    " alert is sent once; it is marked\nresolved when the rule no"
	    " longer holds.\n");
	return (buf_steal(&b, NULL));
}

static void
put_html(struct buf *b, const char *s)
{
	char	*e = show_html_esc(s);

	put(b, e);
	free(e);
}

char *
show_alerts_html(const struct show_alerts *a)
{
	const struct show_table	*t = show_alerts_table(a);
	struct alert_msg	 m;
	struct buf		 b;
	char			*line;
	size_t			 r;

	buf_init(&b, SIZE_MAX - 1);	/* at most 100 alerts */
	put(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta"
	    " charset=\"utf-8\">\n<title>dmarc-agent alerts</title>\n</head>\n"
	    "<body style=\"margin:0;padding:0;background:#f6f8fa\">\n"
	    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\""
	    " cellspacing=\"0\" border=\"0\" style=\"background:#f6f8fa\">"
	    "<tr><td align=\"center\" style=\"padding:16px 8px\">\n"
	    "<table role=\"presentation\" width=\"640\" cellpadding=\"0\""
	    " cellspacing=\"0\" border=\"0\" style=\"width:100%;"
	    "max-width:640px;background:#ffffff;border:1px solid #d1d9e0;"
	    "font-family:Arial,Helvetica,sans-serif;font-size:15px;"
	    "line-height:1.5;color:#1f2328\">\n<tr><td style=\"padding:20px"
	    " 24px\">\n<h1 style=\"font-size:22px;margin:0 0 8px\">");
	xasprintf(&line, "%zu alert%s from your DMARC reports", t->nrows,
	    t->nrows == 1 ? "" : "s");
	put_html(&b, line);
	free(line);
	put(&b, "</h1>\n");
	for (r = 0; r < t->nrows; r++) {
		compose(t, r, &m);
		xasprintf(&line, "<table role=\"presentation\" width=\"100%%\""
		    " cellpadding=\"0\" cellspacing=\"0\" border=\"0\""
		    " style=\"margin:16px 0;border-left:6px solid %s;"
		    "background:#f6f8fa\" data-alert=\"%s\" data-rule=\"%s\">"
		    "<tr><td style=\"padding:12px 16px\">\n<h2 style=\""
		    "font-size:17px;margin:0 0 6px\">",
		    rule_colors[rule_of(t, r)], show_cell(t, r, ALT_ID),
		    show_cell(t, r, ALT_RULE));
		put(&b, line);
		free(line);
		put_html(&b, m.title);
		put(&b, "</h2>\n<p style=\"margin:4px 0\">");
		put_html(&b, m.what);
		put(&b, "</p>\n");
		if (*m.detail != '\0') {
			put(&b, "<p style=\"margin:4px 0;color:#59636e;"
			    "font-size:14px\">");
			put_html(&b, m.detail);
			put(&b, "</p>\n");
		}
		put(&b, "<p style=\"margin:8px 0 4px\"><strong>What to do:"
		    "</strong> ");
		put_html(&b, m.advice);
		put(&b, "</p>\n");
		if (m.command != NULL) {
			put(&b, "<p style=\"margin:4px 0;font-family:"
			    "Consolas,Menlo,monospace;font-size:13px;"
			    "background:#ffffff;padding:6px 8px\">");
			put_html(&b, m.command);
			put(&b, "</p>\n");
		}
		put(&b, "</td></tr></table>\n");
		msg_free(&m);
	}
	put(&b, "<p style=\"margin:16px 0 0;color:#59636e;font-size:13px\">"
	    "Sent by " PACKAGE_NAME " " PACKAGE_VERSION ". Each alert is sent"
	    " once; it is marked resolved when the rule no longer holds.</p>\n"
	    "</td></tr></table>\n</td></tr></table>\n</body>\n</html>\n");
	return (buf_steal(&b, NULL));
}

/* "name": "value", escaped; the comma before it unless first. */
static void
put_json(struct buf *b, const char *name, const char *v, int first)
{
	char	*e = show_json_esc(v);

	if (!first)
		put(b, ", ");
	put(b, "\"");
	put(b, name);
	put(b, "\": \"");
	put(b, e);
	put(b, "\"");
	free(e);
}

/*
 * PostgreSQL's jsonb text, with < > & as \u003c \u003e \u0026 like the
 * rest of the document: outside strings jsonb text has none of them.
 */
static void
put_jsonb(struct buf *b, const char *s)
{
	const char	*rep;

	for (; *s != '\0'; s++) {
		rep = *s == '<' ? "\\u003c" : *s == '>' ? "\\u003e" :
		    *s == '&' ? "\\u0026" : NULL;
		if (rep != NULL)
			put(b, rep);
		else
			buf_add(b, s, 1);
	}
}

char *
show_alerts_json(const struct show_alerts *a, const char *sent_at)
{
	const struct show_table	*t = show_alerts_table(a);
	struct alert_msg	 m;
	struct buf		 b;
	char			 n[32];
	size_t			 r;

	buf_init(&b, SIZE_MAX - 1);	/* at most 100 alerts */
	put(&b, "{");
	put_json(&b, "event", "alerts", 1);
	put_json(&b, "generator", PACKAGE_NAME " " PACKAGE_VERSION, 0);
	put_json(&b, "sent_at", sent_at, 0);
	snprintf(n, sizeof n, ", \"count\": %zu,\n \"alerts\": [", t->nrows);
	put(&b, n);
	for (r = 0; r < t->nrows; r++) {
		compose(t, r, &m);
		snprintf(n, sizeof n, "%s\n  {\"id\": %lld", r > 0 ? "," : "",
		    show_num(t, r, ALT_ID));
		put(&b, n);
		put_json(&b, "rule", show_cell(t, r, ALT_RULE), 0);
		put_json(&b, "policy_domain", show_cell(t, r, ALT_DOMAIN), 0);
		put_json(&b, "subject", show_cell(t, r, ALT_SUBJECT), 0);
		put_json(&b, "day", show_cell(t, r, ALT_DAY), 0);
		put_json(&b, "through", show_cell(t, r, ALT_THROUGH), 0);
		put_json(&b, "first_seen", show_cell(t, r, ALT_FIRST_SEEN), 0);
		put(&b, ",\n   ");
		put_json(&b, "title", m.title, 1);
		put_json(&b, "what", m.what, 0);
		put_json(&b, "detail", m.detail, 0);
		put_json(&b, "advice", m.advice, 0);
		if (m.command != NULL)
			put_json(&b, "command", m.command, 0);
		/* PostgreSQL's jsonb text: valid JSON, strings escaped. */
		put(&b, ",\n   \"figures\": ");
		put_jsonb(&b, show_cell(t, r, ALT_FIGURES));
		put(&b, "}");
		msg_free(&m);
	}
	put(&b, "]}\n");
	return (buf_steal(&b, NULL));
}
