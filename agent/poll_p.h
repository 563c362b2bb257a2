/*
 * poll_p.h: the poll engine's internals, shared by agent/poll*.c and
 * tests/unit/tst_poll.c.
 */
#ifndef POLL_P_H
#define POLL_P_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "agent/pipeline.h"
#include "imap/imap.h"
#include "sink/sink.h"

struct conf;
struct conf_mailbox;
struct imap_session;

/*
 * Workers: copies of queued messages, and of those in a worker's open
 * batch (kept so that a batch that lost a deadlock can be replayed), are
 * held to QUEUE_BYTES in all; a message over BORROW_BYTES, too large for
 * that budget, is not copied but handed over, and the fetcher waits until
 * it is committed (which idles the other workers meanwhile, so the
 * threshold is high).  Polls of fewer than WORKERS_FROM messages stay on
 * one connection.  A batch that lost a deadlock is replayed up to REPLAYS
 * times.
 */
#define QUEUE_BYTES	(8U << 20)
#define BORROW_BYTES	(QUEUE_BYTES / 2)
#define WORKERS_FROM	16
#define REPLAYS		3

/*
 * Group commit: a batch is committed after BATCH_MAX messages or
 * BATCH_MSEC milliseconds.  With workers, the fetch goes in slices of
 * AFTER_SLICE UIDs, and between two the server side of the after-actions
 * of what was committed by then is done, so that little is left for the
 * end.
 */
#define BATCH_MAX	100
#define BATCH_MSEC	250
#define AFTER_SLICE	500

/*
 * Without CONDSTORE, a poll with search = "all" asks for the UIDs above
 * the last search's UIDNEXT only, and for everything at least every
 * FULL_SEARCH_SECS: that finds a message that appeared below it (one
 * undeleted, or made visible late by a server that numbers messages
 * before it commits them).
 */
#define FULL_SEARCH_SECS	86400

/* What a poll asks the server for (poll_ask). */
enum poll_ask_how {
	ASK_ALL = 0,		/* everything the criteria find */
	ASK_NOTHING,		/* nothing can be new: no search */
	ASK_UIDS,		/* UIDs from uid_from on */
	ASK_MODSEQ		/* changes from modseq_from on (CONDSTORE) */
};
struct poll_ask {
	enum poll_ask_how	 how;
	uint32_t		 uid_from;
	uint64_t		 modseq_from;
};

/* Fault points (poll-fault.c), where a test may kill or pause a poll. */
enum poll_fault {
	FAULT_AFTER_COMMIT,	/* a message committed */
	FAULT_BEFORE_AFTER,	/* the fetch is over, no after-action yet */
	FAULT_AT_FETCH,		/* a message fetched, not yet processed */
	FAULT_IN_BATCH,		/* a message in an open batch, uncommitted */
	FAULT_IN_COMMIT,	/* a batch's COMMIT sent, its reply unread */
	FAULT_IN_ROTATION,	/* a rotated refresh token half written
				   (agent/oauth2.c; kill only) */
	FAULT_AFTER_ROTATION,	/* renamed, its directory not yet synced */
	FAULT_NONE
};

/* The sizes above as a run uses them, and the fault a test asked for. */
struct poll_tuning {
	enum poll_fault	 fault;		/* FAULT_NONE: none */
	int		 fault_pause;	/* pause there, else SIGKILL */
	long		 fault_n;	/* at the poll's Nth message */
	const char	*fault_go;	/* the file that ends a pause */
	size_t		 batch_max;
	size_t		 borrow_bytes;
	size_t		 after_slice;
};
extern struct poll_tuning poll_tuning;

/* A UID and what became of it. */
struct poll_item {
	uint32_t	 uid;
	enum sink_status status;
};

struct poll_list {
	struct poll_item	*v;
	size_t			 n;
	size_t			 size;	/* allocated */
};

/* A fetched message on its way to a worker. */
struct poll_msg {
	struct poll_msg	*next;
	uint32_t	 uid;
	uint64_t	 size;		/* RFC822.SIZE, or the length */
	const char	*data;		/* NULL: over the size cap */
	size_t		 len;
	char		*copy;		/* data when the queue owns it */
	int		 done;		/* borrowed: the worker is through */
};

