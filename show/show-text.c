/*
 * show-text.c: the report for a terminal.
 *
 * At most 80 columns: every value from the database goes through
 * show_term_clean (control characters, ESC included, become '?') cut to
 * its column's width.  Colours (ANSI SGR) only when the caller says so,
 * that is when standard output is a terminal and no -o FILE was given.
 * Nothing depends on the current time but the silent reporters, which
 * the view counts up to now (tests/data/show/ has none), so a fixed
 * database and a fixed --until give the same bytes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "show/show.h"
#include "show/show_p.h"

#define TEXT_WIDTH	80
#define TEXT_BAR	40
#define TEXT_ALLDAYS	45	/* more lines than that: the empty left out */

#define SGR_BOLD	"\033[1m"
#define SGR_RED		"\033[31m"
#define SGR_GREEN	"\033[32m"
#define SGR_YELLOW	"\033[33m"
#define SGR_RESET	"\033[0m"

struct text {
	FILE	*f;
	int	 color;
};

static void	text_sgr(struct text *, const char *);
static void	text_cell(struct text *, const char *, size_t, int);
static void	text_count(struct text *, long long, size_t);
static void	text_pct(struct text *, long long, long long, size_t);
static void	text_heading(struct text *, const char *);
static int	text_none(struct text *, const struct show_table *);
static void	text_verdict(struct text *, const struct show_table *);
static void	text_auth(struct text *, const struct show_table *);
static void	text_daily(struct text *, const struct show_data *,
		    const struct show_domain *);
static void	text_top(struct text *, const struct show_data *,
		    const struct show_table *);
static void	text_failing(struct text *, const struct show_table *);
static void	text_fwd(struct text *, const struct show_table *);
static void	text_spoof(struct text *, const struct show_table *);
static void	text_reporters(struct text *, const struct show_table *);
static void	text_tls(struct text *, const struct show_table *);
static void	text_health(struct text *, const struct show_table *);
static void	text_silent(struct text *, const struct show_table *);
static void	text_senders(struct text *, const struct show_table *,
		    size_t);
static void	text_domain(struct text *, const struct show_data *,
		    const struct show_domain *);

static void
text_sgr(struct text *t, const char *sgr)
{
	if (t->color)
		fputs(sgr, t->f);
}

/*
 * A value from the database, cleaned and cut to width columns; align 0
 * pads it on the right, 1 on the left, 2 not at all (the last column).
 */
static void
text_cell(struct text *t, const char *s, size_t width, int align)
{
	char	*c;
	size_t	 w;

	c = show_term_clean(s, width);
	w = show_term_width(c);
	if (align == 1)
		fprintf(t->f, "%*s%s", (int)(width - w), "", c);
	else if (align == 2)
		fputs(c, t->f);
	else
		fprintf(t->f, "%s%*s", c, (int)(width - w), "");
	free(c);
}

static void
text_count(struct text *t, long long v, size_t width)
{
	char	b[32];

	fprintf(t->f, "%*s", (int)width, show_fmt_count(b, sizeof b, v));
}

static void
text_pct(struct text *t, long long num, long long den, size_t width)
{
	char	b[16];

	fprintf(t->f, "%*s", (int)width, show_fmt_pct(b, sizeof b, num, den));
}

static void
text_heading(struct text *t, const char *title)
{
	fputc('\n', t->f);
	text_sgr(t, SGR_BOLD);
	fputs(title, t->f);
	text_sgr(t, SGR_RESET);
	fputc('\n', t->f);
}

/* "none" for an empty table; 1 when it was empty. */
static int
text_none(struct text *t, const struct show_table *tab)
{
	if (tab->nrows > 0)
		return (0);
	fputs("  none\n", t->f);
	return (1);
}

/*
 * Who sent the reports: how much of the data comes from reports whose
 * reporter authenticated the mail, and what the figures leave out
 * (authenticity_setting).  Nothing without schema 12.
 */
