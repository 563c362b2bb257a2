/*
 * poll-workers.c: the database writers of one poll.
 *
 * A poll of more than a few messages splits in two: the thread that holds
 * the IMAP connection only fetches (poll_fetch_cb), and the mailbox's
 * workers, threads each with a PostgreSQL connection and a batch of its
 * own, decode, parse and store.  The fetcher queues copies of the
 * messages; a message too large to copy is handed over and committed on
 * its own while the fetcher waits.  A poll with one worker runs every
 * message through the pipeline in the fetch callback itself, on the
 * poll's own connection.
 *
 * Group commit: several messages share a transaction (each inside a
 * savepoint, so each is all or nothing), committed when the batch is full,
 * old or the fetcher waits for room.  A message counts as done, and its
 * after-action is queued, only once its batch committed; a batch that
 * fails leaves its messages claimed in the ledger, to be fetched again.
 * A batch that lost a deadlock to another worker (two copies of one
 * report) is replayed from the copies it kept.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "agent/agent.h"
#include "agent/conf.h"
#include "agent/pipeline.h"
#include "agent/poll_p.h"
#include "mime/mime.h"
#include "sink/sink.h"

static int	worker_failed(struct poll_worker *, const char *);
static int	worker_unsure(struct poll_worker *, const char *);
static int	uid_cmp(const void *, const void *);
static int64_t	worker_claimed(const struct poll_ctx *, uint32_t);
static int	worker_run(struct poll_worker *, uint32_t, const char *,
		    size_t, uint64_t, char **);
static int	worker_recover(struct poll_worker *, struct poll_msg *, int *,
		    char **);
static int	worker_replay(struct poll_worker *, struct poll_msg *,
		    char **);
static int	worker_message(struct poll_worker *, uint32_t, const char *,
		    size_t, uint64_t, char **);
static long	worker_batch_age(struct poll_worker *);
static void	worker_batch_drop(struct poll_worker *);
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
 * The connection was lost after w's COMMIT went out: the server may have
 * committed the batch.  Its messages are counted as unsure (poll_settle
 * asks the database at the end of the poll), never as "not committed".
 */
static int
worker_unsure(struct poll_worker *w, const char *cause)
{
	struct poll_ctx	*pc = w->pc;

	log_warnx("%s: %zu message(s): the database failed during their "
	    "commit; stored or not, the ledger will tell", pc->mb->name,
	    w->batch.n);
	pthread_mutex_lock(&pc->mtx);
	poll_list_append(&pc->unsure, &w->batch);
	pc->counts.unsure += (unsigned)w->batch.n;
	pthread_mutex_unlock(&pc->mtx);
	w->batch.n = 0;
	memset(&w->batch_counts, 0, sizeof w->batch_counts);
	worker_release(w);
	return (worker_failed(w, cause));
}

static int
uid_cmp(const void *a, const void *b)
{
	const uint32_t	*x = a, *y = b;

	return (*x < *y ? -1 : *x > *y);
}

/* The claimed ledger row of uid, as the plan has it (0: not known). */
static int64_t
worker_claimed(const struct poll_ctx *pc, uint32_t uid)
{
	const struct poll_plan	*p = pc->plan;
	const uint32_t		*at;

	if (p == NULL || p->claimed == NULL || p->nfetch == 0)
		return (0);
	at = bsearch(&uid, p->fetch, p->nfetch, sizeof *p->fetch, uid_cmp);
	return (at != NULL ? p->claimed[at - p->fetch] : 0);
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
	enum pipeline_outcome	 o;
	unsigned char		 sha[32];
	char			*why = NULL;

	memset(&info, 0, sizeof info);
	info.mailbox_pk = pc->mailbox_pk;
	info.mailbox = pc->mb->name;
	info.uidvalidity = pc->uidvalidity;
	info.uid = uid;
	info.claimed_pk = worker_claimed(pc, uid);
	info.date = SINK_NO_DATE;
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
		    &why);
	else {
		mime_sha256(data, len, sha);
		info.sha256 = sha;
		info.size = len;
		o = pipeline_message(w->sink, pc->conf, &info, data, len,
		    &w->batch_counts, &why);
	}
	if (o == PIPE_FAILED) {
		*cause = why;
		return (-1);
	}
	pipeline_log_outcome(pc->mb->name, uid, NULL, o, why);
	free(why);
	poll_list_add(&w->batch, uid, pipeline_status(o));
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
	worker_batch_drop(w);
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
	poll_fault_point(w->pc, FAULT_IN_BATCH, uid);
	if (w->batch.n >= poll_tuning.batch_max ||
	    worker_batch_age(w) >= BATCH_MSEC)
		return (worker_commit(w, NULL, cause));
	return (0);
}

