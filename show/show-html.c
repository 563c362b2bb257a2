/*
 * show-html.c: the report as one self-contained HTML page.
 *
 * Inline CSS and inline SVG only: no script, no external resource, no
 * http(s) URL anywhere but the SVG namespace declaration, so the file can
 * be mailed or opened offline.  Each domain opens with a verdict a person
 * who has never heard of DMARC can read (a coloured banner: healthy, needs
 * attention, action needed, and what it means in plain words), then the
 * key numbers, a stacked pass/fail bar chart per day, the tables and a
 * drill-down per source in <details> elements (they open without
 * JavaScript).
 *
 * Every string from the database goes through show_html_esc.  The numbers
 * the tests compare with the database carry data-* attributes (data-kpi on
 * the key figures, data-day/data-pass/data-fail on each day of the chart).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "show/show.h"
#include "show/show_p.h"

/* The chart's geometry, in SVG user units. */
#define CH_W		960
#define CH_H		260
#define CH_LEFT		64
#define CH_RIGHT	12
#define CH_TOP		16
#define CH_BOTTOM	40

static const char html_css[] =
    ":root{--ok:#1a7f37;--okbg:#dafbe1;--warn:#9a6700;--warnbg:#fff8c5;"
    "--bad:#cf222e;--badbg:#ffebe9;--ink:#1f2328;--mute:#59636e;"
    "--line:#d1d9e0;--card:#f6f8fa}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',"
    "Roboto,'Helvetica Neue',Arial,sans-serif;color:var(--ink);"
    "background:#fff}\n"
    "main{max-width:1080px;margin:0 auto;padding:24px 28px 48px}\n"
    "header h1{font-size:28px;margin:0 0 4px}\n"
    ".period{color:var(--mute);margin:0 0 16px}\n"
    "nav.overview{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 8px}\n"
    "nav.overview a{text-decoration:none;color:inherit;border-radius:20px;"
    "padding:4px 14px;font-weight:600;border:1px solid var(--line)}\n"
    "section.domain{border-top:1px solid var(--line);margin-top:28px;"
    "padding-top:8px}\n"
    ".verdict{border-radius:12px;padding:18px 22px;margin:16px 0;"
    "border-left:10px solid}\n"
    ".verdict .dom{font-size:15px;font-weight:600;color:var(--mute);"
    "letter-spacing:.02em}\n"
    ".verdict .headline{font-size:26px;font-weight:700;margin:2px 0 6px}\n"
    ".verdict p{margin:4px 0;max-width:820px}\n"
    ".lvl-healthy{background:var(--okbg);border-color:var(--ok)}\n"
    ".lvl-healthy .headline{color:var(--ok)}\n"
    ".lvl-attention{background:var(--warnbg);border-color:#d4a72c}\n"
    ".lvl-attention .headline{color:var(--warn)}\n"
    ".lvl-action{background:var(--badbg);border-color:var(--bad)}\n"
    ".lvl-action .headline{color:var(--bad)}\n"
    ".lvl-nodata{background:var(--card);border-color:var(--line)}\n"
    ".kpis{display:grid;grid-template-columns:repeat(5,1fr);gap:12px;"
    "margin:12px 0 8px}\n"
    ".kpi{background:var(--card);border-radius:10px;padding:12px 14px}\n"
    ".kpi .n{display:block;font-size:24px;font-weight:700}\n"
    ".kpi .l{color:var(--mute);font-size:13px}\n"
    ".kpi.pass .n{color:var(--ok)}.kpi.fail .n{color:var(--bad)}\n"
    "h2{font-size:19px;margin:28px 0 6px}\n"
    "h2+p.hint{margin-top:0}\n"
    "p.hint{color:var(--mute);font-size:13.5px;margin:2px 0 8px}\n"
    "svg.chart{width:100%;height:auto;display:block}\n"
    ".chart .pass{fill:#2da44e}.chart .fail{fill:#cf222e}\n"
    ".chart .grid{stroke:#e6e9ed;stroke-width:1}\n"
    ".chart text{font:12px system-ui,sans-serif;fill:#59636e}\n"
    ".legend{display:flex;gap:18px;font-size:13px;color:var(--mute)}\n"
    ".legend i{display:inline-block;width:12px;height:12px;"
    "border-radius:2px;margin-right:6px;vertical-align:-1px}\n"
    "table{border-collapse:collapse;width:100%;font-size:14px}\n"
    "th,td{text-align:left;padding:6px 8px;border-bottom:1px solid "
    "var(--line);vertical-align:top}\n"
    "th{font-size:12.5px;text-transform:uppercase;letter-spacing:.03em;"
    "color:var(--mute);font-weight:600}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}\n"
    "td.src{word-break:break-all}\n"
    "td a{color:#0969da;text-decoration:none}\n"
    ".meter{display:inline-block;width:90px;height:9px;background:#ffcecb;"
    "border-radius:5px;overflow:hidden;vertical-align:middle;"
    "margin-right:8px}\n"
    ".meter span{display:block;height:100%;background:#2da44e}\n"
    ".none{color:var(--mute);font-style:italic}\n"
    "details{border:1px solid var(--line);border-radius:10px;"
    "margin:8px 0;padding:0 14px}\n"
    "summary{cursor:pointer;padding:10px 0;font-weight:600}\n"
    ".facets{display:grid;grid-template-columns:repeat(auto-fill,"
    "minmax(300px,1fr));gap:6px 24px;padding-bottom:12px}\n"
    ".facets h3{font-size:13px;margin:8px 0 2px;color:var(--mute);"
    "text-transform:uppercase;letter-spacing:.03em}\n"
    ".facets ul{list-style:none;margin:0;padding:0;font-size:13.5px}\n"
    ".facets li{display:flex;justify-content:space-between;gap:12px;"
    "border-bottom:1px dotted var(--line)}\n"
    ".facets li span:first-child{word-break:break-all}\n"
    "footer{margin-top:40px;color:var(--mute);font-size:13px;"
    "border-top:1px solid var(--line);padding-top:12px}\n"
    "footer dt{font-weight:600;color:var(--ink)}\n"
    "footer dd{margin:0 0 6px}\n"
    "@media print{details{break-inside:avoid}}\n";

