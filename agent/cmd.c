/*
 * cmd.c: poll, run, ingest and migrate.
 *
 * A poll of one mailbox, in the order the ledger requires:
 *   1. SELECT (UIDVALIDITY), read the ledger rows of (mailbox, uidvalidity)
 *      and UID SEARCH ALL;
 *   2. complete the after-actions still pending for messages that reached
 *      a final status (a crash may have come between commit and move);
 *   3. claim the new UIDs (committed before any fetch);
 *   4. fetch claimed-but-unfinished and new messages with BODY.PEEK[] and
 *      run each through the pipeline: while the IMAP connection fetches,
 *      the mailbox's workers (threads, each on a database connection of
 *      its own) decode, parse and store them, several messages a
 *      transaction, each message all or nothing inside it;
 *   5. flag, move or delete them in as few IMAP commands as possible, then
 *      mark the after-actions done.
 * Nothing is flagged or moved before its rows are committed, so a crash at
 * any point loses nothing and counts nothing twice.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "agent/pipeline.h"
#include "imap/imap.h"
#include "mime/mime.h"
#include "sink/sink.h"

#define FILE_MAILBOX	"file"
#define MAX_DEPTH	64

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

/* A fetched message on its way to a worker (struct poll_ctx). */
struct poll_msg {
	struct poll_msg	*next;
	uint32_t	 uid;
	uint64_t	 size;		/* RFC822.SIZE, or the length */
	const char	*data;		/* NULL: over the size cap */
	size_t		 len;
	char		*copy;		/* data when the queue owns it */
	int		 done;		/* borrowed: the worker is through */
};

/* A writer: a database connection and the batch open on it. */
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
	uint32_t			 uidvalidity;
	struct pipeline_counts		 counts;
	struct poll_list		 done;	/* after-actions to do */
	struct poll_list		 acted;	/* done on the server, not yet
					   marked in the ledger */
	char				*dbcause; /* set: database failed */
	struct poll_worker		*w;
	size_t				 nw;
	pthread_mutex_t			 mtx;
	pthread_cond_t			 more;	/* queued, end or stop */
	pthread_cond_t			 room;	/* taken, committed or done */
	struct poll_msg			*head, *tail;
	size_t				 qbytes; /* copies queued or kept */
	int				 starved; /* the fetcher waits */
	int				 eof, stop;
};

/*
 * Workers: copies of queued messages, and of those in a worker's open
 * batch (kept so that a batch that lost a deadlock can be replayed), are
 * held to QUEUE_BYTES in all; a message over BORROW_BYTES, too large for
 * that budget, is not copied but handed over, and the fetcher waits until
 * it is committed.  That wait idles the other workers: with BORROW_BYTES
 * at 1 MiB, the bench's seven mails of 1.2 MB per 1,000 left 0.7 of the
 * 2.5 core-seconds idle.  Polls of fewer than WORKERS_FROM messages stay
 * on one connection.
 */
#define QUEUE_BYTES	(8U << 20)
#define BORROW_BYTES	(QUEUE_BYTES / 2)
#define WORKERS_FROM	16
#define REPLAYS		3

/*
 * Group commit: several messages share a transaction (each inside a
 * savepoint, so each is all or nothing), committed after BATCH_MAX
 * messages or BATCH_MSEC milliseconds.  A message counts as done, and its
 * after-action is queued, only once its batch committed.
 */
#define BATCH_MAX	100
/*
 * With writers, the fetch goes in slices of AFTER_SLICE UIDs, and between
 * two the server side of the after-actions of what was committed by then
 * is done, so that little is left for the end.
 */
#define AFTER_SLICE	500
#define KEEPALIVE_SECS	60	/* NOOP before acting after a longer fetch */
#define BATCH_MSEC	250

static volatile sig_atomic_t	cmd_quit;

/*
 * Fault injection for the crash tests (DMARC_AGENT_FAULT): the process
 * kills itself with SIGKILL at a named point, so tests can prove that a
 * crash there loses nothing and counts nothing twice.
 *   kill-after-commit:N   after the Nth message committed in this run
 *   kill-before-after     after the fetches, before any flag or move
 * DMARC_AGENT_BATCH=N sets the group commit's size (messages per
 * transaction) so that a test can place a kill between two messages;
 * DMARC_AGENT_BORROW=N hands messages over N bytes to the workers without
 * a copy (BORROW_BYTES), so that a test can take that path with small mail;
 * DMARC_AGENT_SLICE=N fetches in slices of N UIDs (AFTER_SLICE), so that
 * after-actions happen between slices in a small poll.
 */
static long	fault_after_commit = -1;
static int	fault_before_after;
static size_t	batch_max = BATCH_MAX;	/* DMARC_AGENT_BATCH, for tests */
static size_t	borrow_bytes = BORROW_BYTES;	/* DMARC_AGENT_BORROW */
static size_t	after_slice = AFTER_SLICE;	/* DMARC_AGENT_SLICE */

static void	fault_point(int);

static void	on_quit_signal(int);
static void	list_add(struct poll_list *, uint32_t, enum sink_status);
static int	is_good(enum sink_status);
static int	after_move(struct imap_session *, struct poll_ctx *,
		    const struct poll_list *, int, const char *, char **);
static int	after_imap(struct imap_session *, struct poll_ctx *,
		    const struct poll_list *, char **);
static int	after_mark(struct poll_ctx *, const struct poll_list *,
		    char **);
static int	after_actions(struct imap_session *, struct poll_ctx *,
		    const struct poll_list *, char **);
static void	list_append(struct poll_list *, const struct poll_list *);
static uint32_t	*list_uids(const struct poll_list *);
static int	poll_after_end(struct imap_session *, struct poll_ctx *,
		    char **);
static int	poll_fetch_all(struct poll_ctx *, struct imap_session *,
		    const uint32_t *, size_t, char **);
static int	poll_fetch_cb(uint32_t, const char *, size_t, uint64_t, void *,
		    char **);
static int	poll_plan(struct poll_ctx *, const uint32_t *, size_t,
		    struct poll_list *, uint32_t **, size_t *, uint32_t **,
		    size_t *, char **);
static int	poll_session(struct poll_ctx *, struct imap_session *,
		    char **);
static void	poll_opts(const struct conf *, const struct conf_mailbox *,
		    struct imap_opts *, const char *);
static struct imap_session *poll_connect(const struct conf *,
		    const struct conf_mailbox *, enum imap_class *, char **);
static void	poll_run_end(struct poll_ctx *, int64_t, const char *);
static long	poll_batch_age(struct poll_worker *);
static void	poll_batch_drop(struct poll_worker *);
static int	worker_failed(struct poll_worker *, const char *);
static int	worker_run(struct poll_worker *, uint32_t, const char *,
		    size_t, uint64_t, char **);
