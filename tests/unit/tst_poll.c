/*
 * tst_poll.c: the poll plan (agent/poll-plan.c), case by case.
 *
 * Each case gives the mailbox's ledger rows, the server's search result
 * and batch_size, and the plan a poll must make: which final messages
 * still need their after-action (pending), which UIDs it fetches, and
 * which of those are new (claimed before the fetch).  A ledger row is
 * written UID:STATUS, with "+" when its after-action is done:
 * "4:stored+" is a stored message already flagged or moved, "4:stored"
 * one whose after-action a crash cut short, "4:claimed" one claimed by a
 * poll that did not commit it, "4:pruned+" the UID of a pruned row.
 *
 * Then what batch_size held back, and what a poll asks the server for
 * (poll_ask) and the mark it keeps (poll_mark).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "agent/poll_p.h"
#include "sink/sink.h"
#include "tests/tst.h"

static const struct {
	const char	*name;
	const char	*ledger;
	const char	*search;
	size_t		 max;		/* batch_size; 0: no limit */
	const char	*pending;
	const char	*fetch;
	const char	*fresh;
} cases[] = {
	{ "nothing anywhere", "", "", 0, "", "", "" },
	{ "first poll: everything is new", "", "1 2 3", 0,
	    "", "1 2 3", "1 2 3" },
	{ "settled messages found again (search all)",
	    "1:stored+ 2:duplicate+ 3:invalid+", "1 2 3", 0, "", "", "" },
	{ "settled and new", "1:stored+ 2:ignored+", "1 2 3 4", 0,
	    "", "3 4", "3 4" },
	{ "a crash between commit and move: pending, not fetched",
	    "5:stored 6:invalid 7:stored+", "5 6 7", 0, "5 6", "", "" },
	{ "pending even when the search no longer finds it",
	    "5:duplicate 6:too_large", "", 0, "5 6", "", "" },
	{ "claimed and not committed: fetched again, not claimed again",
	    "2:claimed", "1 2 3", 0, "", "1 2 3", "1 3" },
	{ "claimed is fetched whatever the search says (read meanwhile)",
	    "2:claimed 4:claimed", "3", 0, "", "2 3 4", "3" },
	{ "mail that arrived with a lower UID than settled ones",
	    "5:stored+ 9:stored+", "3 5 7 9 11", 0, "", "3 7 11", "3 7 11" },
	{ "batch_size cuts the new ones, in UID order", "", "1 2 3 4 5", 2,
	    "", "1 2", "1 2" },
	{ "batch_size never holds back claimed messages", "10:claimed",
	    "1 2 3", 1, "", "1 10", "1" },
	{ "batch_size counts only new messages",
	    "1:stored+ 2:claimed", "1 2 3 4 5", 2, "", "2 3 4", "3 4" },
	{ "everything at once",
	    "1:stored+ 2:invalid 3:claimed 4:duplicate+ 8:claimed",
	    "1 2 3 4 5 6", 0, "2", "3 5 6 8", "5 6" },
	{ "UIDs at the top of the range", "4294967294:claimed",
	    "4294967295", 0, "", "4294967294 4294967295", "4294967295" },
	/*
	 * The ledger a poll reads now: the rows of the UIDs found and the
	 * unfinished ones, "pruned" standing for a pruned row's UID.
	 */
	{ "pruned UIDs found again are settled, never new",
	    "1:pruned+ 2:pruned+ 3:stored+", "1 2 3 4", 0, "", "4", "4" },
	{ "pruned and claimed side by side", "1:pruned+ 2:claimed",
	    "1 2", 0, "", "2", "" },
	{ "an unfinished row far below what the search asked for",
	    "5:claimed 9:stored", "1000001 1000002", 0, "9",
	    "5 1000001 1000002", "1000001 1000002" },
	{ "nothing asked (nothing new): only the unfinished rows",
	    "3:claimed 4:invalid", "", 0, "4", "3", "" },
	{ "a lower UID than settled ones found by a narrow search",
	    "700:stored+ 900:stored+", "650 900 901", 0, "", "650 901",
	    "650 901" },
};

static enum sink_status
status_of(const char *s, size_t len)
{
	static const char	*names[] = { "none", "claimed", "stored",
	    "duplicate", "ignored", "invalid", "too_large", "pruned" };
	size_t			 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == len && strncmp(names[i], s, len) == 0)
			return ((enum sink_status)i);
	fatalx("tst_poll: bad status in a case");
}