static void
text_auth(struct text *t, const struct show_table *auth)
{
	long long	 msgs, vmsgs, counted;
	char		 a[32], b[32], c[16], d[32], e[32], g[32];

	if (auth->nrows != 1)
		return;
	msgs = show_num(auth, 0, AUTH_MSGS);
	vmsgs = show_num(auth, 0, AUTH_VMSGS);
	counted = show_num(auth, 0, AUTH_COUNTED);
	fprintf(t->f, "  Reporters verified for %s of %s messages (reports: %s"
	    " verified,\n  %s unverified, %s forged)",
	    show_fmt_pct(c, sizeof c, vmsgs, msgs),
	    show_fmt_count(a, sizeof a, msgs),
	    show_fmt_count(b, sizeof b, show_num(auth, 0, AUTH_VERIFIED)),
	    show_fmt_count(d, sizeof d, show_num(auth, 0, AUTH_UNVERIFIED)),
	    show_fmt_count(e, sizeof e, show_num(auth, 0, AUTH_FORGED)));
	if (counted != msgs)
		fprintf(t->f, "; %s messages not counted",
		    show_fmt_count(g, sizeof g, msgs - counted));
	fputs(".\n", t->f);
}

/* The headline: pass rate, verdict and what it means. */
static void
text_verdict(struct text *t, const struct show_table *sum)
{
	enum show_level	 l;
	long long	 msgs, pass, fail;
	char		 a[32], b[32], c[16], d[16], e[32], g[32];

	msgs = show_num(sum, 0, SUM_MSGS);
	pass = show_num(sum, 0, SUM_PASS);
	fail = show_num(sum, 0, SUM_FAIL);
	l = show_verdict(pass, msgs);
	fprintf(t->f, "Verdict: %s of %s messages passed DMARC: ",
	    show_fmt_pct(c, sizeof c, pass, msgs),
	    show_fmt_count(a, sizeof a, msgs));
	text_sgr(t, SGR_BOLD);
	text_sgr(t, l == SHOW_HEALTHY ? SGR_GREEN : l == SHOW_ATTENTION ?
	    SGR_YELLOW : SGR_RED);
	fputs(show_level_name(l), t->f);
	text_sgr(t, SGR_RESET);
	fprintf(t->f, "\n  %s failed.  Aligned DKIM passed for %s, aligned"
	    " SPF for %s.\n", show_fmt_count(b, sizeof b, fail),
	    show_fmt_pct(c, sizeof c, show_num(sum, 0, SUM_DKIM), msgs),
	    show_fmt_pct(d, sizeof d, show_num(sum, 0, SUM_SPF), msgs));
	fprintf(t->f, "  Receivers quarantined %s and rejected %s;"
	    " %s source IPs, %s reports.\n",
	    show_fmt_count(a, sizeof a, show_num(sum, 0, SUM_QUAR)),
	    show_fmt_count(b, sizeof b, show_num(sum, 0, SUM_REJ)),
	    show_fmt_count(e, sizeof e, show_num(sum, 0, SUM_SOURCES)),
	    show_fmt_count(g, sizeof g, show_num(sum, 0, SUM_REPORTS)));
	switch (l) {
	case SHOW_HEALTHY:
		fputs("  Nearly all mail sent in this domain's name is"
		    " authenticated.\n", t->f);
		break;
	case SHOW_ATTENTION:
		fputs("  Most mail is authenticated; the sources failing"
		    " DMARC below need a look.\n", t->f);
		break;
	case SHOW_ACTION:
		fputs("  Much mail in this domain's name fails: senders not"
		    " set up for DKIM/SPF,\n  or someone sending in your"
		    " name.  See the sources below.\n", t->f);
		break;
	case SHOW_NODATA:
		break;
	}
}

/*
 * The volume per day, or per week or month over a long window (show_bins),
 * with a bar each.
 */
