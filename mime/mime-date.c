/*
 * mime-date.c: the Date header field of a message, as RFC 5322 section
 * 3.3 defines it, with the obsolete forms of section 4.3.
 *
 *   [day-of-week ","] day month year hour ":" minute [":" second] zone
 *
 * GMime's own reader (g_mime_utils_header_decode_date) refuses every
 * year before 1969 and reads the two-digit year 68 as 2068, where section
 * 4.3 says 1968; mime.c tries this reader first and GMime's, which is
 * more forgiving of malformed fields, only when this one refuses.  The
 * time is computed here from the calendar (no timegm), so that dates
 * before 1970 are negative numbers like the others.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "common/common.h"
#include "mime/mime_p.h"

#define DATE_MAX	256		/* longer fields are not dates */

static void	date_uncomment(const char *, char *, size_t);
static const char *date_skip(const char *);
static const char *date_num(const char *, int, int, int *, int *);
static const char *date_word(const char *, char *, size_t);
static int	date_month(const char *);
static int	date_zone(const char *, int *);
static int64_t	date_days(int64_t, int, int);

/* The field with its comments (nested, quoted pairs) as spaces. */
static void
date_uncomment(const char *s, char *out, size_t size)
{
	size_t	i = 0;
	int	depth = 0;

	for (; *s != '\0' && i + 1 < size; s++) {
		if (depth > 0 && *s == '\\' && s[1] != '\0') {
			s++;
			out[i++] = ' ';
			continue;
		}
		if (*s == '(')
			depth++;
		else if (*s == ')' && depth > 0) {
			depth--;
			out[i++] = ' ';
			continue;
		}
		out[i++] = depth > 0 ? ' ' : *s;
	}
	out[i] = '\0';
}

/* Past folding white space. */
static const char *
date_skip(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return (p);
}

/* min to max digits at p into *v (and how many into *ndig); NULL: none. */
static const char *
date_num(const char *p, int min, int max, int *v, int *ndig)
{
	int	n = 0;

	*v = 0;
	while (isdigit((unsigned char)*p) && n < max) {
		*v = *v * 10 + (*p++ - '0');
		n++;
	}
	if (n < min || isdigit((unsigned char)*p))
		return (NULL);
	if (ndig != NULL)
		*ndig = n;
	return (p);
}

/* A run of letters into w; NULL when there is none or it is too long. */
static const char *
date_word(const char *p, char *w, size_t size)
{
	size_t	n = 0;

	while (isalpha((unsigned char)*p)) {
		if (n + 1 >= size)
			return (NULL);
		w[n++] = *p++;
	}
	w[n] = '\0';
	return (n > 0 ? p : NULL);
}

/* 1 to 12, or 0 when w is no month name. */
static int
date_month(const char *w)
{
	static const char *const names[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int	i;

	for (i = 0; i < 12; i++)
		if (strcasecmp(w, names[i]) == 0)
			return (i + 1);
	return (0);
}

/*
 * The offset in minutes of an obsolete zone name (RFC 5322 section 4.3);
 * military letters mean nothing reliable and count as -0000, UTC.
 */
static int
date_zone(const char *w, int *off)
{
	static const struct {
		const char	*name;
		int		 hours;
	} zones[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "EST", -5 }, { "EDT", -4 },
		{ "CST", -6 }, { "CDT", -5 }, { "MST", -7 }, { "MDT", -6 },
		{ "PST", -8 }, { "PDT", -7 }
	};
	size_t	i;

	for (i = 0; i < sizeof zones / sizeof zones[0]; i++)
		if (strcasecmp(w, zones[i].name) == 0) {
			*off = zones[i].hours * 60;
			return (0);
		}
	if (strlen(w) == 1 && tolower((unsigned char)*w) != 'j') {
		*off = 0;
		return (0);
	}
	return (-1);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
date_days(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/*
 * A Date field into seconds since 1970-01-01 UTC (negative before): 0,
 * or -1 when it is not an RFC 5322 date-time.  The day of the week, when
 * there is one, is not checked against the date (senders get it wrong
 * more often than the date).
 */
int
mime_date_parse(const char *field, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	char		 buf[DATE_MAX + 1], w[8];
	const char	*p, *q;
	int		 day, mon, year, ndig, hh, mm, ss = 0, zh, zm, off;
	int		 sign, leap;

	if (strlen(field) > DATE_MAX)
		return (-1);
	date_uncomment(field, buf, sizeof buf);
	p = date_skip(buf);
	if ((q = date_word(p, w, sizeof w)) != NULL) {
		p = date_skip(q);		/* day-of-week "," */
		if (*p++ != ',')
			return (-1);
		p = date_skip(p);
	}
	if ((p = date_num(p, 1, 2, &day, NULL)) == NULL)
		return (-1);
	if ((p = date_word(date_skip(p), w, sizeof w)) == NULL ||
	    (mon = date_month(w)) == 0)
		return (-1);
	if ((p = date_num(date_skip(p), 2, 9, &year, &ndig)) == NULL)
		return (-1);
	if (ndig == 2)
		year += year < 50 ? 2000 : 1900;
	else if (ndig == 3)
		year += 1900;
	if (year < 1900)
		return (-1);		/* "1900 or later" (section 3.3) */
	/* obs-hour, obs-minute, obs-second: white space around ':'. */
	if ((p = date_num(date_skip(p), 1, 2, &hh, NULL)) == NULL ||
	    *(p = date_skip(p)) != ':' ||
	    (p = date_num(date_skip(p + 1), 2, 2, &mm, NULL)) == NULL)
		return (-1);
	if (*(q = date_skip(p)) == ':' &&
	    (p = date_num(date_skip(q + 1), 2, 2, &ss, NULL)) == NULL)
		return (-1);
	p = date_skip(p);
	if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if ((q = date_num(p + 1, 4, 4, &zh, NULL)) == NULL)
			return (-1);
		zm = zh % 100;
		zh /= 100;
		if (zm > 59)
			return (-1);
		off = sign * (zh * 60 + zm);
		p = q;
	} else if ((q = date_word(p, w, sizeof w)) == NULL ||
	    date_zone(w, &off) != 0)
		return (-1);
	else
		p = q;
	if (*date_skip(p) != '\0')
		return (-1);
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (day < 1 || day > mdays[mon - 1] || (mon == 2 && day == 29 &&
	    !leap) || hh > 23 || mm > 59 || ss > 60)
		return (-1);
	*out = date_days(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss -
	    (int64_t)off * 60;
	return (0);
}