static int	worker_recover(struct poll_worker *, struct poll_msg *, int *,
		    char **);
static int	worker_replay(struct poll_worker *, struct poll_msg *,
		    char **);
static int	worker_message(struct poll_worker *, uint32_t, const char *,
		    size_t, uint64_t, char **);
static void	worker_release(struct poll_worker *);
static int	worker_commit(struct poll_worker *, struct poll_msg *,
		    char **);
static int	worker_take(struct poll_worker *, struct poll_msg *, char **);
static int	worker_wait(struct poll_worker *);
static void	*worker_main(void *);
static int	msg_borrowed(const struct poll_msg *);
static size_t	msg_charge(const struct poll_msg *);
static void	queue_stop(struct poll_ctx *);
static int	queue_put(struct poll_ctx *, uint32_t, const char *, size_t,
		    uint64_t, char **);
static int	queue_stopped(struct poll_ctx *, char **);
static void	poll_workers_start(struct poll_ctx *, size_t);
static int	poll_workers_finish(struct poll_ctx *, char **);
static void	poll_workers_free(struct poll_ctx *);
static void	poll_ctx_init(struct poll_ctx *);
static int	poll_one_on(const struct conf *, const struct conf_mailbox *,
		    struct sink *, struct poll_result *);
static void	log_outcome(const char *, uint32_t, const char *, int,
		    const char *);
static int	ingest_path(struct cmd_env *, struct sink *, const char *, int,
		    struct pipeline_counts *);
static int	ingest_file(struct cmd_env *, struct sink *, const char *,
		    struct pipeline_counts *);
static int	read_file(const char *, uint64_t, char **, size_t *,
		    uint64_t *, unsigned char *, char **);

void
fault_init(void)
{
	const char	*f = getenv("DMARC_AGENT_FAULT");
	const char	*b = getenv("DMARC_AGENT_BATCH");

	if (b != NULL && strtol(b, NULL, 10) > 0)
		batch_max = (size_t)strtol(b, NULL, 10);
	if ((b = getenv("DMARC_AGENT_BORROW")) != NULL &&
	    strtol(b, NULL, 10) > 0)
		borrow_bytes = (size_t)strtol(b, NULL, 10);
	if ((b = getenv("DMARC_AGENT_SLICE")) != NULL &&
	    strtol(b, NULL, 10) > 0)
		after_slice = (size_t)strtol(b, NULL, 10);
	if (f == NULL)
		return;
	if (strncmp(f, "kill-after-commit:", 18) == 0)
		fault_after_commit = strtol(f + 18, NULL, 10);
	else if (strcmp(f, "kill-before-after") == 0)
		fault_before_after = 1;
	else
		log_warnx("DMARC_AGENT_FAULT=\"%s\" not understood", f);
}

/* which: 0 after a commit, 1 before the after-actions. */
static void
fault_point(int which)
{
	static long	commits;

	if ((which == 0 && fault_after_commit > 0 &&
	    __atomic_add_fetch(&commits, 1, __ATOMIC_SEQ_CST) ==
	    fault_after_commit) ||
	    (which == 1 && fault_before_after)) {
		fflush(stdout);
		raise(SIGKILL);
	}
}

static const char *
outcome_name(int o)
{
	switch (o) {
	case PIPE_STORED:
		return ("stored");
	case PIPE_DUPLICATE:
		return ("duplicate");
	case PIPE_IGNORED:
		return ("ignored");
	case PIPE_INVALID:
		return ("invalid");
	case PIPE_TOO_LARGE:
		return ("too large");
	case PIPE_ALREADY:
		return ("already in the ledger");
	}
	return ("?");
}

static enum sink_status
outcome_status(int o)
{
	switch (o) {
	case PIPE_STORED:
		return (SINK_STORED);
	case PIPE_DUPLICATE:
	case PIPE_ALREADY:
		return (SINK_DUPLICATE);
	case PIPE_IGNORED:
		return (SINK_IGNORED);
	case PIPE_TOO_LARGE:
		return (SINK_TOO_LARGE);
	}
	return (SINK_INVALID);
}

/* Log what became of a message; problems are warnings, the rest info. */
static void
log_outcome(const char *where, uint32_t uid, const char *path, int o,
    const char *detail)
{
	char	*esc = NULL, *id;

	if (path != NULL)
		id = log_escape(path, strlen(path), 512);
	else
		xasprintf(&id, "uid %u", uid);
	if (detail != NULL)
		esc = log_escape(detail, strlen(detail), 400);
	if (o == PIPE_INVALID || o == PIPE_TOO_LARGE || o == PIPE_IGNORED)
		log_warnx("%s: %s: %s: %s", where, id, outcome_name(o),
		    esc != NULL ? esc : "-");
	else if (esc != NULL)
		log_info("%s: %s: %s (%s)", where, id, outcome_name(o), esc);
	else
		log_info("%s: %s: %s", where, id, outcome_name(o));
	free(esc);
	free(id);
}

/*
 * Connect to the database and make sure the schema is current, migrating
 * when may_migrate is set.  NULL (logged) on failure.
 */
struct sink *
cmd_sink_connect(const struct conf *conf, int may_migrate)
{
	struct sink	*sink;
	char		*cause = NULL;
	int		 rc;

	if ((sink = sink_open(conf->conninfo, &cause)) == NULL) {
		log_warnx("database: %s", cause);
		free(cause);
		return (NULL);
	}
	sink_set_store_raw(sink, conf->store_raw);
	sink_set_defer(sink, 1);
	if ((rc = sink_schema_check(sink, &cause)) == SINK_SCHEMA_CURRENT)
		return (sink);
	if (rc == SINK_SCHEMA_OLD && may_migrate) {
		if (sink_migrate(sink, &cause) == 0)
			return (sink);
		log_warnx("database: could not create or upgrade the schema: "
		    "%s; run `dmarc-agent migrate` as the database owner",
		    cause);
	} else if (rc == SINK_SCHEMA_OLD)
		log_warnx("database: the schema is missing or old; run "
		    "`dmarc-agent migrate`");
	else
		log_warnx("database: %s", cause);
	free(cause);
	sink_close(sink);
	return (NULL);
}

/* Quit after the message in hand (SIGTERM, SIGINT). */
void
cmd_request_quit(void)
{
	cmd_quit = 1;
}

void
cmd_clear_quit(void)
{
	cmd_quit = 0;
}

int
cmd_quitting(void)
{
	return (cmd_quit != 0);
}

static void
on_quit_signal(int sig)
{
	cmd_quit = 1;
}