int
poll_fetch_cb(uint32_t uid, const char *data, size_t len, uint64_t size,
    void *arg, char **cause)
{
	struct poll_ctx	*pc = arg;

	poll_fault_point(pc, FAULT_AT_FETCH, uid);
	if (agent_quitting()) {
		*cause = xstrdup("interrupted by a signal");
		return (-1);
	}
	if (pc->nw > 1)
		return (queue_put(pc, uid, data, len, size, cause));
	return (worker_message(&pc->w[0], uid, data, len, size, cause));
}

/* Milliseconds since w's open batch began. */
static long
worker_batch_age(struct poll_worker *w)
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
		if (sink_commit_unknown(w->sink))
			return (worker_unsure(w, *cause));
		if (worker_recover(w, borrowed, &tries, cause) != 0)
			return (-1);
	}
	worker_release(w);
	pthread_mutex_lock(&pc->mtx);
	for (i = 0; i < w->batch.n; i++) {
		poll_list_add(&pc->done, w->batch.v[i].uid,
		    w->batch.v[i].status);
		poll_fault_point(pc, FAULT_AFTER_COMMIT, w->batch.v[i].uid);
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
worker_batch_drop(struct poll_worker *w)
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
 * The fetcher's side: queue a copy of the message (or, past
 * poll_tuning.borrow_bytes, the message itself, and wait until it is committed).  -1 when the
 * workers stopped (a database failure): the fetch ends there.
 */
static int
queue_put(struct poll_ctx *pc, uint32_t uid, const char *data, size_t len,
    uint64_t size, char **cause)
{
	struct poll_msg	*m;
	int		 borrow;

	borrow = (data != NULL && len > poll_tuning.borrow_bytes);
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
		} else if (pc->eof && pc->head == NULL)
			break;	/* not while the queue holds messages: the
				   fetch may end while worker_wait sleeps */
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
void
poll_workers_start(struct poll_ctx *pc, size_t nfetch)
{
	size_t	want = (size_t)pc->mb->workers, i;

	if (poll_tuning.fault == FAULT_AFTER_COMMIT ||
	    poll_tuning.fault == FAULT_IN_COMMIT ||
	    nfetch < WORKERS_FROM || want < 1)
		want = 1;	/* these points count one writer's */
	pc->w = xcalloc(want, sizeof *pc->w);
	pc->w[0].pc = pc;
	pc->w[0].sink = pc->sink;
	for (pc->nw = 1; pc->nw < want; pc->nw++) {
		pc->w[pc->nw].pc = pc;
		if ((pc->w[pc->nw].sink = agent_sink_connect(pc->conf, 0)) ==
		    NULL)
			break;	/* logged; go on with fewer */
	}
	if (poll_tuning.fault == FAULT_IN_COMMIT)
		sink_set_commit_hook(pc->w[0].sink, poll_fault_commit_hook,
		    &pc->w[0]);
	if (pc->nw == 1)
		return;
	/* Each writer keeps its batch's messages: it can replay a batch
	   whose set statement was wrong (sink_set_sets). */
	for (i = 0; i < pc->nw; i++)
		sink_set_sets(pc->w[i].sink, agent_sets());
	for (i = 0; i < pc->nw; i++)
		if (pthread_create(&pc->w[i].thread, NULL, worker_main,
		    &pc->w[i]) != 0)
			fatalx("pthread_create failed");
}

/*
 * The fetch is over: let the writers finish and commit.  -1 (with
 * *cause) when the database failed on any of them.
 */
int
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
void
poll_workers_free(struct poll_ctx *pc)
{
	size_t	i;

	for (i = 0; i < pc->nw; i++) {
		if (pc->w[i].in_batch)
			worker_batch_drop(&pc->w[i]);
		if (i != 0)
			sink_close(pc->w[i].sink);
		free(pc->w[i].batch.v);
	}
	free(pc->w);
	pc->w = NULL;
	pc->nw = 0;
}