/* A worker: a database writer, its connection and the batch open on it. */
struct poll_worker {
	struct poll_ctx		*pc;
	struct sink		*sink;
	pthread_t		 thread;
	int			 failed;	/* stopped by a database failure */
	int			 in_batch;
	struct timespec		 batch_start;
	struct pipeline_counts	 batch_counts;
	struct poll_list	 batch;		/* processed, not committed */
	struct poll_msg		*kept;		/* their copies, for a replay */
};

/*
 * One mailbox poll.  With one worker, the fetch callback runs every
 * message through the pipeline itself, on the poll's connection.  With
 * more, it queues copies and the workers' threads take them, each on its
 * own connection with its own batch; mtx guards the queue, done, counts
 * and dbcause.
 */
struct poll_ctx {
	const struct conf		*conf;
	const struct conf_mailbox	*mb;
	struct sink			*sink;
	char				*identity; /* imap_url_identity */
	int64_t				 mailbox_pk; /* its row, the
					   ledger's key */
	uint32_t			 uidvalidity;
	struct pipeline_counts		 counts;
	struct poll_list		 done;	/* after-actions to do */
	struct poll_list		 acted;	/* done on the server, not yet
					   marked in the ledger */
	struct poll_list		 unsure; /* their commit's outcome is
					   not known (poll_settle) */
	char				*dbcause; /* set: database failed */
	const struct poll_plan		*plan;	/* the session's, or NULL */
	struct poll_worker		*w;
	size_t				 nw;
	pthread_mutex_t			 mtx;
	pthread_cond_t			 more;	/* queued, end or stop */
	pthread_cond_t			 room;	/* taken, committed or done */
	struct poll_msg			*head, *tail;
	size_t				 qbytes; /* copies queued or kept */
	int				 starved; /* the fetcher waits */
	int				 eof, stop;
	long				 fault_count; /* messages past
					   the fault point (atomic) */
};

/* What poll_plan decided; poll_plan_free frees it. */
struct poll_plan {
	struct poll_list	 pending;	/* after-actions to complete */
	uint32_t		*fetch;		/* every UID to fetch */
	size_t			 nfetch;
	uint32_t		*fresh;		/* new: to claim first */
	size_t			 nfresh;
	int64_t			*claimed;	/* the ledger row of each
						   UID of fetch when it is
						   claimed, else 0 */
	size_t			 held;		/* new, left for later by
						   batch_size */
};

/* poll-fault.c */
void	poll_fault_point(struct poll_ctx *, enum poll_fault, uint32_t);
void	poll_fault_commit_hook(void *);	/* arg: a struct poll_worker */

/* poll-plan.c */
void	 poll_list_add(struct poll_list *, uint32_t, enum sink_status);
void	 poll_list_append(struct poll_list *, const struct poll_list *);
uint32_t *poll_list_uids(const struct poll_list *);	/* malloc'd */
void	 poll_plan(const struct sink_ledger_entry *, size_t,
	    const uint32_t *, size_t, size_t, struct poll_plan *);
void	 poll_plan_free(struct poll_plan *);
void	 poll_criteria(int, int, char *, size_t);
void	 poll_ask(const struct sink_search_mark *, const char *, int,
	    const struct imap_selected *, time_t, struct poll_ask *);
int	 poll_mark(const struct sink_search_mark *, const char *,
	    const struct imap_selected *, const struct poll_ask *, time_t,
	    struct sink_search_mark *);

/* poll-workers.c */
void	poll_workers_start(struct poll_ctx *, size_t);
int	poll_workers_finish(struct poll_ctx *, char **);
void	poll_workers_free(struct poll_ctx *);
int	poll_fetch_cb(uint32_t, const char *, size_t, uint64_t, void *,
	    char **);

/* poll-after.c */
int	poll_after_imap(struct imap_session *, struct poll_ctx *,
	    const struct poll_list *, char **);
int	poll_after_actions(struct imap_session *, struct poll_ctx *,
	    const struct poll_list *, char **);
int	poll_after_end(struct imap_session *, struct poll_ctx *, char **);
void	poll_after_warn(struct imap_session *, const struct conf_mailbox *);

#endif