static void
list_add(struct poll_list *l, uint32_t uid, enum sink_status st)
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
static uint32_t *
list_uids(const struct poll_list *l)
{
	uint32_t	*all;
	size_t		 i;

	all = xcalloc(l->n == 0 ? 1 : l->n, sizeof *all);
	for (i = 0; i < l->n; i++)
		all[i] = l->v[i].uid;
	return (all);
}

/* Add every item of from to l. */
static void
list_append(struct poll_list *l, const struct poll_list *from)
{
	size_t	i;

	for (i = 0; i < from->n; i++)
		list_add(l, from->v[i].uid, from->v[i].status);
}

static int
is_good(enum sink_status st)
{
	return (st == SINK_STORED || st == SINK_DUPLICATE);
}

/* Move the good (or the bad) messages of list to folder. */
static int
after_move(struct imap_session *is, struct poll_ctx *pc,
    const struct poll_list *l, int good, const char *folder, char **cause)
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
static int
after_imap(struct imap_session *is, struct poll_ctx *pc,
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
		all = list_uids(l);
		rc = imap_flag_seen(is, all, l->n, cause);
		free(all);
		if (rc == 0 && mb->invalid_folder != NULL)
			rc = after_move(is, pc, l, 0, mb->invalid_folder,
			    cause);
		break;
	case CONF_AFTER_MOVE:
		rc = after_move(is, pc, l, 1, mb->archive_folder, cause);
		if (rc == 0)
			rc = after_move(is, pc, l, 0, bad, cause);
		break;
	case CONF_AFTER_DELETE:
		rc = after_move(is, pc, l, 1, NULL, cause);
		if (rc == 0)
			rc = after_move(is, pc, l, 0, bad, cause);
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
	all = list_uids(l);
	rc = sink_after_done(pc->sink, pc->mb->name, pc->uidvalidity, all,
	    l->n, cause);
	free(all);
	if (rc != 0)
		xasprintf(&pc->dbcause, "%s", *cause);
	return (rc);
}

/* Do the after-actions for list, then mark them done in the ledger. */
static int
after_actions(struct imap_session *is, struct poll_ctx *pc,
    const struct poll_list *l, char **cause)
{
	if (after_imap(is, pc, l, cause) != 0)
		return (-1);
	return (after_mark(pc, l, cause));
}

/* Record the first database failure of the poll; returns -1. */
static int
worker_failed(struct poll_worker *w, const char *cause)
{
	struct poll_ctx	*pc = w->pc;

	w->failed = 1;
	pthread_mutex_lock(&pc->mtx);
	if (pc->dbcause == NULL)
		pc->dbcause = xstrdup(cause);
	pthread_mutex_unlock(&pc->mtx);
	return (-1);
}

/*
 * Run one fetched message through the pipeline inside w's open batch
 * (begun here when none is), without committing.  -1 when the database
 * failed: the batch is then unusable.
 */
static int
worker_run(struct poll_worker *w, uint32_t uid, const char *data,
    size_t len, uint64_t size, char **cause)
{
	struct poll_ctx		*pc = w->pc;
	struct sink_msg_info	 info;
	unsigned char		 sha[32];
	char			*detail = NULL;
	int			 o;

	memset(&info, 0, sizeof info);
	info.mailbox = pc->mb->name;
	info.uidvalidity = pc->uidvalidity;
	info.uid = uid;
	info.date = -1;
	info.size = size;
	if (!w->in_batch) {
		if (sink_batch_begin(w->sink, cause) != 0)
			return (-1);
		w->in_batch = 1;
		clock_gettime(CLOCK_MONOTONIC, &w->batch_start);
	}
	w->batch_counts.bytes += data != NULL ? len : 0;
	if (data == NULL)
		o = pipeline_too_large(w->sink, &info, size,
		    pc->conf->limits.max_message_size, &w->batch_counts,
		    cause);
	else {
		mime_sha256(data, len, sha);
		info.sha256 = sha;
		info.size = len;
		o = pipeline_message(w->sink, pc->conf, &info, data, len,
		    &w->batch_counts, &detail, cause);
	}
	if (o < 0)
		return (-1);
	log_outcome(pc->mb->name, uid, NULL, o, detail);
	free(detail);
	list_add(&w->batch, uid, outcome_status(o));
	return (0);
}

/*
 * The batch failed.  When the failure may pass (a deadlock with another
 * worker over the same report, a serialization failure) and every message
 * of the batch is at hand (kept copies, and borrowed: the one being handed
 * over), run them again in a new batch, up to REPLAYS times; 0 then, and
 * the batch is open.  Otherwise drop it: its messages stay claimed in the
 * ledger (nothing of them was kept) and are fetched again next poll.
 */
static int
worker_recover(struct poll_worker *w, struct poll_msg *borrowed, int *tries,
    char **cause)
{
	char	*why;

	while (w->pc->nw > 1 && (*tries)++ < REPLAYS &&
	    !sink_is_broken(w->sink) &&
	    sink_last_error(w->sink) == SINK_ERR_TRANSIENT) {
		sink_batch_rollback(w->sink);
		w->in_batch = 0;
		why = *cause;
		*cause = NULL;
		log_warnx("%s: %zu message(s) again: %s", w->pc->mb->name,
		    w->batch.n, why);
		free(why);
		if (worker_replay(w, borrowed, cause) == 0)
			return (0);
	}
	poll_batch_drop(w);
	return (worker_failed(w, *cause != NULL ? *cause : "unknown error"));
}

/* Run w's kept messages (newest first), then borrowed, in a new batch. */
static int
worker_replay(struct poll_worker *w, struct poll_msg *borrowed, char **cause)
{
	struct poll_msg	**v, *m;
	size_t		  n = 0, i;
	int		  rc = 0;

	w->batch.n = 0;
	memset(&w->batch_counts, 0, sizeof w->batch_counts);
	for (m = w->kept; m != NULL; m = m->next)
		n++;
	v = xcalloc(n + 1, sizeof *v);
	for (m = w->kept, i = n; m != NULL; m = m->next)
		v[--i] = m;
	for (i = 0; i < n && rc == 0; i++)
		rc = worker_run(w, v[i]->uid, v[i]->data, v[i]->len,
		    v[i]->size, cause);
	if (rc == 0 && borrowed != NULL)
		rc = worker_run(w, borrowed->uid, borrowed->data,
		    borrowed->len, borrowed->size, cause);
	free(v);
	return (rc);
}

/* One message in w's batch, committed when the batch is full or old. */
static int
worker_message(struct poll_worker *w, uint32_t uid, const char *data,
    size_t len, uint64_t size, char **cause)
{
	int	tries = 0;

	if (worker_run(w, uid, data, len, size, cause) != 0 &&
	    worker_recover(w, NULL, &tries, cause) != 0)
		return (-1);
	if (w->batch.n >= batch_max || poll_batch_age(w) >= BATCH_MSEC)
		return (worker_commit(w, NULL, cause));
	return (0);
}

