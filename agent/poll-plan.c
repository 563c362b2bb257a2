/*
 * poll-plan.c: what a poll does with each UID, from the ledger and the
 * server's search result, and the lists of UIDs the poll keeps.
 *
 * The plan is a pure function of its inputs (no server, no database), so
 * that tests/unit/tst_poll.c can check it case by case.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "agent/poll_p.h"
#include "sink/sink.h"

void
poll_list_add(struct poll_list *l, uint32_t uid, enum sink_status st)
{
	if (l->n == l->size) {
		l->size = l->size == 0 ? 64 : l->size * 2;
		l->v = xreallocarray(l->v, l->size, sizeof *l->v);
	}
	l->v[l->n].uid = uid;
	l->v[l->n].status = st;
	l->n++;
}

/* The UIDs of l, malloc'd. */
uint32_t *
poll_list_uids(const struct poll_list *l)
{
	uint32_t	*all;
	size_t		 i;

	all = xcalloc(l->n == 0 ? 1 : l->n, sizeof *all);
	for (i = 0; i < l->n; i++)
		all[i] = l->v[i].uid;
	return (all);
}

/* Add every item of from to l. */
void
poll_list_append(struct poll_list *l, const struct poll_list *from)
{
	size_t	i;

	for (i = 0; i < from->n; i++)
		poll_list_add(l, from->v[i].uid, from->v[i].status);
}

/*
 * Plan a poll from the ledger rows of the mailbox (led, ascending by UID)
 * and the search result (uids, ascending):
 *   - final messages whose after-action is pending go to p->pending (done
 *     again whether or not the search still finds them: flags and moves
 *     are idempotent);
 *   - claimed-but-unfinished ones are fetched again whatever the search
 *     says (someone may have read them meanwhile);
 *   - the rest of the search result that the ledger does not know is new,
 *     cut to max (0: no limit), and claimed before the fetch.
 * p->fetch is every UID to fetch, ascending; p->fresh the new ones.
 */
void
poll_plan(const struct sink_ledger_entry *led, size_t nled,
    const uint32_t *uids, size_t n, size_t max, struct poll_plan *p)
{
	size_t	i, j = 0, k = 0;

	memset(p, 0, sizeof *p);
	p->fetch = xcalloc(n + nled + 1, sizeof *p->fetch);
	p->fresh = xcalloc(n + 1, sizeof *p->fresh);
	if (max == 0)
		max = n;
	for (i = 0; i < nled; i++)
		if (led[i].status != SINK_CLAIMED && !led[i].after_done)
			poll_list_add(&p->pending, led[i].uid, led[i].status);
	/* Merge the claimed ledger rows and the new search results. */
	for (i = 0; i < n || k < nled; ) {
		while (k < nled && led[k].status != SINK_CLAIMED)
			k++;
		if (k < nled && (i >= n || led[k].uid <= uids[i])) {
			p->fetch[p->nfetch++] = led[k].uid;
			if (i < n && uids[i] == led[k].uid)
				i++;
			k++;
			continue;
		}
		if (i >= n)
			break;
		while (j < nled && led[j].uid < uids[i])
			j++;
		if ((j >= nled || led[j].uid != uids[i]) && p->nfresh < max) {
			p->fetch[p->nfetch++] = uids[i];
			p->fresh[p->nfresh++] = uids[i];
		}
		i++;
	}
}

void
poll_plan_free(struct poll_plan *p)
{
	free(p->pending.v);
	free(p->fetch);
	free(p->fresh);
	memset(p, 0, sizeof *p);
}