static void	html_put(FILE *, const char *);
static void	html_count(FILE *, long long);
static void	html_pct(FILE *, long long, long long);
static const char *html_level_class(enum show_level);
static void	html_verdict(FILE *, const struct show_domain *);
static void	html_auth(FILE *, const struct show_table *);
static void	html_kpis(FILE *, const struct show_domain *);
static long long html_nice_max(long long);
static void	html_chart(FILE *, const struct show_data *,
		    const struct show_table *);
static void	html_top(FILE *, const struct show_data *, size_t,
		    const struct show_table *);
static void	html_failing(FILE *, const struct show_table *);
static void	html_fwd(FILE *, const struct show_table *);
static void	html_spoof(FILE *, const struct show_table *);
static void	html_reporters(FILE *, const struct show_table *);
static void	html_details(FILE *, size_t, const struct show_domain *);
static void	html_tls(FILE *, const struct show_table *);
static void	html_health(FILE *, const struct show_table *);
static void	html_silent(FILE *, const struct show_table *);
static void	html_senders(FILE *, const struct show_table *);
static void	html_domain(FILE *, const struct show_data *, size_t);

static void
html_put(FILE *f, const char *s)
{
	char	*e = show_html_esc(s);

	fputs(e, f);
	free(e);
}

static void
html_count(FILE *f, long long v)
{
	char	b[32];

	fputs(show_fmt_count(b, sizeof b, v), f);
}

static void
html_pct(FILE *f, long long num, long long den)
{
	char	b[16];

	fputs(show_fmt_pct(b, sizeof b, num, den), f);
}

static const char *
html_level_class(enum show_level l)
{
	switch (l) {
	case SHOW_HEALTHY:
		return ("lvl-healthy");
	case SHOW_ATTENTION:
		return ("lvl-attention");
	case SHOW_ACTION:
		return ("lvl-action");
	case SHOW_NODATA:
		break;
	}
	return ("lvl-nodata");
}