static int
poll_fetch_cb(uint32_t uid, const char *data, size_t len, uint64_t size,
    void *arg, char **cause)
{
	struct poll_ctx	*pc = arg;

	if (cmd_quitting()) {
		*cause = xstrdup("interrupted by a signal");
		return (-1);
	}
	if (pc->nw > 1)
		return (queue_put(pc, uid, data, len, size, cause));
	return (worker_message(&pc->w[0], uid, data, len, size, cause));
}

/* Milliseconds since w's open batch began. */
static long
poll_batch_age(struct poll_worker *w)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((now.tv_sec - w->batch_start.tv_sec) * 1000 +
	    (now.tv_nsec - w->batch_start.tv_nsec) / 1000000);
}

/* Free the copies w kept for its batch. */
static void
worker_release(struct poll_worker *w)
{
	struct poll_ctx	*pc = w->pc;
	struct poll_msg	*m;

	if (w->kept == NULL)
		return;
	pthread_mutex_lock(&pc->mtx);
	while ((m = w->kept) != NULL) {
		w->kept = m->next;
		pc->qbytes -= msg_charge(m);
		free(m->copy);
		free(m);
	}
	pthread_cond_broadcast(&pc->room);
	pthread_mutex_unlock(&pc->mtx);
}

/*
 * Commit w's open batch (when one is open): its messages become done and
 * their after-actions are queued.  borrowed: the handed-over message the
 * batch holds, for a replay.  A failure is handled by worker_recover.
 */
static int
worker_commit(struct poll_worker *w, struct poll_msg *borrowed,
    char **cause)
{
	struct poll_ctx	*pc = w->pc;
	size_t		 i;
	int		 tries = 0;

	while (w->in_batch) {
		if (sink_batch_commit(w->sink, cause) == 0) {
			w->in_batch = 0;
			break;
		}
		w->in_batch = 0;
		if (worker_recover(w, borrowed, &tries, cause) != 0)
			return (-1);
	}
	worker_release(w);
	pthread_mutex_lock(&pc->mtx);
	for (i = 0; i < w->batch.n; i++) {
		list_add(&pc->done, w->batch.v[i].uid, w->batch.v[i].status);
		fault_point(0);
	}
	pc->counts.fetched += w->batch_counts.fetched;
	pc->counts.stored += w->batch_counts.stored;
	pc->counts.duplicate += w->batch_counts.duplicate;
	pc->counts.ignored += w->batch_counts.ignored;
	pc->counts.invalid += w->batch_counts.invalid;
	pc->counts.bytes += w->batch_counts.bytes;
	pthread_mutex_unlock(&pc->mtx);
	memset(&w->batch_counts, 0, sizeof w->batch_counts);
	w->batch.n = 0;
	return (0);
}

/* Forget w's open batch (rolled back: its messages stay claimed). */
static void
poll_batch_drop(struct poll_worker *w)
{
	sink_batch_rollback(w->sink);
	w->in_batch = 0;
	if (w->batch.n != 0)
		log_warnx("%s: %zu message(s) not committed; they will be "
		    "fetched again", w->pc->mb->name, w->batch.n);
	w->batch.n = 0;
	memset(&w->batch_counts, 0, sizeof w->batch_counts);
	worker_release(w);
}

/* A message handed over without a copy: its data is the fetcher's. */
static int
msg_borrowed(const struct poll_msg *m)
{
	return (m->copy == NULL && m->data != NULL);
}

/* What a message counts against QUEUE_BYTES: its copy, if any. */
static size_t
msg_charge(const struct poll_msg *m)
{
	return (m->copy != NULL ? m->len : 0);
}

/* With mtx held: stop the workers and empty the queue. */
static void
queue_stop(struct poll_ctx *pc)
{
	struct poll_msg	*m;

	pc->stop = 1;
	while ((m = pc->head) != NULL) {
		pc->head = m->next;
		if (msg_borrowed(m))
			m->done = 1;	/* borrowed: the fetcher frees it */
		else {
			pc->qbytes -= msg_charge(m);
			free(m->copy);
			free(m);
		}
	}
	pc->tail = NULL;
	pthread_cond_broadcast(&pc->more);
	pthread_cond_broadcast(&pc->room);
}

/*
 * The fetcher's side: queue a copy of the message (or, past borrow_bytes,
 * the message itself, and wait until it is committed).  -1 when the
 * workers stopped (a database failure): the fetch ends there.
 */
static int
queue_put(struct poll_ctx *pc, uint32_t uid, const char *data, size_t len,
    uint64_t size, char **cause)
{
	struct poll_msg	*m;
	int		 borrow = (data != NULL && len > borrow_bytes);

	m = xcalloc(1, sizeof *m);
	m->uid = uid;
	m->size = size;
	m->len = data != NULL ? len : 0;
	m->data = data;
	if (data != NULL && !borrow) {
		m->copy = xmalloc(len != 0 ? len : 1);
		memcpy(m->copy, data, len);
		m->data = m->copy;
	}
	pthread_mutex_lock(&pc->mtx);
	while (!pc->stop && pc->qbytes != 0 &&
	    pc->qbytes + msg_charge(m) > QUEUE_BYTES) {
		pc->starved = 1;
		pthread_cond_broadcast(&pc->more);
		pthread_cond_wait(&pc->room, &pc->mtx);
	}
	pc->starved = 0;
	if (pc->stop) {
		pthread_mutex_unlock(&pc->mtx);
		free(m->copy);
		free(m);
		return (queue_stopped(pc, cause));
	}
	pc->qbytes += msg_charge(m);
	if (pc->tail != NULL)
		pc->tail->next = m;
	else
		pc->head = m;
	pc->tail = m;
	pthread_cond_signal(&pc->more);
	if (!borrow) {
		pthread_mutex_unlock(&pc->mtx);
		return (0);
	}
	log_debug("%s: uid %u: %zu bytes handed to a writer without a copy",
	    pc->mb->name, uid, len);
	while (!m->done)
		pthread_cond_wait(&pc->room, &pc->mtx);
	pthread_mutex_unlock(&pc->mtx);
	free(m);
	return (pc->stop ? queue_stopped(pc, cause) : 0);
}

/* Why the workers stopped, for the fetcher. */
static int
queue_stopped(struct poll_ctx *pc, char **cause)
{
	pthread_mutex_lock(&pc->mtx);
	xasprintf(cause, "%s", pc->dbcause != NULL ? pc->dbcause :
	    "the database writers stopped");
	pthread_mutex_unlock(&pc->mtx);
	return (-1);
}