static void
text_daily(struct text *t, const struct show_data *d,
    const struct show_domain *v)
{
	static const char	*heads[] = { "Daily volume", "Weekly volume",
				    "Monthly volume" };
	static const char	*cols[] = { "Day", "Week of", "Month" };
	enum show_bin		 bin = show_bin_for(d->days);
	struct show_table	 tab;
	long long		 max = 0, m;
	size_t			 r, np, nf;
	char			 label[16];
	int			 skip;

	show_bins(&v->daily, bin, &tab);
	skip = tab.nrows > TEXT_ALLDAYS;
	for (r = 0; r < tab.nrows; r++)
		if ((m = show_num(&tab, r, DAY_MSGS)) > max)
			max = m;
	text_heading(t, heads[bin]);
	fprintf(t->f, "%-10s Messages   Passed   Failed  ('#' passed,"
	    " 'x' failed)\n", cols[bin]);
	for (r = 0; r < tab.nrows; r++) {
		m = show_num(&tab, r, DAY_MSGS);
		if (m == 0 && skip)
			continue;
		text_cell(t, show_bin_label(bin, show_cell(&tab, r, DAY_DAY),
		    0, label, sizeof label), 10, 0);
		text_count(t, m, 9);
		text_count(t, show_num(&tab, r, DAY_PASS), 9);
		text_count(t, show_num(&tab, r, DAY_FAIL), 9);
		show_bar_split(show_num(&tab, r, DAY_PASS),
		    show_num(&tab, r, DAY_FAIL), max, TEXT_BAR, &np, &nf);
		if (np + nf > 0)
			fputc(' ', t->f);
		text_sgr(t, SGR_GREEN);
		while (np-- > 0)
			fputc('#', t->f);
		text_sgr(t, SGR_RED);
		while (nf-- > 0)
			fputc('x', t->f);
		text_sgr(t, SGR_RESET);
		fputc('\n', t->f);
	}
	if (skip)
		fprintf(t->f, "(%s without reports are left out)\n",
		    bin == SHOW_BIN_DAY ? "days" : bin == SHOW_BIN_WEEK ?
		    "weeks" : "months");
	if (bin == SHOW_BIN_WEEK)
		fputs("(weeks begin on Monday; the first and the last may be"
		    " partial)\n", t->f);
	else if (bin == SHOW_BIN_MONTH)
		fputs("(the first and the last month may be partial)\n", t->f);
	show_table_free(&tab);
}

static void
text_top(struct text *t, const struct show_data *d,
    const struct show_table *tab)
{
	long long	m;
	size_t		r;

	text_heading(t, "Top sources");
	(void)d;
	if (text_none(t, tab))
		return;
	fprintf(t->f, "%-34s %4s %8s %8s %8s %8s\n", "Source", "IPs",
	    "Messages", "DMARC", "SPF", "DKIM");
	for (r = 0; r < tab->nrows; r++) {
		m = show_num(tab, r, TOP_MSGS);
		text_cell(t, show_cell(tab, r, TOP_SOURCE), 34, 0);
		text_count(t, show_num(tab, r, TOP_NIPS), 5);
		text_count(t, m, 9);
		text_pct(t, show_num(tab, r, TOP_PASS), m, 9);
		text_pct(t, show_num(tab, r, TOP_SPF), m, 9);
		text_pct(t, show_num(tab, r, TOP_DKIM), m, 9);
		fputc('\n', t->f);
		if (strcmp(show_cell(tab, r, TOP_SOURCE),
		    show_cell(tab, r, TOP_IPS)) != 0) {
			fputs("  ", t->f);
			text_cell(t, show_cell(tab, r, TOP_IPS), 76, 2);
			fputc('\n', t->f);
		}
	}
}

static void
text_failing(struct text *t, const struct show_table *tab)
{
	size_t	r;

	text_heading(t, "Sources failing DMARC");
	if (text_none(t, tab))
		return;
	fprintf(t->f, "%-32s %8s %9s  %s\n", "Source", "Failed", "Messages",
	    "From");
	for (r = 0; r < tab->nrows; r++) {
		text_cell(t, show_cell(tab, r, FAIL_SOURCE), 32, 0);
		text_count(t, show_num(tab, r, FAIL_FAILED), 9);
		text_count(t, show_num(tab, r, FAIL_MSGS), 10);
		fputs("  ", t->f);
		text_cell(t, show_cell(tab, r, FAIL_FROMS), 27, 2);
		fputc('\n', t->f);
	}
}

static void
text_fwd(struct text *t, const struct show_table *tab)
{
	size_t	r;

	text_heading(t, "Suspected forwarding (DKIM passes, SPF fails)");
	if (text_none(t, tab))
		return;
	fprintf(t->f, "%-30s %9s  %-18s %s\n", "Source", "Messages", "From",
	    "Envelope from");
	for (r = 0; r < tab->nrows; r++) {
		text_cell(t, show_cell(tab, r, FWD_SOURCE), 30, 0);
		text_count(t, show_num(tab, r, FWD_MSGS), 10);
		fputs("  ", t->f);
		text_cell(t, show_cell(tab, r, FWD_FROM), 18, 0);
		fputc(' ', t->f);
		text_cell(t, show_cell(tab, r, FWD_ENVFROM), 19, 2);
		fputc('\n', t->f);
	}
}

