/*
 * poll-after.c: the after-actions, what a poll does on the server with the
 * messages whose rows are committed (after = "seen", "move" or "delete"),
 * and their marks in the ledger.
 *
 * Nothing is flagged or moved before its rows are committed.  The ledger
 * mark follows the server's action, so a crash between the two only
 * repeats a flag or a move, both idempotent.  What a delete (or a move
 * without MOVE) flags \Deleted leaves the folder as the mailbox's expunge
 * setting says (imap.h); when the server keeps it there, poll_after_warn
 * says so once.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "agent/conf.h"
#include "agent/poll_p.h"
#include "imap/imap.h"
#include "sink/sink.h"

/* The mailboxes told that their server keeps our \Deleted mail. */
static pthread_mutex_t	  warned_lock = PTHREAD_MUTEX_INITIALIZER;
static char		**warned;
static size_t		  nwarned;

static int	is_good(enum sink_status);
static int	warn_first(const char *);
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

/* 1 the first time name is given in this process, else 0. */
static int
warn_first(const char *name)
{
	size_t	i;
	int	first = 1;

	pthread_mutex_lock(&warned_lock);
	for (i = 0; i < nwarned && first; i++)
		first = strcmp(warned[i], name) != 0;
	if (first) {
		warned = xreallocarray(warned, nwarned + 1, sizeof *warned);
		warned[nwarned++] = xstrdup(name);
	}
	pthread_mutex_unlock(&warned_lock);
	return (first);
}

/*
 * After a session: when the server kept expunge = "uid" from removing
 * what it flagged \Deleted (no UIDPLUS), say so, loudly once a process
 * per mailbox, since every later poll would repeat it.
 */
void
poll_after_warn(struct imap_session *is, const struct conf_mailbox *mb)
{
	size_t	n;

	if ((n = imap_unexpunged(is)) == 0)
		return;
	if (warn_first(mb->name))
		log_warnx("%s: the server lacks UIDPLUS, so %zu message(s) "
		    "stay flagged \\Deleted (expunge = \"uid\"); expunge = "
		    "\"all\" removes them, and what other clients flagged "
		    "\\Deleted in the folder too (said once)", mb->name, n);
	else
		log_debug("%s: %zu message(s) left flagged \\Deleted (no "
		    "UIDPLUS)", mb->name, n);
}