/*
 * A worker's own message: a copy goes into the batch (and is kept until
 * it commits); a borrowed one is committed on its own before the fetcher,
 * who owns its data, is told it is done.
 */
static int
worker_take(struct poll_worker *w, struct poll_msg *m, char **cause)
{
	struct poll_ctx	*pc = w->pc;
	int		 tries = 0, rc;

	if (msg_borrowed(m)) {
		rc = worker_commit(w, NULL, cause);
		if (rc == 0 && worker_run(w, m->uid, m->data, m->len,
		    m->size, cause) != 0)
			rc = worker_recover(w, m, &tries, cause);
		if (rc == 0)
			rc = worker_commit(w, m, cause);
		pthread_mutex_lock(&pc->mtx);
		m->done = 1;
		pthread_cond_broadcast(&pc->room);
		pthread_mutex_unlock(&pc->mtx);
		return (rc);
	}
	m->next = w->kept;
	w->kept = m;
	return (worker_message(w, m->uid, m->data, m->len, m->size, cause));
}

/* With mtx held: wait for work until w's batch is due; 1 when it is. */
static int
worker_wait(struct poll_worker *w)
{
	struct timespec	due = w->batch_start;

	due.tv_nsec += (long)BATCH_MSEC * 1000000;
	due.tv_sec += due.tv_nsec / 1000000000;
	due.tv_nsec %= 1000000000;
	return (pthread_cond_timedwait(&w->pc->more, &w->pc->mtx, &due) ==
	    ETIMEDOUT);
}

/*
 * A worker's thread: take queued messages until the fetch ended (then
 * commit) or a worker stopped (then commit what it has, unless its own
 * connection failed).  A batch is committed when full, when older than
 * BATCH_MSEC, or when the fetcher waits for the room its copies take.
 */
static void *
worker_main(void *arg)
{
	struct poll_worker	*w = arg;
	struct poll_ctx		*pc = w->pc;
	struct poll_msg		*m;
	char			*cause = NULL;
	int			 rc;

	pthread_mutex_lock(&pc->mtx);
	while (!pc->stop) {
		if ((m = pc->head) != NULL) {
			if ((pc->head = m->next) == NULL)
				pc->tail = NULL;
			m->next = NULL;
			pthread_mutex_unlock(&pc->mtx);
			rc = worker_take(w, m, &cause);
		} else if (w->in_batch && (pc->eof || pc->starved ||
		    worker_wait(w))) {
			pthread_mutex_unlock(&pc->mtx);
			rc = worker_commit(w, NULL, &cause);
		} else if (pc->eof)
			break;
		else {
			if (!w->in_batch)
				pthread_cond_wait(&pc->more, &pc->mtx);
			continue;
		}
		free(cause);
		cause = NULL;
		pthread_mutex_lock(&pc->mtx);
		if (rc != 0)
			queue_stop(pc);
	}
	pthread_mutex_unlock(&pc->mtx);
	if (!w->failed && worker_commit(w, NULL, &cause) != 0)
		free(cause);
	return (NULL);
}

/*
 * Start the poll's writers: pc->sink is the first; with more than one (and
 * enough messages to fetch), each other gets a connection and every one a
 * thread.
 */
static void
poll_workers_start(struct poll_ctx *pc, size_t nfetch)
{
	size_t	want = (size_t)pc->mb->workers, i;

	if (fault_after_commit > 0 || nfetch < WORKERS_FROM || want < 1)
		want = 1;	/* kill-after-commit counts one writer's */
	pc->w = xcalloc(want, sizeof *pc->w);
	pc->w[0].pc = pc;
	pc->w[0].sink = pc->sink;
	for (pc->nw = 1; pc->nw < want; pc->nw++) {
		pc->w[pc->nw].pc = pc;
		if ((pc->w[pc->nw].sink = cmd_sink_connect(pc->conf, 0)) ==
		    NULL)
			break;	/* logged; go on with fewer */
	}
	if (pc->nw == 1)
		return;
	for (i = 0; i < pc->nw; i++)
		if (pthread_create(&pc->w[i].thread, NULL, worker_main,
		    &pc->w[i]) != 0)
			fatalx("pthread_create failed");
}

/*
 * The fetch is over: let the writers finish and commit.  -1 (with
 * *cause) when the database failed on any of them.
 */
static int
poll_workers_finish(struct poll_ctx *pc, char **cause)
{
	size_t	i;

	if (pc->nw == 1) {
		if (!pc->w[0].failed && worker_commit(&pc->w[0], NULL, cause) !=
		    0)
			return (-1);
	} else {
		pthread_mutex_lock(&pc->mtx);
		pc->eof = 1;
		pthread_cond_broadcast(&pc->more);
		pthread_mutex_unlock(&pc->mtx);
		for (i = 0; i < pc->nw; i++)
			pthread_join(pc->w[i].thread, NULL);
	}
	if (pc->dbcause == NULL)
		return (0);
	xasprintf(cause, "%s", pc->dbcause);
	return (-1);
}

/* Close the writers' own connections and free them. */
static void
poll_workers_free(struct poll_ctx *pc)
{
	size_t	i;

	for (i = 0; i < pc->nw; i++) {
		if (pc->w[i].in_batch)
			poll_batch_drop(&pc->w[i]);
		if (i != 0)
			sink_close(pc->w[i].sink);
		free(pc->w[i].batch.v);
	}
	free(pc->w);
	pc->w = NULL;
	pc->nw = 0;
}

/*
 * Plan a poll from the ledger and the search result (uids, ascending):
 * final messages whose after-action is pending go to pending (done again
 * whether or not the search still finds them: flags and moves are
 * idempotent); claimed-but-unfinished ones are fetched again whatever the
 * search says (someone may have read them meanwhile); the rest of the
 * search result is new, cut to batch_size, and claimed before the fetch.
 * *fetch is every UID to fetch, ascending; *fresh the new ones.
 */
