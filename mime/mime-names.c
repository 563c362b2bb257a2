/*
 * mime-names.c: what a report's file name and its mail's Subject say.
 *
 * RFC 7489 section 7.2.1.1 names an aggregate report file
 * "receiver!policy-domain!begin!end[!unique-id].ext" and section 7.2.1.2
 * suggests a Subject "Report Domain: D Submitter: S Report-ID: <I>".
 * They are read here rather than with regular expressions in SQL (which
 * cost the database more than it was worth: bench/README.md), with the
 * same patterns written out by hand and the same results:
 *
 *   file name  ^([^!]+)!([^!]+)!([0-9]+)!([0-9]+)(?:!([^!.]+))?\.[^!]*$
 *   subject    Report\s+Domain:\s*([^\s]+)          case-insensitive,
 *              Submitter:\s*([^\s]+)                first match each
 *              Report-ID:\s*<?([^\s<>]+)
 *
 * where \s is ASCII white space, as PostgreSQL has it under the "C"
 * collation.  (In SQL the answer followed the database's locale: under
 * en_US.UTF-8 a few Unicode spaces counted too.  Subjects are RFC 2047
 * decoded; no reporter puts such spaces in this one.)
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "mime/mime.h"

static size_t	name_field(const char *, int);
static int64_t	name_number(const char *, size_t);
static size_t	space_len(const char *);
static int	ci_prefix(const char *, const char *);
static char	*subj_value(const char *, const char *, int, int);

/* Bytes of s up to the first '!' (or also '.' when dot); 0: none. */
static size_t
name_field(const char *s, int dot)
{
	size_t	n = 0;

	while (s[n] != '\0' && s[n] != '!' && (!dot || s[n] != '.'))
		n++;
	return (n);
}

static int64_t
name_number(const char *s, size_t n)
{
	int64_t	v = 0;
	size_t	i;

	if (n > 18)
		return (-1);	/* the SQL cast only took 18 digits */
	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return (v);
}

/*
 * Fill nm from a file name of the RFC 7489 form; 1 when it is one, else 0
 * (and nm is all NULL and -1).  Free with mime_name_free.
 */
int
mime_name_parse(const char *fn, struct mime_name *nm)
{
	const char	*p[5];
	size_t		 n[5], i;
	const char	*s = fn, *rest;

	memset(nm, 0, sizeof *nm);
	nm->begin = nm->end = -1;
	if (fn == NULL)
		return (0);
	/* receiver and policy domain: 1+ bytes, no '!' */
	for (i = 0; i < 2; i++) {
		p[i] = s;
		if ((n[i] = name_field(s, 0)) == 0 || s[n[i]] != '!')
			return (0);
		s += n[i] + 1;
	}
	/* begin and end: 1+ digits */
	for (i = 2; i < 4; i++) {
		p[i] = s;
		for (n[i] = 0; s[n[i]] >= '0' && s[n[i]] <= '9'; n[i]++)
			;
		if (n[i] == 0 || (i == 2 && s[n[i]] != '!'))
			return (0);
		s += n[i] + (i == 2);
	}
	/* [!unique-id] then '.' and an extension without '!' */
	p[4] = NULL;
	n[4] = 0;
	if (*s == '!') {
		p[4] = s + 1;
		if ((n[4] = name_field(p[4], 1)) == 0)
			return (0);
		s = p[4] + n[4];
	}
	if (*s != '.')
		return (0);
	for (rest = s + 1; *rest != '\0'; rest++)
		if (*rest == '!')
			return (0);
	nm->receiver = xstrndup(p[0], n[0]);
	nm->policy_domain = xstrndup(p[1], n[1]);
	nm->begin = name_number(p[2], n[2]);
	nm->end = name_number(p[3], n[3]);
	if (p[4] != NULL)
		nm->unique_id = xstrndup(p[4], n[4]);
	return (1);
}

void
mime_name_free(struct mime_name *nm)
{
	free(nm->receiver);
	free(nm->policy_domain);
	free(nm->unique_id);
	memset(nm, 0, sizeof *nm);
	nm->begin = nm->end = -1;
}

/* 1 when s starts with ASCII white space (what \s is under "C"), else 0. */
static size_t
space_len(const char *s)
{
	return (*s == ' ' || (*s >= '\t' && *s <= '\r'));
}

/* s starts with word, ASCII case ignored: its length, else 0. */
static int
ci_prefix(const char *s, const char *word)
{
	size_t	i;

	for (i = 0; word[i] != '\0'; i++) {
		char	c = s[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != word[i])
			return (0);
	}
	return ((int)i);
}

/*
 * The first match in subj of: first (lower case), then (when two is set)
 * 1+ spaces and "domain:", then any spaces, then (when angle is set) an
 * optional '<', then the value: 1+ bytes that are not spaces (nor '<'
 * '>' when angle is set).  NULL when nothing matches.
 */
static char *
subj_value(const char *subj, const char *first, int two, int angle)
{
	const char	*s, *v, *e;
	size_t		 k;
	int		 n;

	for (s = subj; *s != '\0'; s++) {
		if ((n = ci_prefix(s, first)) == 0)
			continue;
		v = s + n;
		if (two) {
			if ((k = space_len(v)) == 0)
				continue;
			while ((k = space_len(v)) != 0)
				v += k;
			if ((n = ci_prefix(v, "domain:")) == 0)
				continue;
			v += n;
		}
		while ((k = space_len(v)) != 0)
			v += k;
		if (angle && *v == '<')
			v++;
		for (e = v; *e != '\0' && space_len(e) == 0 &&
		    (!angle || (*e != '<' && *e != '>')); e++)
			;
		if (e != v)
			return (xstrndup(v, (size_t)(e - v)));
	}
	return (NULL);
}

/* The Subject's report domain, submitter and report id (each may be NULL). */
void
mime_subject_parse(const char *subj, struct mime_subject *ms)
{
	memset(ms, 0, sizeof *ms);
	if (subj == NULL)
		return;
	ms->domain = subj_value(subj, "report", 1, 0);
	ms->submitter = subj_value(subj, "submitter:", 0, 0);
	ms->report_id = subj_value(subj, "report-id:", 0, 1);
}

void
mime_subject_free(struct mime_subject *ms)
{
	free(ms->domain);
	free(ms->submitter);
	free(ms->report_id);
	memset(ms, 0, sizeof *ms);
}
