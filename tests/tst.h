/*
 * tst.h: the few macros the table-driven unit tests share.  A failed check
 * prints file, line and the values, and the test exits 1 at the end; a
 * part skipped for want of the corpus makes it exit 77 (automake's SKIP)
 * when nothing failed, so that a run without the corpus never reads as a
 * pass.
 */
#ifndef TST_H
#define TST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tst_failures;
static int tst_checks;
static int tst_skipped;		/* parts not run (tst_corpus) */

#define CHECK(cond) do {						\
	tst_checks++;							\
	if (!(cond)) {							\
		tst_failures++;						\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
	}								\
} while (0)

#define CHECK_STR(got, want) do {					\
	const char *g_ = (got), *w_ = (want);				\
	tst_checks++;							\
	if ((g_ == NULL) != (w_ == NULL) ||				\
	    (g_ != NULL && strcmp(g_, w_) != 0)) {			\
		tst_failures++;						\
		fprintf(stderr, "%s:%d: %s: got \"%s\", want \"%s\"\n",	\
		    __FILE__, __LINE__, #got, g_ ? g_ : "(null)",	\
		    w_ ? w_ : "(null)");				\
	}								\
} while (0)

#define CHECK_INT(got, want) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	tst_checks++;							\
	if (g_ != w_) {							\
		tst_failures++;						\
		fprintf(stderr, "%s:%d: %s: got %lld, want %lld\n",	\
		    __FILE__, __LINE__, #got, g_, w_);			\
	}								\
} while (0)

/*
 * dir when it holds the corpus (a CATALOG.tsv), else NULL: the caller
 * skips its corpus part, as the integration tests do, and TST_DONE
 * reports the skip; with CI=true a missing corpus is a failure instead.
 * Either is counted here.  what names the part in the message.
 */
static inline const char *
tst_corpus(const char *dir, const char *what)
{
	char	path[4096];
	int	ci;

	snprintf(path, sizeof path, "%s/CATALOG.tsv",
	    dir != NULL ? dir : "(none)");
	if (dir != NULL && access(path, R_OK) == 0)
		return (dir);
	ci = getenv("CI") != NULL && strcmp(getenv("CI"), "true") == 0;
	if (ci) {
		tst_checks++;
		tst_failures++;
	} else
		tst_skipped++;
	fprintf(ci ? stderr : stdout, "%s: %s: no corpus at %s "
	    "(DMARC_CORPUS)\n", what, ci ? "FAILED (CI=true)" : "SKIPPED",
	    path);
	return (NULL);
}

/*
 * Print the plain closing line and return the exit code: 1 on any
 * failure, else 77 (SKIP) when a part was skipped, else 0.
 */
#define TST_DONE() (printf("%s: %d checks, %d passed, %d failed, "	\
	"%d parts skipped\n", __FILE__, tst_checks,			\
	tst_checks - tst_failures, tst_failures, tst_skipped),		\
	tst_failures != 0 ? 1 : tst_skipped != 0 ? 77 : 0)

#endif