/* The banner: the verdict in one line and what it means. */
static void
html_verdict(FILE *f, const struct show_domain *v)
{
	const struct show_table	*s = &v->sum;
	enum show_level		 l;
	long long		 msgs, pass, fail;

	msgs = show_num(s, 0, SUM_MSGS);
	pass = show_num(s, 0, SUM_PASS);
	fail = show_num(s, 0, SUM_FAIL);
	l = show_verdict(pass, msgs);
	fprintf(f, "<div class=\"verdict %s\" data-verdict=\"%s\">\n"
	    "<div class=\"dom\">", html_level_class(l), show_level_name(l));
	html_put(f, show_cell(s, 0, SUM_DOMAIN));
	fputs("</div>\n<div class=\"headline\">", f);
	if (l == SHOW_HEALTHY) {
		html_pct(f, pass, msgs);
		fputs(" of mail passes DMARC: healthy", f);
	} else if (l == SHOW_NODATA)
		fputs("No reports in this period", f);
	else {
		html_pct(f, fail, msgs);
		fprintf(f, " of mail fails DMARC: %s", show_level_name(l));
	}
	fputs("</div>\n<p>", f);
	switch (l) {
	case SHOW_HEALTHY:
		fputs("Almost all mail that carries this domain in its From"
		    " line was proven to come from you. Receivers can tell"
		    " your mail from forgeries. Nothing to do.", f);
		break;
	case SHOW_ATTENTION:
		fputs("Most mail that carries this domain in its From line"
		    " was proven to come from you, but some was not. It"
		    " comes from the sources listed under <em>Sources failing"
		    " DMARC</em>: usually a service that sends in your name"
		    " and is not set up yet, or forwarded mail. Worth a"
		    " look.", f);
		break;
	case SHOW_ACTION:
		fputs("A large part of the mail that carries this domain in"
		    " its From line could not be proven to come from you."
		    " Either some of your own senders are not set up (their"
		    " mail may land in spam or be refused), or someone is"
		    " sending mail pretending to be you. The tables below"
		    " show who.", f);
		break;
	case SHOW_NODATA:
		fputs("No receiver reported on this domain in this"
		    " period.", f);
		break;
	}
	fputs("</p>\n<p>", f);
	html_count(f, msgs);
	fputs(" messages were reported by receivers; ", f);
	html_count(f, pass);
	fputs(" passed, ", f);
	html_count(f, fail);
	fputs(" failed. Receivers put ", f);
	html_count(f, show_num(s, 0, SUM_QUAR));
	fputs(" in spam (quarantine) and refused ", f);
	html_count(f, show_num(s, 0, SUM_REJ));
	fputs(".</p>\n", f);
	html_auth(f, &v->auth);
	fputs("</div>\n", f);
}

/*
 * Who sent the reports, as text_auth says it: how much of the data comes
 * from reports whose reporter was verified, and what the figures leave
 * out (authenticity_setting).  Nothing without schema 12.
 */
static void
html_auth(FILE *f, const struct show_table *auth)
{
	long long	msgs, vmsgs, counted;

	if (auth->nrows != 1)
		return;
	msgs = show_num(auth, 0, AUTH_MSGS);
	vmsgs = show_num(auth, 0, AUTH_VMSGS);
	counted = show_num(auth, 0, AUTH_COUNTED);
	fprintf(f, "<p class=\"auth\" data-auth-verified=\"%lld\">Reporters"
	    " verified for ", show_num(auth, 0, AUTH_VERIFIED));
	html_pct(f, vmsgs, msgs);
	fputs(" of ", f);
	html_count(f, msgs);
	fputs(" messages (reports: ", f);
	html_count(f, show_num(auth, 0, AUTH_VERIFIED));
	fputs(" verified, ", f);
	html_count(f, show_num(auth, 0, AUTH_UNVERIFIED));
	fputs(" unverified, ", f);
	html_count(f, show_num(auth, 0, AUTH_FORGED));
	fputs(" forged)", f);
	if (counted != msgs) {
		fputs("; ", f);
		html_count(f, msgs - counted);
		fputs(" messages not counted", f);
	}
	fputs(".</p>\n", f);
}

static void
html_kpis(FILE *f, const struct show_domain *v)
{
	const struct show_table	*s = &v->sum;
	long long		 msgs = show_num(s, 0, SUM_MSGS);

	fputs("<div class=\"kpis\">\n<div class=\"kpi\"><span class=\"n\""
	    " data-kpi=\"messages\">", f);
	html_count(f, msgs);
	fputs("</span><span class=\"l\">messages reported</span></div>\n"
	    "<div class=\"kpi pass\"><span class=\"n\" data-kpi=\"pass\">", f);
	html_count(f, show_num(s, 0, SUM_PASS));
	fputs("</span><span class=\"l\">passed DMARC</span></div>\n"
	    "<div class=\"kpi fail\"><span class=\"n\" data-kpi=\"fail\">", f);
	html_count(f, show_num(s, 0, SUM_FAIL));
	fputs("</span><span class=\"l\">failed DMARC</span></div>\n"
	    "<div class=\"kpi\"><span class=\"n\" data-kpi=\"pass_pct\">", f);
	html_pct(f, show_num(s, 0, SUM_PASS), msgs);
	fputs("</span><span class=\"l\">pass rate</span></div>\n"
	    "<div class=\"kpi\"><span class=\"n\" data-kpi=\"sources\">", f);
	html_count(f, show_num(s, 0, SUM_SOURCES));
	fputs("</span><span class=\"l\">sending IP addresses</span></div>\n"
	    "</div>\n", f);
}

/* The chart's top: max rounded up to 1, 2, 2.5 or 5 times a power of 10. */
static long long
html_nice_max(long long max)
{
	static const long long	 steps[] = { 10, 20, 25, 50 };
	long long		 p = 1;
	size_t			 i;

	if (max <= 4)
		return (4);
	for (;;) {
		for (i = 0; i < sizeof steps / sizeof steps[0]; i++)
			if (steps[i] * p >= max)
				return (steps[i] * p);
		if (p > LLONG_MAX / 100)
			return (max);
		p *= 10;
	}
}

