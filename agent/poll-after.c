/*
 * poll-after.c: the after-actions, what a poll does on the server with the
 * messages whose rows are committed (after = "seen", "move" or "delete"),
 * and their marks in the ledger.
 *
 * Nothing is flagged or moved before its rows are committed.  The ledger
 * mark follows the server's action, so a crash between the two only
 * repeats a flag or a move, both idempotent.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "agent/conf.h"
#include "agent/poll_p.h"
#include "imap/imap.h"
#include "sink/sink.h"

static int	is_good(enum sink_status);
static int	after_move(struct imap_session *, const struct poll_list *, int,
		    const char *, char **);
static int	after_mark(struct poll_ctx *, const struct poll_list *,
		    char **);

static int
is_good(enum sink_status st)
{
	return (st == SINK_STORED || st == SINK_DUPLICATE);
}

/* Move the good (or the bad) messages of list to folder. */
static int
after_move(struct imap_session *is, const struct poll_list *l, int good,
    const char *folder, char **cause)
{
	uint32_t	*set;
	size_t		 i, n = 0;
	int		 rc = 0;

	if (l->n == 0)
		return (0);
	set = xcalloc(l->n, sizeof *set);
	for (i = 0; i < l->n; i++)
		if (is_good(l->v[i].status) == good)
			set[n++] = l->v[i].uid;
	if (n != 0) {
		if (folder != NULL)
			rc = imap_move(is, set, n, folder, cause);
		else
			rc = imap_delete(is, set, n, cause);
	}
	free(set);
	return (rc);
}

/*
 * The after-actions of list on the server.  With "seen" everything is
 * flagged and bad mail also goes to invalid_folder when set; with "move"
 * and "delete" nothing examined stays behind.  Flags and moves are
 * idempotent: a UID already gone is no error.
 */
int
poll_after_imap(struct imap_session *is, struct poll_ctx *pc,
    const struct poll_list *l, char **cause)
{
	const struct conf_mailbox	*mb = pc->mb;
	const char			*bad;
	uint32_t			*all;
	int				 rc = 0;

	if (l->n == 0)
		return (0);
	bad = mb->invalid_folder != NULL ? mb->invalid_folder :
	    mb->archive_folder;
	switch (mb->after) {
	case CONF_AFTER_SEEN:
		all = poll_list_uids(l);
		rc = imap_flag_seen(is, all, l->n, cause);
		free(all);
		if (rc == 0 && mb->invalid_folder != NULL)
			rc = after_move(is, l, 0, mb->invalid_folder,
			    cause);
		break;
	case CONF_AFTER_MOVE:
		rc = after_move(is, l, 1, mb->archive_folder, cause);
		if (rc == 0)
			rc = after_move(is, l, 0, bad, cause);
		break;
	case CONF_AFTER_DELETE:
		rc = after_move(is, l, 1, NULL, cause);
		if (rc == 0)
			rc = after_move(is, l, 0, bad, cause);
		break;
	}
	return (rc);
}

/* Mark list's after-actions done in the ledger (pc->sink). */
static int
after_mark(struct poll_ctx *pc, const struct poll_list *l, char **cause)
{
	uint32_t	*all;
	int		 rc;

	if (l->n == 0)
		return (0);
	all = poll_list_uids(l);
	rc = sink_after_done(pc->sink, pc->mailbox_pk, pc->uidvalidity, all,
	    l->n, cause);
	free(all);
	if (rc != 0)
		xasprintf(&pc->dbcause, "%s", *cause);
	return (rc);
}

/* Do the after-actions for list, then mark them done in the ledger. */
int
poll_after_actions(struct imap_session *is, struct poll_ctx *pc,
    const struct poll_list *l, char **cause)
{
	if (poll_after_imap(is, pc, l, cause) != 0)
		return (-1);
	return (after_mark(pc, l, cause));
}

/*
 * After the fetch: the after-actions of pc->done on the server, then the
 * ledger marks of all that was acted on in this poll (pc->acted, and
 * pc->done when that worked).  0, or -1 with *cause from the first
 * failure.
 */
int
poll_after_end(struct imap_session *is, struct poll_ctx *pc, char **cause)
{
	char	*c2 = NULL;
	int	 rc;

	if ((rc = poll_after_imap(is, pc, &pc->done, cause)) == 0)
		poll_list_append(&pc->acted, &pc->done);
	if (after_mark(pc, &pc->acted, rc == 0 ? cause : &c2) != 0)
		rc = -1;
	free(c2);
	return (rc);
}
