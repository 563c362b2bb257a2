/*
 * report_p.h: internals of the report module, shared by report.c, xml.c
 * and tests/unit/tst_report.c.  Nothing outside report/ includes it.
 *
 * The normalisation helpers implement the rules at the top of report.h.
 * Every returned string is malloc'd and owned by the caller.
 */
#ifndef REPORT_P_H
#define REPORT_P_H

#include <stddef.h>
#include <stdint.h>

#include "report/report.h"

/* Warnings kept per head or record; further ones are counted, not kept. */
#define REPORT_MAX_WARNINGS	100

/* NULL-terminated lists of the canonical words of each enumeration. */
extern const char *const report_words_disposition[];	/* + pass */
extern const char *const report_words_policy[];		/* none quar.. */
extern const char *const report_words_alignment[];	/* r s */
extern const char *const report_words_aligned[];	/* pass fail */
extern const char *const report_words_dkim_result[];
extern const char *const report_words_spf_result[];
extern const char *const report_words_spf_scope[];
extern const char *const report_words_reason[];
extern const char *const report_words_testing[];	/* y n */
extern const char *const report_words_discovery[];	/* psl treewalk */

/* A trimmed copy of s (ASCII white space). */
char	*report_trim(const char *);
/* A trimmed, lower-cased copy without one trailing dot. */
char	*report_domain(const char *);
/*
 * Normalise an enumerated word: *val gets the canonical word or NULL,
 * *raw the original text when it was not canonical, else NULL.  Returns 0
 * when the word is known, -1 when it is not.
 */
int	 report_enum(const char *, const char *const *, char **, char **);
/*
 * Parse an epoch: optional sign, digits, optional ".digits" (truncated).
 * Returns -1 when it is not a number or overflows int64, 0 for a plain
 * integer, 1 when a fraction was dropped.
 */
int	 report_epoch(const char *, int64_t *);
/* Parse a plain non-negative integer that fits int64; 0 or -1. */
int	 report_count(const char *, int64_t *);
/* Parse pct: 0..100, or -1 when absent or not a plain integer in range. */
int	 report_pct(const char *);
/*
 * Normalise an IP address: trim, strip [], refuse a %zone, parse IPv4 then
 * IPv6.  Returns the canonical text (inet_ntop) or NULL.
 */
char	*report_ip(const char *);
/* The reporter key: lower(org_name), else the domain of email, else "". */
char	*report_reporter_key(const char *, const char *);
/* Append a printf-style warning to a warning list, capped. */
void	 report_warn(char ***, size_t *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Free one extension element's strings. */
void	 report_ext_free(struct report_ext *);

#endif