/* "1:stored+ 2:claimed" into ledger rows. */
static size_t
parse_ledger(const char *s, struct sink_ledger_entry *v, size_t max)
{
	char	*end;
	size_t	 n = 0, len;

	while (*s != '\0' && n < max) {
		v[n].uid = (uint32_t)strtoul(s, &end, 10);
		s = end + 1;	/* the colon */
		len = strcspn(s, "+ ");
		v[n].status = status_of(s, len);
		s += len;
		v[n].after_done = (*s == '+');
		s += strspn(s, "+ ");
		n++;
	}
	return (n);
}

static size_t
parse_uids(const char *s, uint32_t *v, size_t max)
{
	char	*end;
	size_t	 n = 0;

	while (*s != '\0' && n < max) {
		v[n++] = (uint32_t)strtoul(s, &end, 10);
		s = end + strspn(end, " ");
	}
	return (n);
}

/* v as "1 2 3", into a static buffer. */
static const char *
show(const uint32_t *v, size_t n)
{
	static char	out[512];
	size_t		i, off = 0;

	out[0] = '\0';
	for (i = 0; i < n && off < sizeof out - 12; i++)
		off += (size_t)snprintf(out + off, sizeof out - off, "%s%u",
		    i == 0 ? "" : " ", v[i]);
	return (out);
}

static void
test_case(size_t c)
{
	struct sink_ledger_entry	 led[16];
	struct poll_plan		 p;
	uint32_t			 uids[16], *pending;
	size_t				 nled, n;

	nled = parse_ledger(cases[c].ledger, led, 16);
	n = parse_uids(cases[c].search, uids, 16);
	poll_plan(led, nled, uids, n, cases[c].max, &p);
	pending = poll_list_uids(&p.pending);
	fprintf(stderr, "case %zu: %s\n", c, cases[c].name);
	CHECK_STR(show(pending, p.pending.n), cases[c].pending);
	CHECK_STR(show(p.fetch, p.nfetch), cases[c].fetch);
	CHECK_STR(show(p.fresh, p.nfresh), cases[c].fresh);
	free(pending);
	poll_plan_free(&p);
}

/*
 * What batch_size held back, so that the poll keeps the search's mark
 * only when nothing was (the next poll must find the rest again).
 */
static const struct {
	const char	*ledger;
	const char	*search;
	size_t		 max;
	size_t		 held;
} held_cases[] = {
	{ "", "1 2 3 4 5", 2, 3 },
	{ "", "1 2 3 4 5", 0, 0 },
	{ "", "1 2 3", 3, 0 },
	{ "1:stored+ 2:claimed 3:pruned+", "1 2 3 4 5", 1, 1 },
	{ "1:stored+ 2:stored+", "1 2", 1, 0 },
};

static void
test_held(void)
{
	struct sink_ledger_entry	 led[16];
	struct poll_plan		 p;
	uint32_t			 uids[16];
	size_t				 c, nled, n;

	for (c = 0; c < sizeof held_cases / sizeof held_cases[0]; c++) {
		nled = parse_ledger(held_cases[c].ledger, led, 16);
		n = parse_uids(held_cases[c].search, uids, 16);
		poll_plan(led, nled, uids, n, held_cases[c].max, &p);
		fprintf(stderr, "held case %zu\n", c);
		CHECK_INT(p.held, held_cases[c].held);
		poll_plan_free(&p);
	}
}

/*
 * What a poll asks the server for (poll_ask), from the mark of the last
 * complete search and what SELECT says now.  A mark is "UIDVALIDITY
 * criteria UIDNEXT HIGHESTMODSEQ AGE" (AGE: seconds since the last
 * search of everything; "-" for no mark), SELECT "UIDVALIDITY UIDNEXT
 * HIGHESTMODSEQ" (0: not given); the answer "all", "nothing",
 * "uids FROM" or "modseq FROM".
 */