static int
poll_plan(struct poll_ctx *pc, const uint32_t *uids, size_t n,
    struct poll_list *pending, uint32_t **fetch, size_t *nfetch,
    uint32_t **fresh, size_t *nfresh, char **cause)
{
	struct sink_ledger_entry	*led = NULL;
	size_t				 nled = 0, i, j = 0, k = 0, max;

	if (sink_ledger_list(pc->sink, pc->mb->name, pc->uidvalidity, &led,
	    &nled, cause) != 0)
		return (-1);
	*fetch = xcalloc(n + nled + 1, sizeof **fetch);
	*fresh = xcalloc(n + 1, sizeof **fresh);
	*nfetch = *nfresh = 0;
	max = pc->mb->batch_size > 0 ? (size_t)pc->mb->batch_size : n;
	for (i = 0; i < nled; i++)
		if (led[i].status != SINK_CLAIMED && !led[i].after_done)
			list_add(pending, led[i].uid, led[i].status);
	/* Merge the claimed ledger rows and the new search results. */
	for (i = 0; i < n || k < nled; ) {
		while (k < nled && led[k].status != SINK_CLAIMED)
			k++;
		if (k < nled && (i >= n || led[k].uid <= uids[i])) {
			(*fetch)[(*nfetch)++] = led[k].uid;
			if (i < n && uids[i] == led[k].uid)
				i++;
			k++;
			continue;
		}
		if (i >= n)
			break;
		while (j < nled && led[j].uid < uids[i])
			j++;
		if ((j >= nled || led[j].uid != uids[i]) && *nfresh < max) {
			(*fetch)[(*nfetch)++] = uids[i];
			(*fresh)[(*nfresh)++] = uids[i];
		}
		i++;
	}
	free(led);
	return (0);
}

/*
 * Fetch uids.  With writers, in slices of AFTER_SLICE, doing between two
 * the server side of the after-actions of what they committed by then
 * (into pc->acted).  The ledger marks wait for the end, when the poll's
 * first connection is no writer's any more; a crash before them only
 * repeats the flags and moves on the next poll.  Not when a test kills
 * the agent before the after-actions (fault kill-before-after).
 */
static int
poll_fetch_all(struct poll_ctx *pc, struct imap_session *is,
    const uint32_t *uids, size_t n, char **cause)
{
	struct poll_list	 now;
	size_t			 off, k, step;
	int			 rc;

	step = pc->nw > 1 && !fault_before_after ? after_slice : n;
	for (off = 0; off < n; off += k) {
		k = n - off < step ? n - off : step;
		if (imap_fetch(is, uids + off, k, poll_fetch_cb, pc,
		    cause) != 0)
			return (-1);
		if (off + k >= n)
			break;
		pthread_mutex_lock(&pc->mtx);
		now = pc->done;
		memset(&pc->done, 0, sizeof pc->done);
		pthread_mutex_unlock(&pc->mtx);
		if (now.n != 0)
			log_debug("%s: after-actions of %zu committed messages"
			    " while fetching", pc->mb->name, now.n);
		rc = after_imap(is, pc, &now, cause);
		if (rc == 0)
			list_append(&pc->acted, &now);
		free(now.v);
		if (rc != 0)
			return (-1);
	}
	return (0);
}

/*
 * After the fetch: the after-actions of pc->done on the server, then the
 * ledger marks of all that was acted on in this poll (pc->acted, and
 * pc->done when that worked).  0, or -1 with *cause from the first
 * failure.
 */
static int
poll_after_end(struct imap_session *is, struct poll_ctx *pc, char **cause)
{
	char	*c2 = NULL;
	int	 rc;

	if ((rc = after_imap(is, pc, &pc->done, cause)) == 0)
		list_append(&pc->acted, &pc->done);
	if (after_mark(pc, &pc->acted, rc == 0 ? cause : &c2) != 0)
		rc = -1;
	free(c2);
	return (rc);
}

static int
poll_session(struct poll_ctx *pc, struct imap_session *is, char **cause)
{
	struct poll_list	 pending = { NULL, 0, 0 };
	uint32_t		*uids = NULL, *fetch = NULL, *fresh = NULL;
	size_t			 n = 0, nfetch = 0, nfresh = 0;
	time_t			 since = 0, fetch_start;
	int			 rc = -1, fetch_rc;

	if (pc->mb->since_days > 0)
		since = time(NULL) - (time_t)pc->mb->since_days * 86400;
	if (imap_select(is, imap_url_mailbox(is), &pc->uidvalidity,
	    cause) != 0 || imap_search(is, pc->mb->search_all ?
	    IMAP_SEARCH_ALL : IMAP_SEARCH_UNSEEN, since, &uids, &n,
	    cause) != 0)
		return (-1);
	if (poll_plan(pc, uids, n, &pending, &fetch, &nfetch, &fresh,
	    &nfresh, cause) != 0) {
		pc->dbcause = xstrdup(*cause);
		goto out;
	}
	if (pending.n != 0) {
		log_info("%s: completing %zu pending after-actions",
		    pc->mb->name, pending.n);
		if (after_actions(is, pc, &pending, cause) != 0)
			goto out;
	}
	if (nfresh != 0 && sink_claim(pc->sink, pc->mb->name, pc->uidvalidity,
	    fresh, nfresh, cause) != 0) {
		pc->dbcause = xstrdup(*cause);
		goto out;
	}
	fetch_start = time(NULL);
	poll_workers_start(pc, nfetch);
	fetch_rc = nfetch != 0 ? poll_fetch_all(pc, is, fetch, nfetch,
	    cause) : 0;
	if (fetch_rc != 0) {
		/* Keep what was processed, then act on what was committed. */
		char *c2 = NULL;

		if (poll_workers_finish(pc, &c2) != 0) {
			free(c2);
			goto out;
		}
		if (poll_after_end(is, pc, &c2) != 0)
			free(c2);
		goto out;
	}
	if (poll_workers_finish(pc, cause) != 0)
		goto out;
	fault_point(1);
	/* A long fetch (a huge report): wake the session up before acting. */
	if (time(NULL) - fetch_start > KEEPALIVE_SECS &&
	    imap_noop(is, cause) != 0)
		goto out;
	rc = poll_after_end(is, pc, cause);
out:
	poll_workers_free(pc);
	free(pending.v);
	free(uids);
	free(fetch);
	free(fresh);
	return (rc);
}

/* The IMAP options of a mailbox; *token is the caller's to free. */
static void
poll_opts(const struct conf *conf, const struct conf_mailbox *mb,
    struct imap_opts *o, const char *token)
{
	memset(o, 0, sizeof *o);
	o->url = mb->url;
	o->username = mb->username;
	o->password = mb->password;
	o->bearer_token = token;
	o->tls = (enum imap_tls)mb->tls;	/* same order, see conf.h */
	o->mech = (enum imap_mech)mb->auth;
	o->ca_file = mb->tls_ca_file;
	o->timeout = (long)conf->limits.timeout;
	o->max_message = conf->limits.max_message_size;
	o->max_line = conf->limits.max_header_line > (1 << 20) ?
	    conf->limits.max_header_line : (1 << 20);
	o->verbose = log_getverbose() >= 3;
}

/*
 * Log in, reading the OAuth 2.0 token afresh; when the server refuses the
 * token, get a new one and try once more.  NULL (logged) on failure.
 */