/*
 * Stacked bars per day (per week or month over a long window, see
 * show_bins): passed at the bottom (green), failed on top.  The axis
 * labels carry the year unless every bar is a day of one year.
 */
static void
html_chart(FILE *f, const struct show_data *d, const struct show_table *daily)
{
	static const char	*per[] = { "day", "week", "month" };
	const double		 pw = CH_W - CH_LEFT - CH_RIGHT;
	const double		 ph = CH_H - CH_TOP - CH_BOTTOM;
	enum show_bin		 bin = show_bin_for(d->days);
	struct show_table	 tb, *t = &tb;
	long long		 max = 0, m, pass, fail, top;
	double			 slot, bw, x, hp, hf, base = CH_TOP + ph;
	size_t			 r, every;
	char			 label[16];
	int			 i, short_ok;

	show_bins(daily, bin, &tb);
	short_ok = strncmp(d->from, d->until, 4) == 0;
	for (r = 0; r < t->nrows; r++)
		if ((m = show_num(t, r, DAY_MSGS)) > max)
			max = m;
	top = html_nice_max(max);
	slot = t->nrows > 0 ? pw / (double)t->nrows : pw;
	bw = slot > 3 ? slot * 0.72 : slot;
	every = t->nrows / 10 + 1;
	fprintf(f, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\""
	    " viewBox=\"0 0 %d %d\" role=\"img\" data-bin=\"%s\""
	    " aria-label=\"Messages per %s, passed and failed\">\n", CH_W,
	    CH_H, per[bin], per[bin]);
	for (i = 0; i <= 4; i++) {
		double	y = base - ph * i / 4.0;

		fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\""
		    " y1=\"%.1f\" y2=\"%.1f\"/><text x=\"%d\" y=\"%.1f\""
		    " text-anchor=\"end\">", CH_LEFT, CH_W - CH_RIGHT, y, y,
		    CH_LEFT - 8, y + 4);
		html_count(f, top * i / 4);
		fputs("</text>\n", f);
	}
	for (r = 0; r < t->nrows; r++) {
		pass = show_num(t, r, DAY_PASS);
		fail = show_num(t, r, DAY_FAIL);
		x = CH_LEFT + slot * (double)r + (slot - bw) / 2;
		hp = ph * (double)pass / (double)top;
		hf = ph * (double)fail / (double)top;
		fputs("<g class=\"day\" data-day=\"", f);
		html_put(f, show_cell(t, r, DAY_DAY));
		fprintf(f, "\" data-pass=\"%lld\" data-fail=\"%lld\"><title>",
		    pass, fail);
		if (bin == SHOW_BIN_WEEK)
			fputs("week of ", f);
		html_put(f, show_bin_label(bin, show_cell(t, r, DAY_DAY), 0,
		    label, sizeof label));
		fputs(": ", f);
		html_count(f, pass);
		fputs(" passed, ", f);
		html_count(f, fail);
		fputs(" failed</title>", f);
		if (pass > 0)
			fprintf(f, "<rect class=\"pass\" x=\"%.1f\" y=\"%.1f\""
			    " width=\"%.1f\" height=\"%.1f\"/>", x, base - hp,
			    bw, hp);
		if (fail > 0)
			fprintf(f, "<rect class=\"fail\" x=\"%.1f\" y=\"%.1f\""
			    " width=\"%.1f\" height=\"%.1f\"/>", x,
			    base - hp - hf, bw, hf);
		fputs("</g>\n", f);
		if (r % every == 0) {
			fprintf(f, "<text x=\"%.1f\" y=\"%d\""
			    " text-anchor=\"middle\">", x + bw / 2,
			    CH_H - CH_BOTTOM + 18);
			html_put(f, show_bin_label(bin, show_cell(t, r,
			    DAY_DAY), short_ok, label, sizeof label));
			fputs("</text>\n", f);
		}
	}
	fprintf(f, "</svg>\n<div class=\"legend\"><span><i style=\"background:"
	    "#2da44e\"></i>passed DMARC</span><span><i style=\"background:"
	    "#cf222e\"></i>failed DMARC</span><span>days are UTC; a report"
	    " counts on the day its period begins%s</span></div>\n",
	    bin == SHOW_BIN_WEEK ? "; weeks begin on Monday" : "");
	show_table_free(&tb);
}

