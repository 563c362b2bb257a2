/*
 * poll-plan.c: what a poll does with each UID, from the ledger and the
 * server's search result, and the lists of UIDs the poll keeps.
 *
 * The plan is a pure function of its inputs (no server, no database), so
 * that tests/unit/tst_poll.c can check it case by case.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "agent/poll_p.h"
#include "imap/imap.h"
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
 *     cut to max (0: no limit), and claimed before the fetch;
 *   - a UID the ledger knows settled (SINK_PRUNED included: a pruned
 *     row's UID) is left alone.
 * p->fetch is every UID to fetch, ascending; p->fresh the new ones;
 * p->held counts the new ones max left for a later poll.
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
		/* Known: settled (claimed ones were taken above). */
		if (j < nled && led[j].uid == uids[i]) {
			i++;
			continue;
		}
		if (p->nfresh < max) {
			p->fetch[p->nfetch++] = uids[i];
			p->fresh[p->nfresh++] = uids[i];
		} else
			p->held++;
		i++;
	}
}

void
poll_plan_free(struct poll_plan *p)
{
	free(p->pending.v);
	free(p->fetch);
	free(p->fresh);
	free(p->claimed);
	memset(p, 0, sizeof *p);
}

/* What a mailbox's search looks for, as the mark records it. */
void
poll_criteria(int search_all, int since_days, char *buf, size_t size)
{
	if (since_days > 0)
		snprintf(buf, size, "%s since %dd", search_all ? "all" :
		    "unseen", since_days);
	else
		snprintf(buf, size, "%s", search_all ? "all" : "unseen");
}

/*
 * What to ask the server for, from the mark of the last complete search
 * (last; uidvalidity 0: none) and what SELECT says now.  Everything the
 * criteria find when there is no mark for this UIDVALIDITY and criteria.
 * With CONDSTORE then and now, the changes since the mark's HIGHESTMODSEQ
 * (a message that arrived, whatever its UID, or whose flags changed,
 * has a higher mod-sequence), or nothing when it did not move.  Without,
 * search = "unseen" asks for everything unseen (a message read and then
 * marked unread again has an old UID), and search = "all" for the UIDs
 * from the mark's UIDNEXT on, or nothing when UIDNEXT did not move,
 * except once every FULL_SEARCH_SECS.  Whatever goes back (HIGHESTMODSEQ,
 * UIDNEXT, the clock) makes it ask for everything.
 */
void
poll_ask(const struct sink_search_mark *last, const char *criteria,
    int search_all, const struct imap_selected *now, time_t t,
    struct poll_ask *a)
{
	memset(a, 0, sizeof *a);
	a->how = ASK_ALL;
	if (last->uidvalidity == 0 || last->uidvalidity != now->uidvalidity ||
	    strcmp(last->criteria, criteria) != 0)
		return;
	if (now->highestmodseq != 0 && last->highestmodseq != 0) {
		if (now->highestmodseq == last->highestmodseq)
			a->how = ASK_NOTHING;
		else if (now->highestmodseq > last->highestmodseq) {
			a->how = ASK_MODSEQ;
			a->modseq_from = last->highestmodseq + 1;
		}
		return;
	}
	if (!search_all || now->uidnext == 0 || last->uidnext == 0 ||
	    now->uidnext < last->uidnext || t < last->full_at ||
	    t - last->full_at >= FULL_SEARCH_SECS)
		return;
	if (now->uidnext == last->uidnext)
		a->how = ASK_NOTHING;
	else {
		a->how = ASK_UIDS;
		a->uid_from = last->uidnext;
	}
}

/*
 * The mark to keep once every message this poll's search found is in the
 * ledger (claimed or settled; the caller checks that batch_size held
 * none back): what SELECT said, and when everything was last searched.
 * 1 when it differs from last (write it), else 0.
 */
int
poll_mark(const struct sink_search_mark *last, const char *criteria,
    const struct imap_selected *now, const struct poll_ask *a, time_t t,
    struct sink_search_mark *m)
{
	memset(m, 0, sizeof *m);
	m->uidvalidity = now->uidvalidity;
	snprintf(m->criteria, sizeof m->criteria, "%s", criteria);
	m->uidnext = now->uidnext;
	m->highestmodseq = now->highestmodseq;
	m->full_at = a->how == ASK_ALL ? t : last->full_at;
	return (m->uidvalidity != last->uidvalidity ||
	    strcmp(m->criteria, last->criteria) != 0 ||
	    m->uidnext != last->uidnext ||
	    m->highestmodseq != last->highestmodseq ||
	    m->full_at != last->full_at);
}