static struct imap_session *
poll_connect(const struct conf *conf, const struct conf_mailbox *mb,
    enum imap_class *cls, char **why)
{
	struct imap_session	*is = NULL;
	struct imap_opts	 o;
	char			*token, *cause = NULL;
	int			 attempt;

	for (attempt = 0; attempt < 2 && is == NULL; attempt++) {
		free(cause);
		cause = NULL;
		token = conf_oauth2_token(mb, &cause);
		if (token == NULL && cause != NULL) {
			*cls = IMAP_AUTH;
			break;
		}
		poll_opts(conf, mb, &o, token);
		is = imap_open(&o, cls, &cause);
		if (token != NULL) {
			explicit_bzero(token, strlen(token));
			free(token);
		}
		if (is == NULL && (*cls != IMAP_AUTH || cause == NULL ||
		    strncmp(cause, "token refused", 13) != 0))
			break;
	}
	if (is == NULL) {
		log_warnx("%s: could not connect to %s: %s", mb->name, mb->url,
		    cause != NULL ? cause : "unknown error");
		xasprintf(why, "could not connect: %s", cause != NULL ? cause :
		    "unknown error");
	}
	free(cause);
	return (is);
}

/*
 * Poll one mailbox on connections of its own (IMAP and PostgreSQL), so
 * mailboxes can be polled in parallel.  The schema must be current.
 * Returns 0, or -1 when the poll did not complete (logged here).
 */
int
poll_one(const struct conf *conf, const struct conf_mailbox *mb,
    struct poll_result *res)
{
	return (poll_one_on(conf, mb, NULL, res));
}

/*
 * poll_one on sink when it is not NULL (a connection the caller opened and
 * checked the schema on; this function closes it), else on a new one.
 */
static int
poll_one_on(const struct conf *conf, const struct conf_mailbox *mb,
    struct sink *sink, struct poll_result *res)
{
	struct poll_ctx		 pc;
	struct imap_session	*is;
	enum imap_class		 cls = IMAP_OK;
	char			*cause = NULL, *why = NULL;
	int64_t			 run = -1;
	int			 rc = -1, locked;

	memset(res, 0, sizeof *res);
	res->start = time(NULL);
	memset(&pc, 0, sizeof pc);
	pc.conf = conf;
	pc.mb = mb;
	poll_ctx_init(&pc);
	if ((pc.sink = sink) == NULL && (pc.sink = cmd_sink_connect(conf, 0)) ==
	    NULL)
		goto out;
	if ((locked = sink_mailbox_lock(pc.sink, mb->name, &cause)) !=
	    SINK_LOCK_TAKEN) {
		if (locked == SINK_LOCK_BUSY) {
			log_info("%s: another agent is polling it; skipped",
			    mb->name);
			res->skipped = 1;
			rc = 0;
		} else
			log_warnx("%s: %s", mb->name, cause);
		goto out;
	}
	if (sink_run_begin(pc.sink, mb->name, &run, &cause) != 0) {
		log_warnx("%s: %s", mb->name, cause);
		free(cause);
		cause = NULL;
	}
	if ((is = poll_connect(conf, mb, &cls, &why)) == NULL) {
		res->auth = (cls == IMAP_AUTH);
		goto done;
	}
	rc = poll_session(&pc, is, &cause);
	if (rc != 0) {
		log_warnx("%s: poll failed: %s", mb->name, cause != NULL ?
		    cause : "unknown error");
		res->auth = (imap_error_class(is) == IMAP_AUTH);
		xasprintf(&why, "poll failed: %s", cause != NULL ? cause :
		    "unknown error");
	}
	imap_close(is);
done:
	if (run != -1)
		poll_run_end(&pc, run, rc == 0 ? NULL : why);
out:
	free(why);
	free(cause);
	if (pc.sink != NULL)
		sink_close(pc.sink);
	res->counts = pc.counts;
	res->failed = (rc != 0);
	res->end = time(NULL);
	free(pc.done.v);
	free(pc.acted.v);
	free(pc.dbcause);
	pthread_cond_destroy(&pc.more);
	pthread_cond_destroy(&pc.room);
	pthread_mutex_destroy(&pc.mtx);
	return (rc);
}

/* The workers' lock and conditions; a batch's age is monotonic time. */
static void
poll_ctx_init(struct poll_ctx *pc)
{
	pthread_condattr_t	ca;

	if (pthread_mutex_init(&pc->mtx, NULL) != 0 ||
	    pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&pc->more, &ca) != 0 ||
	    pthread_cond_init(&pc->room, NULL) != 0)
		fatalx("cannot set up the poll's lock");
	pthread_condattr_destroy(&ca);
}

/* Fill the poll's ingest_run row; a failure here is only logged. */
static void
poll_run_end(struct poll_ctx *pc, int64_t run, const char *error)
{
	struct sink_run_stats	 st;
	char			*cause = NULL;

	if (sink_is_broken(pc->sink))
		return;		/* the row stays unfinished */
	memset(&st, 0, sizeof st);
	st.fetched = pc->counts.fetched;
	st.stored = pc->counts.stored;
	st.duplicates = pc->counts.duplicate;
	st.invalid = pc->counts.invalid;
	st.ignored = pc->counts.ignored;
	st.bytes = pc->counts.bytes;
	if (sink_run_end(pc->sink, run, &st, error, &cause) != 0) {
		log_warnx("%s: %s", pc->mb->name, cause);
		free(cause);
	}
}

struct poll_job {
	const struct conf		*conf;
	const struct conf_mailbox	*mb;
	struct sink			*sink;	/* NULL: connect */
	struct poll_result		 res;
	pthread_t			 thread;
};

static void *
poll_thread(void *arg)
{
	struct poll_job	*job = arg;

	poll_one_on(job->conf, job->mb, job->sink, &job->res);
	return (NULL);
}

/*
 * poll: one pass over the selected mailboxes, each in its own thread on
 * its own connections, so a slow or failing mailbox does not hold up the
 * others.  The lines come out in configuration order.
 */