static const struct {
	const char	*name;
	const char	*mark;
	const char	*criteria;
	int		 search_all;
	const char	*now;
	const char	*ask;
} ask_cases[] = {
	{ "first poll: everything", "-", "unseen", 0, "7 100 500", "all" },
	{ "first poll, search all", "-", "all", 1, "7 100 0", "all" },
	/* CONDSTORE: only what changed, whatever the search. */
	{ "condstore, nothing moved", "7 unseen 100 500 60", "unseen", 0,
	    "7 100 500", "nothing" },
	{ "condstore, something moved", "7 unseen 100 500 60", "unseen", 0,
	    "7 101 512", "modseq 501" },
	{ "condstore, search all, a day later: still changes only",
	    "7 all 100 500 90000", "all", 1, "7 100 512", "modseq 501" },
	{ "condstore, a flag changed below UIDNEXT (no new UID)",
	    "7 all 100 500 60", "all", 1, "7 100 501", "modseq 501" },
	{ "condstore, HIGHESTMODSEQ went back", "7 all 100 500 60", "all",
	    1, "7 100 499", "all" },
	{ "condstore lost (NOMODSEQ now)", "7 all 100 500 60", "all", 1,
	    "7 120 0", "uids 100" },
	{ "condstore now, not at the mark", "7 all 100 0 60", "all", 1,
	    "7 120 900", "uids 100" },
	/* Without CONDSTORE. */
	{ "unseen: always everything unseen", "7 unseen 100 0 60",
	    "unseen", 0, "7 100 0", "all" },
	{ "all: UIDNEXT did not move", "7 all 100 0 60", "all", 1,
	    "7 100 0", "nothing" },
	{ "all: new UIDs only", "7 all 100 0 60", "all", 1, "7 121 0",
	    "uids 100" },
	{ "all: a day after the last full search", "7 all 100 0 86400",
	    "all", 1, "7 121 0", "all" },
	{ "all: just under a day", "7 all 100 0 86399", "all", 1,
	    "7 100 0", "nothing" },
	{ "all: UIDNEXT went back", "7 all 100 0 60", "all", 1, "7 90 0",
	    "all" },
	{ "all: no UIDNEXT from the server", "7 all 0 0 60", "all", 1,
	    "7 0 0", "all" },
	{ "all: the clock went back", "7 all 100 0 -60", "all", 1,
	    "7 100 0", "all" },
	/* Another folder, or other criteria: everything. */
	{ "new UIDVALIDITY", "7 all 100 500 60", "all", 1, "8 100 500",
	    "all" },
	{ "criteria changed (unseen to all)", "7 unseen 100 500 60", "all",
	    1, "7 100 500", "all" },
	{ "since changed", "7 all since 30d 100 500 60", "all since 60d", 1,
	    "7 100 500", "all" },
};

static void
parse_mark(const char *s, struct sink_search_mark *m, time_t now)
{
	char		 crit[64], w[16];
	unsigned long	 uv, next;
	unsigned long long ms;
	long		 age;
	int		 off;

	memset(m, 0, sizeof *m);
	if (strcmp(s, "-") == 0)
		return;
	if (sscanf(s, "%lu %31s%n", &uv, crit, &off) != 2)
		fatalx("tst_poll: bad mark");
	s += off;
	/* "since 30d" is part of the criteria. */
	if (sscanf(s, " since %15s%n", w, &off) == 1) {
		snprintf(crit + strlen(crit), sizeof crit - strlen(crit),
		    " since %s", w);
		s += off;
	}
	if (sscanf(s, "%lu %llu %ld", &next, &ms, &age) != 3)
		fatalx("tst_poll: bad mark");
	m->uidvalidity = (uint32_t)uv;
	snprintf(m->criteria, sizeof m->criteria, "%s", crit);
	m->uidnext = (uint32_t)next;
	m->highestmodseq = ms;
	m->full_at = now - age;
}