static void
text_spoof(struct text *t, const struct show_table *tab)
{
	size_t	r;

	text_heading(t, "Suspected spoofing (DKIM and SPF both fail)");
	if (text_none(t, tab))
		return;
	fprintf(t->f, "%-30s %9s %8s  %s\n", "Source", "Messages", "Blocked",
	    "From");
	for (r = 0; r < tab->nrows; r++) {
		text_cell(t, show_cell(tab, r, SPOOF_SOURCE), 30, 0);
		text_count(t, show_num(tab, r, SPOOF_MSGS), 10);
		text_count(t, show_num(tab, r, SPOOF_BLOCKED), 9);
		fputs("  ", t->f);
		text_cell(t, show_cell(tab, r, SPOOF_FROM), 29, 2);
		fputc('\n', t->f);
	}
}

static void
text_reporters(struct text *t, const struct show_table *tab)
{
	const char	*name;
	size_t		 r;

	text_heading(t, "Reporters");
	if (text_none(t, tab))
		return;
	fprintf(t->f, "%-22s %7s %9s  %-16s  %s\n", "Reporter", "Reports",
	    "Messages", "Last period end", "Last report ID");
	for (r = 0; r < tab->nrows; r++) {
		name = show_cell(tab, r, REP_ORG);
		if (*name == '\0')
			name = show_cell(tab, r, REP_KEY);
		text_cell(t, name, 22, 0);
		text_count(t, show_num(tab, r, REP_REPORTS), 8);
		text_count(t, show_num(tab, r, REP_MSGS), 10);
		fputs("  ", t->f);
		text_cell(t, show_cell(tab, r, REP_LAST_END), 16, 0);
		fputs("  ", t->f);
		text_cell(t, show_cell(tab, r, REP_LAST_ID), 20, 2);
		fputc('\n', t->f);
	}
}

static void
text_tls(struct text *t, const struct show_table *tab)
{
	long long	ok = 0, bad = 0;
	char		a[32], b[32], c[16];
	size_t		r;

	for (r = 0; r < tab->nrows; r++) {
		ok += show_num(tab, r, TLS_SUCCESS);
		bad += show_num(tab, r, TLS_FAILURE);
	}
	if (ok + bad == 0)
		return;		/* no TLS report names this domain */
	text_heading(t, "SMTP TLS reports");
	fprintf(t->f, "  %s sessions succeeded, %s failed (%s failed).\n",
	    show_fmt_count(a, sizeof a, ok), show_fmt_count(b, sizeof b, bad),
	    show_fmt_pct(c, sizeof c, bad, ok + bad));
}

static void
text_health(struct text *t, const struct show_table *tab)
{
	size_t	r;

	text_heading(t, "Mailboxes");
	if (text_none(t, tab))
		return;
	fprintf(t->f, "%-40s  %-16s  %s\n", "Mailbox", "Last success",
	    "Failing polls");
	for (r = 0; r < tab->nrows; r++) {
		text_cell(t, show_cell(tab, r, HEALTH_MAILBOX), 40, 0);
		fputs("  ", t->f);
		text_cell(t, *show_cell(tab, r, HEALTH_LAST_OK) != '\0' ?
		    show_cell(tab, r, HEALTH_LAST_OK) : "never", 16, 0);
		text_count(t, show_num(tab, r, HEALTH_FAILING), 15);
		fputc('\n', t->f);
	}
}

/* Reporters gone silent: the view's columns but the period's end. */
static void
text_silent(struct text *t, const struct show_table *tab)
{
	size_t	r;

	text_heading(t, "Silent reporters (nothing received for 3 days,"
	    " as of now)");
	if (text_none(t, tab))
		return;
	fprintf(t->f, "%-20s %-20s %7s  %-16s  %s\n", "Reporter",
	    "Policy domain", "Reports", "Last received", "Silent for");
	for (r = 0; r < tab->nrows; r++) {
		text_cell(t, show_cell(tab, r, SIL_REPORTER), 20, 0);
		fputc(' ', t->f);
		text_cell(t, show_cell(tab, r, SIL_DOMAIN), 20, 0);
		text_count(t, show_num(tab, r, SIL_REPORTS), 8);
		fputs("  ", t->f);
		text_cell(t, show_cell(tab, r, SIL_LAST_SEEN), 16, 0);
		fprintf(t->f, "  %lld day%s\n", show_num(tab, r, SIL_DAYS),
		    show_num(tab, r, SIL_DAYS) == 1 ? "" : "s");
	}
}

/*
 * The senders, approved or not (show-senders.c's order: unapproved
 * failing first), at most max rows (0: all); an approved sender's failures
 * are what p=reject would refuse.
 */
