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
 * poll that did not commit it.
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
};

static enum sink_status
status_of(const char *s, size_t len)
{
	static const char	*names[] = { "none", "claimed", "stored",
	    "duplicate", "ignored", "invalid", "too_large" };
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
	test_lists();
	return (TST_DONE());
}