static void
html_top(FILE *f, const struct show_data *d, size_t di,
    const struct show_table *t)
{
	long long	m, p;
	size_t		r;

	fputs("<h2>Top sources</h2>\n<p class=\"hint\">The servers that sent"
	    " the most mail in your name. Click a source for its"
	    " details.</p>\n", f);
	if (t->nrows == 0) {
		fputs("<p class=\"none\">None.</p>\n", f);
		return;
	}
	fprintf(f, "<table class=\"top\">\n<tr><th>%s</th><th class=\"n\">"
	    "IPs</th><th class=\"n\">Messages</th><th>Passed DMARC</th>"
	    "<th class=\"n\">SPF aligned</th><th class=\"n\">DKIM aligned"
	    "</th></tr>\n", d->enriched ? "Sender (or IP)" : "Source IP");
	for (r = 0; r < t->nrows; r++) {
		m = show_num(t, r, TOP_MSGS);
		p = show_num(t, r, TOP_PASS);
		fprintf(f, "<tr><td class=\"src\"><a href=\"#d%zu-s%zu\">",
		    di, r + 1);
		html_put(f, show_cell(t, r, TOP_SOURCE));
		fputs("</a>", f);
		if (strcmp(show_cell(t, r, TOP_SOURCE),
		    show_cell(t, r, TOP_IPS)) != 0) {
			fputs("<br><small>", f);
			html_put(f, show_cell(t, r, TOP_IPS));
			fputs("</small>", f);
		}
		fputs("</td><td class=\"n\">", f);
		html_count(f, show_num(t, r, TOP_NIPS));
		fputs("</td><td class=\"n\">", f);
		html_count(f, m);
		fprintf(f, "</td><td class=\"n\" style=\"text-align:left\">"
		    "<span class=\"meter\"><span style=\"width:%lld%%\">"
		    "</span></span>", m > 0 ? p * 100 / m : 0);
		html_pct(f, p, m);
		fputs("</td><td class=\"n\">", f);
		html_pct(f, show_num(t, r, TOP_SPF), m);
		fputs("</td><td class=\"n\">", f);
		html_pct(f, show_num(t, r, TOP_DKIM), m);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
html_failing(FILE *f, const struct show_table *t)
{
	size_t	r;

	fputs("<h2>Sources failing DMARC</h2>\n<p class=\"hint\">Mail these"
	    " servers sent in your name could not be proven to come from you."
	    " If one of them is yours (a newsletter or ticket service), set"
	    " up DKIM or SPF for it; if not, it is someone else.</p>\n", f);
	if (t->nrows == 0) {
		fputs("<p class=\"none\">None: every source passed.</p>\n",
		    f);
		return;
	}
	fputs("<table class=\"failing\">\n<tr><th>Source</th><th class=\"n\">"
	    "Failed</th><th class=\"n\">Messages</th><th>From domain</th>"
	    "<th>Reported by</th></tr>\n", f);
	for (r = 0; r < t->nrows; r++) {
		fputs("<tr><td class=\"src\">", f);
		html_put(f, show_cell(t, r, FAIL_SOURCE));
		fputs("</td><td class=\"n\">", f);
		html_count(f, show_num(t, r, FAIL_FAILED));
		fputs("</td><td class=\"n\">", f);
		html_count(f, show_num(t, r, FAIL_MSGS));
		fputs("</td><td>", f);
		html_put(f, show_cell(t, r, FAIL_FROMS));
		fputs("</td><td>", f);
		html_put(f, show_cell(t, r, FAIL_REPORTERS));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
html_fwd(FILE *f, const struct show_table *t)
{
	size_t	r;

	fputs("<h2>Suspected forwarding</h2>\n<p class=\"hint\">Your DKIM"
	    " signature survived but SPF failed: typically mail forwarded by"
	    " a mailing list or a mailbox's forwarding rule. Usually"
	    " harmless.</p>\n", f);
	if (t->nrows == 0) {
		fputs("<p class=\"none\">None.</p>\n", f);
		return;
	}
	fputs("<table class=\"forwarding\">\n<tr><th>Source</th>"
	    "<th class=\"n\">Messages</th><th>From domain</th>"
	    "<th>Envelope sender</th></tr>\n", f);
	for (r = 0; r < t->nrows; r++) {
		fputs("<tr><td class=\"src\">", f);
		html_put(f, show_cell(t, r, FWD_SOURCE));
		fputs("</td><td class=\"n\">", f);
		html_count(f, show_num(t, r, FWD_MSGS));
		fputs("</td><td>", f);
		html_put(f, show_cell(t, r, FWD_FROM));
		fputs("</td><td>", f);
		html_put(f, show_cell(t, r, FWD_ENVFROM));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
html_spoof(FILE *f, const struct show_table *t)
{
	size_t	r;

	fputs("<h2>Suspected spoofing</h2>\n<p class=\"hint\">Both DKIM and"
	    " SPF failed: someone else using your domain, or one of your"
	    " senders with no authentication at all. <em>Blocked</em> is"
	    " what receivers put in spam or refused.</p>\n", f);
	if (t->nrows == 0) {
		fputs("<p class=\"none\">None.</p>\n", f);
		return;
	}
	fputs("<table class=\"spoofing\">\n<tr><th>Source</th>"
	    "<th class=\"n\">Messages</th><th class=\"n\">Blocked</th>"
	    "<th>From domain</th></tr>\n", f);
	for (r = 0; r < t->nrows; r++) {
		fputs("<tr><td class=\"src\">", f);
		html_put(f, show_cell(t, r, SPOOF_SOURCE));
		fputs("</td><td class=\"n\">", f);
		html_count(f, show_num(t, r, SPOOF_MSGS));
		fputs("</td><td class=\"n\">", f);
		html_count(f, show_num(t, r, SPOOF_BLOCKED));
		fputs("</td><td>", f);
		html_put(f, show_cell(t, r, SPOOF_FROM));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
html_reporters(FILE *f, const struct show_table *t)
{
	const char	*name;
	size_t		 r;

	fputs("<h2>Reporters</h2>\n<p class=\"hint\">The mail providers that"
	    " sent these reports, and the end of the latest period each"
	    " covered (UTC).</p>\n", f);
	if (t->nrows == 0) {
		fputs("<p class=\"none\">None.</p>\n", f);
		return;
	}
	fputs("<table class=\"reporters\">\n<tr><th>Reporter</th>"
	    "<th class=\"n\">Reports</th><th class=\"n\">Messages</th>"
	    "<th>Last period end</th><th>Last report ID</th></tr>\n", f);
	for (r = 0; r < t->nrows; r++) {
		name = show_cell(t, r, REP_ORG);
		if (*name == '\0')
			name = show_cell(t, r, REP_KEY);
		fputs("<tr><td>", f);
		html_put(f, name);
		fputs("</td><td class=\"n\">", f);
		html_count(f, show_num(t, r, REP_REPORTS));
		fputs("</td><td class=\"n\">", f);
		html_count(f, show_num(t, r, REP_MSGS));
		fputs("</td><td>", f);
		html_put(f, show_cell(t, r, REP_LAST_END));
		fputs("</td><td class=\"src\">", f);
		html_put(f, show_cell(t, r, REP_LAST_ID));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* One <details> per top source with every facet of the drill-down. */
static void
html_details(FILE *f, size_t di, const struct show_domain *v)
{
	static const struct {
		const char	*kind, *title;
	} facets[] = {
		{ "ip", "IP addresses" },
		{ "header_from", "From domains" },
		{ "envelope_from", "Envelope senders (MAIL FROM)" },
		{ "reporter", "Reported by" },
		{ "result", "DMARC DKIM, SPF, what the receiver did" },
		{ "dkim", "DKIM signatures (domain/selector=result)" },
		{ "spf", "SPF checks (domain(scope)=result)" },
		{ "reason", "Receiver notes" }
	};
	const struct show_table	*t = &v->detail, *top = &v->top;
	const char		*src;
	size_t			 s, r, k;
	int			 open;

	if (top->nrows == 0)
		return;
	fputs("<h2>Source details</h2>\n<p class=\"hint\">For each top"
	    " source: where it sent from, which addresses it used, who"
	    " reported it and how each check came out.</p>\n", f);
	for (s = 0; s < top->nrows; s++) {
		src = show_cell(top, s, TOP_SOURCE);
		fprintf(f, "<details id=\"d%zu-s%zu\"%s><summary>", di, s + 1,
		    s == 0 ? " open" : "");
		html_put(f, src);
		fputs(": ", f);
		html_count(f, show_num(top, s, TOP_MSGS));
		fputs(" messages, ", f);
		html_pct(f, show_num(top, s, TOP_PASS),
		    show_num(top, s, TOP_MSGS));
		fputs(" passed DMARC</summary>\n<div class=\"facets\">\n", f);
		for (k = 0; k < sizeof facets / sizeof facets[0]; k++) {
			open = 0;
			for (r = 0; r < t->nrows; r++) {
				if (strcmp(show_cell(t, r, DET_SOURCE),
				    src) != 0 || strcmp(show_cell(t, r,
				    DET_KIND), facets[k].kind) != 0)
					continue;
				if (!open)
					fprintf(f, "<div><h3>%s</h3><ul>",
					    facets[k].title);
				open = 1;
				fputs("<li><span>", f);
				html_put(f, show_cell(t, r, DET_VALUE));
				fputs("</span><span>", f);
				html_count(f, show_num(t, r, DET_MSGS));
				fputs("</span></li>", f);
			}
			if (open)
				fputs("</ul></div>\n", f);
		}
		fputs("</div>\n</details>\n", f);
	}
}

static void
html_tls(FILE *f, const struct show_table *t)
{
	long long	ok = 0, bad = 0;
	size_t		r;

	for (r = 0; r < t->nrows; r++) {
		ok += show_num(t, r, TLS_SUCCESS);
		bad += show_num(t, r, TLS_FAILURE);
	}
	if (ok + bad == 0)
		return;		/* no TLS report names this domain */
	fputs("<h2>Encrypted delivery (SMTP TLS reports)</h2>\n<p>", f);
	html_count(f, ok);
	fputs(" connections to your mail servers were encrypted as your"
	    " policy asks; ", f);
	html_count(f, bad);
	fputs(" failed (", f);
	html_pct(f, bad, ok + bad);
	fputs(").</p>\n", f);
}

static void
html_health(FILE *f, const struct show_table *t)
{
	size_t	r;

	fputs("<h2>Report mailboxes</h2>\n<p class=\"hint\">Where dmarc-agent"
	    " collects the reports. A mailbox that keeps failing means"
	    " reports are not arriving here.</p>\n", f);
	if (t->nrows == 0) {
		fputs("<p class=\"none\">No polls recorded.</p>\n", f);
		return;
	}
	fputs("<table class=\"health\">\n<tr><th>Mailbox</th><th>Last"
	    " success (UTC)</th><th class=\"n\">Failing polls in a row</th>"
	    "</tr>\n", f);
	for (r = 0; r < t->nrows; r++) {
		fputs("<tr><td>", f);
		html_put(f, show_cell(t, r, HEALTH_MAILBOX));
		fputs("</td><td>", f);
		html_put(f, *show_cell(t, r, HEALTH_LAST_OK) != '\0' ?
		    show_cell(t, r, HEALTH_LAST_OK) : "never");
		fputs("</td><td class=\"n\">", f);
		html_count(f, show_num(t, r, HEALTH_FAILING));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

/*
 * The senders, unapproved failing ones first (show-senders.c's order);
 * for an approved sender that fails, what p=reject would refuse.  The
 * first 15 rows; data-approved and data-fail carry the figures.
 */
static void
html_senders(FILE *f, const struct show_table *t)
{
	long long	m, fail;
	int		ok;
	size_t		r;

	fputs("<h2>Senders</h2>\n<p class=\"hint\">Who sends in your name."
	    " Approve the senders you know (<code>dmarc-agent senders approve"
	    " DOMAIN KIND VALUE</code>): unapproved senders that fail DMARC"
	    " come first; for an approved one that fails, the messages a"
	    " p=reject policy would have refused.</p>\n", f);
	if (t->nrows == 0) {
		fputs("<p class=\"none\">No senders in this period.</p>\n", f);
		return;
	}
	fputs("<table class=\"senders\">\n<tr><th>Approved</th><th>Sender"
	    "</th><th class=\"n\">Messages</th><th class=\"n\">DMARC pass"
	    "</th><th class=\"n\">Failed</th><th>Note</th></tr>\n", f);
	for (r = 0; r < t->nrows && r < 15; r++) {
		m = show_num(t, r, SEND_MSGS);
		fail = show_num(t, r, SEND_FAIL);
		ok = *show_cell(t, r, SEND_APPROVED) == 'y';
		fprintf(f, "<tr data-approved=\"%s\" data-fail=\"%lld\"><td>%s"
		    "</td><td class=\"src\">", ok ? "yes" : "no", fail,
		    ok ? "yes" : (fail > 0 ? "<strong style=\"color:#cf222e\">"
		    "no</strong>" : "no"));
		html_put(f, show_cell(t, r, SEND_KIND));
		fputs(" ", f);
		html_put(f, show_cell(t, r, SEND_VALUE));
		fputs("</td><td class=\"n\">", f);
		html_count(f, m);
		fputs("</td><td class=\"n\">", f);
		html_pct(f, show_num(t, r, SEND_PASS), m);
		fputs("</td><td class=\"n\">", f);
		html_count(f, fail);
		fputs("</td><td>", f);
		if (ok && fail > 0) {
			html_count(f, fail);
			fputs(" would be rejected at p=reject. ", f);
		}
		html_put(f, show_cell(t, r, SEND_NOTE));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
html_silent(FILE *f, const struct show_table *t)
{
	size_t	r;

	fputs("<h2>Reporters that went silent</h2>\n<p class=\"hint\">Mail"
	    " providers that sent reports for a domain before but none in the"
	    " last 3 days (as of now). A large provider going silent usually"
	    " means the rua= address or the report mailbox broke.</p>\n", f);
	if (t->nrows == 0) {
		fputs("<p class=\"none\">None: every reporter sent a report in"
		    " the last 3 days.</p>\n", f);
		return;
	}
	fputs("<table class=\"silent\">\n<tr><th>Reporter</th><th>Policy"
	    " domain</th><th class=\"n\">Reports</th><th>Last period end"
	    " (UTC)</th><th>Last received (UTC)</th><th class=\"n\">Silent"
	    " for (days)</th></tr>\n", f);
	for (r = 0; r < t->nrows; r++) {
		fputs("<tr><td>", f);
		html_put(f, show_cell(t, r, SIL_REPORTER));
		fputs("</td><td>", f);
		html_put(f, show_cell(t, r, SIL_DOMAIN));
		fputs("</td><td class=\"n\">", f);
		html_count(f, show_num(t, r, SIL_REPORTS));
		fputs("</td><td>", f);
		html_put(f, show_cell(t, r, SIL_LAST_END));
		fputs("</td><td>", f);
		html_put(f, show_cell(t, r, SIL_LAST_SEEN));
		fputs("</td><td class=\"n\">", f);
		html_count(f, show_num(t, r, SIL_DAYS));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
html_domain(FILE *f, const struct show_data *d, size_t i)
{
	const struct show_domain	*v = &d->v[i];

	fprintf(f, "<section class=\"domain\" id=\"d%zu\" data-domain=\"",
	    i + 1);
	html_put(f, show_cell(&v->sum, 0, SUM_DOMAIN));
	fputs("\">\n", f);
	html_verdict(f, v);
	html_kpis(f, v);
	fprintf(f, "<h2>Mail per %s</h2>\n", show_bin_for(d->days) ==
	    SHOW_BIN_DAY ? "day" : show_bin_for(d->days) == SHOW_BIN_WEEK ?
	    "week" : "month");
	html_chart(f, d, &v->daily);
	html_top(f, d, i + 1, &v->top);
	html_failing(f, &v->failing);
	if (d->has_senders)
		html_senders(f, &v->senders);
	html_fwd(f, &v->fwd);
	html_spoof(f, &v->spoof);
	html_reporters(f, &v->reporters);
	html_details(f, i + 1, v);
	if (d->has_tls)
		html_tls(f, &v->tls);
	fputs("</section>\n", f);
}

int
show_html(FILE *f, const struct show_data *d)
{
	const struct show_table	*s;
	enum show_level		 l;
	size_t			 i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\""
	    " content=\"width=device-width, initial-scale=1\">\n"
	    "<title>Email authentication report ", f);
	fprintf(f, "%s to %s</title>\n<style>\n%s</style>\n</head>\n<body>\n"
	    "<main>\n<header>\n<h1>Email authentication report</h1>\n"
	    "<p class=\"period\">%s to %s (%d days, UTC), %zu domain%s."
	    " Built from the DMARC reports mail providers send about mail"
	    " that uses your domains.</p>\n", d->from, d->until, html_css,
	    d->from, d->until, d->days, d->n, d->n == 1 ? "" : "s");
	if (d->n == 0) {
		fputs("<p class=\"none\">No reports for ", f);
		html_put(f, d->domain != NULL ? d->domain : "any domain");
		fputs(" in this period.</p>\n", f);
	}
	fputs("<nav class=\"overview\">\n", f);
	for (i = 0; i < d->n; i++) {
		s = &d->v[i].sum;
		l = show_verdict(show_num(s, 0, SUM_PASS),
		    show_num(s, 0, SUM_MSGS));
		fprintf(f, "<a class=\"%s\" href=\"#d%zu\">",
		    html_level_class(l), i + 1);
		html_put(f, show_cell(s, 0, SUM_DOMAIN));
		fputs(": ", f);
		html_pct(f, show_num(s, 0, SUM_PASS), show_num(s, 0, SUM_MSGS));
		fprintf(f, " pass, %s</a>\n", show_level_name(l));
	}
	fputs("</nav>\n</header>\n", f);
	for (i = 0; i < d->n; i++)
		html_domain(f, d, i);
	if (d->has_health)
		html_health(f, &d->health);
	if (d->has_silent)
		html_silent(f, &d->silent);
	fprintf(f, "<footer>\n<dl>\n<dt>DMARC</dt><dd>A rule published in"
	    " your domain's DNS that tells receivers how to check that mail"
	    " using your domain really comes from you. A message passes when"
	    " DKIM or SPF passes for your domain.</dd>\n<dt>DKIM</dt><dd>A"
	    " cryptographic signature your mail servers add; it survives"
	    " forwarding.</dd>\n<dt>SPF</dt><dd>The list of servers allowed"
	    " to send for your domain; forwarding breaks it.</dd>\n</dl>\n"
	    "<p>Generated by %s %s from its database. All times are"
	    " UTC.</p>\n</footer>\n</main>\n</body>\n</html>\n", PACKAGE_NAME,
	    PACKAGE_VERSION);
	return (ferror(f) ? -1 : 0);
}