static void
text_senders(struct text *t, const struct show_table *tab, size_t max)
{
	const char	*kind, *note;
	char		*sender, b[32];
	long long	 m, fail;
	size_t		 r;

	if (text_none(t, tab))
		return;
	fprintf(t->f, "%-8s %-40s %8s %8s %9s\n", "Approved", "Sender",
	    "Messages", "DMARC", "Failed");
	for (r = 0; r < tab->nrows && (max == 0 || r < max); r++) {
		m = show_num(tab, r, SEND_MSGS);
		fail = show_num(tab, r, SEND_FAIL);
		kind = show_cell(tab, r, SEND_KIND);
		if (*show_cell(tab, r, SEND_APPROVED) == 'n' && fail > 0)
			text_sgr(t, SGR_RED);
		text_cell(t, show_cell(tab, r, SEND_APPROVED), 9, 0);
		text_sgr(t, SGR_RESET);
		xasprintf(&sender, "%-6s %s", kind,
		    show_cell(tab, r, SEND_VALUE));
		text_cell(t, sender, 40, 0);
		free(sender);
		text_count(t, m, 9);
		text_pct(t, show_num(tab, r, SEND_PASS), m, 9);
		text_count(t, fail, 10);
		fputc('\n', t->f);
		if (*show_cell(tab, r, SEND_APPROVED) == 'y' && fail > 0)
			fprintf(t->f, "%9s%s would be rejected at p=reject\n",
			    "", show_fmt_count(b, sizeof b, fail));
		note = show_cell(tab, r, SEND_NOTE);
		if (*note != '\0') {
			fprintf(t->f, "%9snote: ", "");
			text_cell(t, note, 65, 2);
			fputc('\n', t->f);
		}
	}
	if (max != 0 && tab->nrows > max)
		fprintf(t->f, "  ... %zu more: dmarc-agent senders --domain D\n",
		    tab->nrows - max);
}

/* The senders table alone (the senders command). */
void
show_text_senders(FILE *f, const struct show_table *tab, int color)
{
	struct text	t = { f, color };

	text_senders(&t, tab, 0);
}

/* A value from the database, cleaned and cut to width columns. */
void
show_text_value(FILE *f, const char *s, size_t width)
{
	struct text	t = { f, 0 };

	text_cell(&t, s, width, 2);
}

static void
text_domain(struct text *t, const struct show_data *d,
    const struct show_domain *v)
{
	char	*name;
	size_t	 w;

	fputc('\n', t->f);
	text_sgr(t, SGR_BOLD);
	name = show_term_clean(show_cell(&v->sum, 0, SUM_DOMAIN), 70);
	fprintf(t->f, "== %s ", name);
	for (w = show_term_width(name) + 4; w < TEXT_WIDTH; w++)
		fputc('=', t->f);
	free(name);
	text_sgr(t, SGR_RESET);
	fputc('\n', t->f);
	text_verdict(t, &v->sum);
	text_auth(t, &v->auth);
	text_daily(t, d, v);
	text_top(t, d, &v->top);
	text_failing(t, &v->failing);
	if (d->has_senders) {
		text_heading(t, "Senders, unapproved failing ones first");
		fputs("Approve yours: dmarc-agent senders approve DOMAIN KIND"
		    " VALUE\n", t->f);
		text_senders(t, &v->senders, 15);
	}
	text_fwd(t, &v->fwd);
	text_spoof(t, &v->spoof);
	text_reporters(t, &v->reporters);
	if (d->has_tls)
		text_tls(t, &v->tls);
}

int
show_text(FILE *f, const struct show_data *d, int color)
{
	struct text	 t = { f, color };
	char		*name;
	size_t		 i;

	text_sgr(&t, SGR_BOLD);
	fprintf(f, "DMARC report, %s to %s (%d days, UTC)", d->from, d->until,
	    d->days);
	text_sgr(&t, SGR_RESET);
	fputc('\n', f);
	if (d->n == 0) {
		name = show_term_clean(d->domain != NULL ? d->domain :
		    "any domain", 40);
		fprintf(f, "No DMARC reports for %s in this period.\n", name);
		free(name);
	} else
		fprintf(f, "%zu policy domain%s.  A report counts on the UTC"
		    " day its period begins.\n", d->n, d->n == 1 ? "" : "s");
	for (i = 0; i < d->n; i++)
		text_domain(&t, d, &d->v[i]);
	if (d->has_health)
		text_health(&t, &d->health);
	if (d->has_silent)
		text_silent(&t, &d->silent);
	return (ferror(f) ? -1 : 0);
}