static void
test_ask(void)
{
	struct sink_search_mark	 last, mark;
	struct imap_selected	 sel;
	struct poll_ask		 a;
	unsigned long		 uv, next;
	unsigned long long	 ms;
	time_t			 now = 1800000000;
	char			 got[64];
	size_t			 c;

	for (c = 0; c < sizeof ask_cases / sizeof ask_cases[0]; c++) {
		fprintf(stderr, "ask case %zu: %s\n", c, ask_cases[c].name);
		parse_mark(ask_cases[c].mark, &last, now);
		if (sscanf(ask_cases[c].now, "%lu %lu %llu", &uv, &next,
		    &ms) != 3)
			fatalx("tst_poll: bad SELECT");
		memset(&sel, 0, sizeof sel);
		sel.uidvalidity = (uint32_t)uv;
		sel.uidnext = (uint32_t)next;
		sel.highestmodseq = ms;
		poll_ask(&last, ask_cases[c].criteria,
		    ask_cases[c].search_all, &sel, now, &a);
		switch (a.how) {
		case ASK_ALL:
			snprintf(got, sizeof got, "all");
			break;
		case ASK_NOTHING:
			snprintf(got, sizeof got, "nothing");
			break;
		case ASK_UIDS:
			snprintf(got, sizeof got, "uids %u", a.uid_from);
			break;
		case ASK_MODSEQ:
			snprintf(got, sizeof got, "modseq %llu",
			    (unsigned long long)a.modseq_from);
			break;
		}
		CHECK_STR(got, ask_cases[c].ask);
		/* The mark kept after it: what SELECT said. */
		poll_mark(&last, ask_cases[c].criteria, &sel, &a, now, &mark);
		CHECK_INT(mark.uidvalidity, sel.uidvalidity);
		CHECK_INT(mark.uidnext, sel.uidnext);
		CHECK(mark.highestmodseq == sel.highestmodseq);
		CHECK_STR(mark.criteria, ask_cases[c].criteria);
		CHECK(mark.full_at == (a.how == ASK_ALL ? now : last.full_at));
	}
}

/* A mark is written only when it changed; criteria as the mark has them. */
static void
test_mark(void)
{
	struct sink_search_mark	 last, mark;
	struct imap_selected	 sel;
	struct poll_ask		 a;
	char			 crit[SINK_CRITERIA_MAX];

	poll_criteria(0, 0, crit, sizeof crit);
	CHECK_STR(crit, "unseen");
	poll_criteria(1, 30, crit, sizeof crit);
	CHECK_STR(crit, "all since 30d");
	parse_mark("7 all since 30d 100 500 60", &last, 1000);
	memset(&sel, 0, sizeof sel);
	sel.uidvalidity = 7;
	sel.uidnext = 100;
	sel.highestmodseq = 500;
	poll_ask(&last, crit, 1, &sel, 1000, &a);
	CHECK_INT(a.how, ASK_NOTHING);
	CHECK_INT(poll_mark(&last, crit, &sel, &a, 1000, &mark), 0);
	sel.highestmodseq = 501;
	poll_ask(&last, crit, 1, &sel, 1000, &a);
	CHECK_INT(poll_mark(&last, crit, &sel, &a, 1000, &mark), 1);
	CHECK(mark.full_at == 940);
}

/* The pending list keeps each message's status for the after-action. */
static void
test_pending_status(void)
{
	struct sink_ledger_entry	 led[4];
	struct poll_plan		 p;

	CHECK_INT(parse_ledger("1:stored 2:invalid 3:duplicate+ 4:ignored",
	    led, 4), 4);
	poll_plan(led, 4, NULL, 0, 0, &p);
	CHECK_INT(p.pending.n, 3);
	if (p.pending.n == 3) {
		CHECK_INT(p.pending.v[0].status, SINK_STORED);
		CHECK_INT(p.pending.v[1].status, SINK_INVALID);
		CHECK_INT(p.pending.v[2].status, SINK_IGNORED);
	}
	poll_plan_free(&p);
}

/* The lists the poll keeps: add, append, UIDs out. */
static void
test_lists(void)
{
	struct poll_list	 a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	uint32_t		*u, i;

	for (i = 1; i <= 100; i++)
		poll_list_add(&a, i, SINK_STORED);
	poll_list_add(&b, 500, SINK_INVALID);
	poll_list_append(&b, &a);
	CHECK_INT(b.n, 101);
	u = poll_list_uids(&b);
	CHECK_INT(u[0], 500);
	CHECK_INT(u[1], 1);
	CHECK_INT(u[100], 100);
	CHECK_INT(b.v[0].status, SINK_INVALID);
	free(u);
	free(a.v);
	free(b.v);
	memset(&a, 0, sizeof a);
	u = poll_list_uids(&a);		/* an empty list: still an array */
	CHECK(u != NULL);
	free(u);
}

int
main(void)
{
	size_t	c;

	log_init(LOG_TO_STDERR, 0);
	for (c = 0; c < sizeof cases / sizeof cases[0]; c++)
		test_case(c);
	test_pending_status();
	test_held();
	test_ask();
	test_mark();
	test_lists();
	return (TST_DONE());
}
