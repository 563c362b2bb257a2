/*
 * show-json.c: the report as JSON (documented in doc/dashboards.md).
 *
 * The same tables as the other formats, written generically from their
 * column lists: a string column is a JSON string (null for SQL NULL), a
 * count is a JSON number.  Strings go through show_json_esc, which also
 * escapes < > & so that the output can be pasted into a page.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "show/show.h"
#include "show/show_p.h"

static void	json_str(FILE *, const char *);
static void	json_table(FILE *, const char *, const struct show_table *,
		    const char *);
static void	json_domain(FILE *, const struct show_data *,
		    const struct show_domain *);

static void
json_str(FILE *f, const char *s)
{
	char	*e;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	e = show_json_esc(s);
	fprintf(f, "\"%s\"", e);
	free(e);
}

/* "name": [ {row}, ... ] with each row's members on one line. */
static void
json_table(FILE *f, const char *name, const struct show_table *t,
    const char *indent)
{
	const char	*v;
	size_t		 r, c;

	fprintf(f, "%s\"%s\": [", indent, name);
	for (r = 0; r < t->nrows; r++) {
		fprintf(f, "%s\n%s  {", r > 0 ? "," : "", indent);
		for (c = 0; c < t->ncols; c++) {
			fprintf(f, "%s\"%s\": ", c > 0 ? ", " : "",
			    t->cols[c].name);
			v = t->cells[r * t->ncols + c];
			if (t->cols[c].kind == SHOW_INT)
				fprintf(f, "%lld", show_num(t, r, c));
			else
				json_str(f, v);
		}
		fputc('}', f);
	}
	fprintf(f, "%s]", t->nrows > 0 ? "\n    " : "");
}

static void
json_domain(FILE *f, const struct show_data *d, const struct show_domain *v)
{
	const struct show_table	*s = &v->sum;
	char			 pct[16];
	long long		 msgs, pass;
	size_t			 c;

	msgs = show_num(s, 0, SUM_MSGS);
	pass = show_num(s, 0, SUM_PASS);
	fputs("    {", f);
	for (c = 0; c < s->ncols; c++) {
		fprintf(f, "%s\"%s\": ", c > 0 ? ", " : "", s->cols[c].name);
		if (s->cols[c].kind == SHOW_INT)
			fprintf(f, "%lld", show_num(s, 0, c));
		else
			json_str(f, s->cells[c]);
	}
	show_fmt_pct(pct, sizeof pct, pass, msgs);
	pct[strcspn(pct, "%")] = '\0';
	fprintf(f, ",\n    \"dmarc_pass_pct\": %s, \"verdict\": \"%s\",\n",
	    msgs > 0 ? pct : "null", show_level_name(show_verdict(pass, msgs)));
	json_table(f, "daily", &v->daily, "    ");
	fputs(",\n", f);
	json_table(f, "top_sources", &v->top, "    ");
	fputs(",\n", f);
	json_table(f, "failing_sources", &v->failing, "    ");
	fputs(",\n", f);
	json_table(f, "forwarding", &v->fwd, "    ");
	fputs(",\n", f);
	json_table(f, "spoofing", &v->spoof, "    ");
	fputs(",\n", f);
	json_table(f, "reporters", &v->reporters, "    ");
	fputs(",\n", f);
	json_table(f, "source_details", &v->detail, "    ");
	if (d->has_tls) {
		fputs(",\n", f);
		json_table(f, "tls_daily", &v->tls, "    ");
	}
	if (d->has_auth) {
		fputs(",\n", f);
		json_table(f, "authenticity", &v->auth, "    ");
	}
	if (d->has_senders) {
		fputs(",\n", f);
		json_table(f, "senders", &v->senders, "    ");
	}
	fputs("}", f);
}

/* One domain's senders (the senders command), after a comma when comma. */
void
show_json_senders(FILE *f, int comma, const char *domain,
    const struct show_table *t)
{
	fputs(comma ? ",\n  {\"domain\": " : "\n  {\"domain\": ", f);
	json_str(f, domain);
	fputs(",\n", f);
	json_table(f, "senders", t, "    ");
	fputs("}", f);
}

int
show_json(FILE *f, const struct show_data *d)
{
	size_t	i;

	fprintf(f, "{\"generator\": \"%s %s\",\n", PACKAGE_NAME,
	    PACKAGE_VERSION);
	fprintf(f, " \"from\": \"%s\", \"until\": \"%s\", \"days\": %d,"
	    " \"domain\": ", d->from, d->until, d->days);
	json_str(f, d->domain);
	fprintf(f, ",\n \"enriched\": %s, \"has_tls\": %s,"
	    " \"has_health\": %s, \"has_silent\": %s, \"has_senders\": %s,"
	    "\n \"domains\": [",
	    d->enriched ? "true" : "false", d->has_tls ? "true" : "false",
	    d->has_health ? "true" : "false", d->has_silent ? "true" : "false",
	    d->has_senders ? "true" : "false");
	for (i = 0; i < d->n; i++) {
		fputs(i > 0 ? ",\n" : "\n", f);
		json_domain(f, d, &d->v[i]);
	}
	fputs("]", f);
	if (d->has_health) {
		fputs(",\n", f);
		json_table(f, "mailboxes", &d->health, " ");
	}
	if (d->has_silent) {
		fputs(",\n", f);
		json_table(f, "silent_reporters", &d->silent, " ");
	}
	fputs("}\n", f);
	return (ferror(f) ? -1 : 0);
}