int
cmd_poll(struct cmd_env *env, int argc, char **argv)
{
	struct poll_job		*jobs;
	struct sink		*sink;
	struct sigaction	 sa;
	size_t			 i, n = 0;
	int			 j, failed = 0;
	char			 line[160];

	for (j = 0; j < argc; j++)
		if (conf_find_mailbox(env->conf, argv[j]) == NULL) {
			log_warnx("poll: no mailbox named \"%s\" in %s",
			    argv[j], env->conf_file);
			return (EXIT_USAGE);
		}
	if (env->conf->nmailboxes == 0) {
		log_warnx("poll: no mailboxes in %s", env->conf_file);
		return (EXIT_USAGE);
	}
	/* The connection that checked the schema polls the first mailbox. */
	if ((sink = cmd_sink_connect(env->conf, env->conf->auto_migrate)) ==
	    NULL)
		return (EXIT_OPFAIL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_quit_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fault_init();
	pipeline_init();
	jobs = xcalloc(env->conf->nmailboxes, sizeof *jobs);
	for (i = 0; i < env->conf->nmailboxes; i++) {
		const struct conf_mailbox *mb = &env->conf->mailboxes[i];

		for (j = 0; j < argc; j++)
			if (strcmp(argv[j], mb->name) == 0)
				break;
		if (argc != 0 && j == argc)
			continue;
		jobs[n].conf = env->conf;
		jobs[n].mb = mb;
		jobs[n].sink = sink;
		sink = NULL;
		if (pthread_create(&jobs[n].thread, NULL, poll_thread,
		    &jobs[n]) != 0)
			fatalx("pthread_create failed");
		n++;
	}
	for (i = 0; i < n; i++) {
		pthread_join(jobs[i].thread, NULL);
		pipeline_counts_format(&jobs[i].res.counts, line, sizeof line);
		printf("%s: %s%s\n", jobs[i].mb->name, line,
		    jobs[i].res.skipped ? " (skipped: another agent is "
		    "polling it)" : "");
		failed |= jobs[i].res.failed;
	}
	fflush(stdout);
	free(jobs);
	if (sink != NULL)
		sink_close(sink);
	pipeline_shutdown();
	return (failed ? EXIT_OPFAIL : 0);
}

/*
 * Read a file up to cap bytes into *buf; past the cap, only hash it.
 * *size is the whole size; sha is the SHA-256 of the whole content.
 */
static int
read_file(const char *path, uint64_t cap, char **buf, size_t *len,
    uint64_t *size, unsigned char *sha, char **cause)
{
	struct buf	 b;
	struct mime_sha	*ck;
	char		 chunk[65536];
	ssize_t		 r;
	int		 fd, over = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "cannot open: %s", strerror(errno));
		return (-1);
	}
	buf_init(&b, (size_t)cap);
	ck = mime_sha_new();
	*size = 0;
	while ((r = read(fd, chunk, sizeof chunk)) > 0) {
		mime_sha_add(ck, chunk, (size_t)r);
		*size += r;
		if (!over && buf_add(&b, chunk, r) != 0) {
			over = 1;
			buf_free(&b);
		}
	}
	if (r == -1)
		xasprintf(cause, "read error: %s", strerror(errno));
	close(fd);
	mime_sha_end(ck, sha);
	if (r == -1) {
		buf_free(&b);
		return (-1);
	}
	*buf = over ? NULL : buf_steal(&b, len);
	return (0);
}

static int
ingest_file(struct cmd_env *env, struct sink *sink, const char *path,
    struct pipeline_counts *c)
{
	struct sink_msg_info	 info;
	unsigned char		 sha[32];
	uint64_t		 size;
	size_t			 len = 0;
	char			*buf = NULL, *cause = NULL, *detail = NULL;
	int			 o;

	if (read_file(path, env->conf->limits.max_message_size, &buf, &len,
	    &size, sha, &cause) != 0) {
		log_warnx("%s: %s", path, cause);
		free(cause);
		c->invalid++;
		return (0);
	}
	memset(&info, 0, sizeof info);
	info.mailbox = FILE_MAILBOX;
	info.path = path;
	info.date = -1;
	info.size = size;
	info.sha256 = sha;
	if (buf == NULL)
		o = pipeline_too_large(sink, &info, size,
		    env->conf->limits.max_message_size, c, &cause);
	else
		o = pipeline_message(sink, env->conf, &info, buf, len, c,
		    &detail, &cause);
	free(buf);
	if (o < 0) {
		log_warnx("%s: database: %s", path, cause);
		free(cause);
		return (-1);
	}
	if (o == PIPE_ALREADY) {
		c->fetched++;
		c->duplicate++;
	}
	log_outcome("ingest", 0, path, o, detail);
	free(detail);
	return (0);
}

static int
name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* A file, or a directory walked recursively in name order. */
static int
ingest_path(struct cmd_env *env, struct sink *sink, const char *path,
    int depth, struct pipeline_counts *c)
{
	struct stat	 st;
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, *sub;
	size_t		 n = 0, i;
	int		 rc = 0;

	if (stat(path, &st) != 0) {
		log_warn("%s", path);
		c->invalid++;
		return (0);
	}
	if (!S_ISDIR(st.st_mode))
		return (S_ISREG(st.st_mode) ? ingest_file(env, sink, path, c) :
		    0);
	if (depth > MAX_DEPTH || (d = opendir(path)) == NULL) {
		log_warnx("%s: cannot read directory", path);
		c->invalid++;
		return (0);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n != 0)
		qsort(names, n, sizeof *names, name_cmp);
	for (i = 0; i < n; i++) {
		if (rc == 0 && !cmd_quit) {
			xasprintf(&sub, "%s/%s", path, names[i]);
			rc = ingest_path(env, sink, sub, depth + 1, c);
			free(sub);
		}
		free(names[i]);
	}
	free(names);
	return (rc);
}

int
cmd_ingest(struct cmd_env *env, int argc, char **argv)
{
	struct pipeline_counts	 c;
	struct sink		*sink;
	int			 i, rc = 0;
	char			 line[160];

	if (argc == 0) {
		log_warnx("usage: dmarc-agent ingest PATH...");
		return (EXIT_USAGE);
	}
	if ((sink = cmd_sink_connect(env->conf, env->conf->auto_migrate)) ==
	    NULL)
		return (EXIT_OPFAIL);
	pipeline_init();
	memset(&c, 0, sizeof c);
	for (i = 0; i < argc && rc == 0; i++)
		rc = ingest_path(env, sink, argv[i], 0, &c);
	pipeline_counts_format(&c, line, sizeof line);
	printf("files: %s\n", line);
	pipeline_shutdown();
	sink_close(sink);
	return (rc == 0 ? 0 : EXIT_OPFAIL);
}

int
cmd_migrate(struct cmd_env *env, int argc, char **argv)
{
	struct sink	*sink;
	char		*cause = NULL;

	if (argc != 0) {
		log_warnx("usage: dmarc-agent migrate");
		return (EXIT_USAGE);
	}
	if ((sink = sink_open(env->conf->conninfo, &cause)) == NULL) {
		log_warnx("database: %s", cause);
		free(cause);
		return (EXIT_OPFAIL);
	}
	if (sink_migrate(sink, &cause) != 0) {
		log_warnx("migrate: %s", cause);
		free(cause);
		sink_close(sink);
		return (EXIT_OPFAIL);
	}
	printf("schema dmarc at version %d\n", sink_schema_version());
	sink_close(sink);
	return (0);
}
