/*
 * ingest-workers.c: the database writers of `dmarc-agent ingest` (the
 * contract is in ingest.h).
 *
 * Backfilling an archive is mostly the database's work: one connection
 * left a core idle (PostgreSQL 74 % of one, the agent 18 %).  So the
 * command's thread only reads, and each worker runs messages through the
 * pipeline on its own connection, INGEST_BATCH of them (or what
 * INGEST_BATCH_MSEC brought) in one transaction, each message inside its
 * savepoint as in a poll.  Nobody waits for an ingest's messages to be
 * done (a poll's after-actions do), so its batches may be older: larger
 * batches also add more records up at once into the rollup tables.  The messages of an open batch are kept until it
 * commits: they are counted and logged then, and run again when the batch
 * lost a deadlock to another worker, or whose set statement (with two
 * workers or more, sink_set_sets) guessed wrong.  Queued and kept messages
 * are held to INGEST_QUEUE_BYTES in all, but one larger message is always
 * let in.
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
#include "agent/ingest.h"
#include "agent/pipeline.h"
#include "sink/sink.h"

#define INGEST_QUEUE_BYTES	(8U << 20)
#define INGEST_BATCH		100
#define INGEST_BATCH_MSEC	2000
#define INGEST_REPLAYS		3

/* A message on its way through a worker. */
struct ingest_msg {
	struct ingest_msg	*next;
	char			*label;
	char			*data;		/* NULL: over the size cap */
	size_t			 len;
	uint64_t		 size;
	unsigned char		 sha[32];
	enum pipeline_outcome	 o;		/* in a batch: its outcome */
	char			*why;		/* ... and why, or NULL */
};

struct ingest_worker {
	struct ingest		*in;
	struct sink		*sink;
	pthread_t		 thread;
	int			 in_batch;
	struct timespec		 batch_start;
	struct pipeline_counts	 counts;	/* of the open batch */
	struct ingest_msg	*batch;		/* its messages, newest first */
	size_t			 n;
};

/* mtx guards the queue, qbytes, eof, stop, dbcause and counts. */
struct ingest {
	const struct conf	*conf;
	struct ingest_worker	*w;
	size_t			 nw;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 more;		/* queued, end or stop */
	pthread_cond_t		 room;		/* committed or stop */
	struct ingest_msg	*head, *tail;
	size_t			 qbytes;	/* queued and kept */
	int			 eof, stop;
	char			*dbcause;	/* the first failure */
	struct pipeline_counts	 counts;	/* committed */
};

static void	msg_free(struct ingest_msg *);
static int	worker_run(struct ingest_worker *, struct ingest_msg *,
		    char **);
static int	worker_replay(struct ingest_worker *, char **);
static int	worker_commit(struct ingest_worker *, char **);
static void	worker_drop(struct ingest_worker *);
static int	worker_take(struct ingest_worker *, struct ingest_msg *,
		    char **);
static long	worker_age(struct ingest_worker *);
static int	worker_wait(struct ingest_worker *);
static void	*worker_main(void *);
static void	counts_add(struct pipeline_counts *,
		    const struct pipeline_counts *);
static void	ingest_fail(struct ingest *, const char *);

static void
msg_free(struct ingest_msg *m)
{
	free(m->label);
	free(m->data);
	free(m->why);
	free(m);
}

static void
counts_add(struct pipeline_counts *to, const struct pipeline_counts *c)
{
	to->fetched += c->fetched;
	to->stored += c->stored;
	to->duplicate += c->duplicate;
	to->ignored += c->ignored;
	to->invalid += c->invalid;
	to->bytes += c->bytes;
}

/* Stop every worker after a database failure (the first cause is kept). */
static void
ingest_fail(struct ingest *in, const char *cause)
{
	struct ingest_msg	*m;

	pthread_mutex_lock(&in->mtx);
	if (in->dbcause == NULL)
		in->dbcause = xstrdup(cause);
	in->stop = 1;
	while ((m = in->head) != NULL) {
		in->head = m->next;
		in->qbytes -= m->len;
		msg_free(m);
	}
	in->tail = NULL;
	pthread_cond_broadcast(&in->more);
	pthread_cond_broadcast(&in->room);
	pthread_mutex_unlock(&in->mtx);
}

/*
 * Run one message through the pipeline inside w's batch (begun here when
 * none is open), without committing.  -1 when the database failed: the
 * batch is then unusable.
 */
static int
worker_run(struct ingest_worker *w, struct ingest_msg *m, char **cause)
{
	const struct conf	*conf = w->in->conf;
	struct sink_msg_info	 info;

	if (!w->in_batch) {
		if (sink_batch_begin(w->sink, cause) != 0)
			return (-1);
		w->in_batch = 1;
		clock_gettime(CLOCK_MONOTONIC, &w->batch_start);
	}
	memset(&info, 0, sizeof info);
	info.mailbox = "file";
	info.path = m->label;
	info.date = SINK_NO_DATE;
	info.size = m->size;
	info.sha256 = m->sha;
	free(m->why);
	m->why = NULL;
	if (m->data == NULL)
		m->o = pipeline_too_large(w->sink, &info, m->size,
		    conf->limits.max_message_size, &w->counts, &m->why);
	else
		m->o = pipeline_message(w->sink, conf, &info, m->data, m->len,
		    &w->counts, &m->why);
	if (m->o == PIPE_FAILED) {
		*cause = m->why;
		m->why = NULL;
		return (-1);
	}
	if (m->o == PIPE_ALREADY) {
		/* Seen before (its content's digest is in the ledger). */
		w->counts.fetched++;
		w->counts.duplicate++;
	}
	return (0);
}

/*
 * The batch failed.  When the failure may pass (a deadlock with another
 * worker, two copies of one report or file) run its messages again in a
 * new batch, up to INGEST_REPLAYS times; 0 then, the batch open.
 */
static int
worker_replay(struct ingest_worker *w, char **cause)
{
	struct ingest_msg	**v, *m;
	size_t			  i, n;
	int			  tries, rc = -1;
	char			 *why;

	for (tries = 0; rc != 0 && tries < INGEST_REPLAYS; tries++) {
		if (w->in->nw == 1 || sink_is_broken(w->sink) ||
		    sink_last_error(w->sink) != SINK_ERR_TRANSIENT)
			break;
		sink_batch_rollback(w->sink);
		w->in_batch = 0;
		why = *cause;
		*cause = NULL;
		log_warnx("ingest: %zu file(s) again: %s", w->n, why);
		free(why);
		memset(&w->counts, 0, sizeof w->counts);
		v = xcalloc(w->n + 1, sizeof *v);
		for (m = w->batch, n = w->n; m != NULL; m = m->next)
			v[--n] = m;
		for (i = 0, rc = 0; i < w->n && rc == 0; i++)
			rc = worker_run(w, v[i], cause);
		free(v);
	}
	return (rc);
}

/* Commit w's batch: its messages are counted, logged and let go. */
static int
worker_commit(struct ingest_worker *w, char **cause)
{
	struct ingest		*in = w->in;
	struct ingest_msg	*m, *rev = NULL;
	size_t			 bytes = 0;

	while (w->in_batch) {
		if (sink_batch_commit(w->sink, cause) == 0) {
			w->in_batch = 0;
			break;
		}
		w->in_batch = 0;
		if (worker_replay(w, cause) != 0)
			return (-1);
	}
	while ((m = w->batch) != NULL) {
		w->batch = m->next;
		m->next = rev;
		rev = m;
	}
	for (m = rev; m != NULL; m = rev) {
		rev = m->next;
		pipeline_log_outcome("ingest", 0, m->label, m->o, m->why);
		bytes += m->len;
		msg_free(m);
	}
	pthread_mutex_lock(&in->mtx);
	counts_add(&in->counts, &w->counts);
	in->qbytes -= bytes;
	pthread_cond_broadcast(&in->room);
	pthread_mutex_unlock(&in->mtx);
	memset(&w->counts, 0, sizeof w->counts);
	w->n = 0;
	return (0);
}

/* Forget w's batch (rolled back: nothing of its messages is kept). */
static void
worker_drop(struct ingest_worker *w)
{
	struct ingest_msg	*m;
	size_t			 bytes = 0;

	if (w->in_batch)
		sink_batch_rollback(w->sink);
	w->in_batch = 0;
	if (w->n != 0)
		log_warnx("ingest: %zu file(s) not committed", w->n);
	while ((m = w->batch) != NULL) {
		w->batch = m->next;
		bytes += m->len;
		msg_free(m);
	}
	w->n = 0;
	memset(&w->counts, 0, sizeof w->counts);
	pthread_mutex_lock(&w->in->mtx);
	w->in->qbytes -= bytes;
	pthread_cond_broadcast(&w->in->room);
	pthread_mutex_unlock(&w->in->mtx);
}

/* Milliseconds since w's batch began. */
static long
worker_age(struct ingest_worker *w)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((now.tv_sec - w->batch_start.tv_sec) * 1000 +
	    (now.tv_nsec - w->batch_start.tv_nsec) / 1000000);
}

/* One message into w's batch, committed when the batch is full or old. */
static int
worker_take(struct ingest_worker *w, struct ingest_msg *m, char **cause)
{
	m->next = w->batch;
	w->batch = m;
	w->n++;
	if (worker_run(w, m, cause) != 0 && worker_replay(w, cause) != 0)
		return (-1);
	if (w->n >= INGEST_BATCH || worker_age(w) >= INGEST_BATCH_MSEC)
		return (worker_commit(w, cause));
	return (0);
}

/* With mtx held: wait for work until w's batch is due; 1 when it is. */
static int
worker_wait(struct ingest_worker *w)
{
	struct timespec	due = w->batch_start;

	due.tv_nsec += (long)INGEST_BATCH_MSEC * 1000000;
	due.tv_sec += due.tv_nsec / 1000000000;
	due.tv_nsec %= 1000000000;
	return (pthread_cond_timedwait(&w->in->more, &w->in->mtx, &due) ==
	    ETIMEDOUT);
}

/*
 * A worker's thread: take queued messages until the reading ended (then
 * commit) or a worker failed (then drop its batch).
 */
static void *
worker_main(void *arg)
{
	struct ingest_worker	*w = arg;
	struct ingest		*in = w->in;
	struct ingest_msg	*m;
	char			*cause = NULL;
	int			 rc = 0;

	pthread_mutex_lock(&in->mtx);
	while (!in->stop) {
		if ((m = in->head) != NULL) {
			if ((in->head = m->next) == NULL)
				in->tail = NULL;
			m->next = NULL;
			pthread_mutex_unlock(&in->mtx);
			rc = worker_take(w, m, &cause);
		} else if (w->in_batch && (in->eof || worker_wait(w))) {
			pthread_mutex_unlock(&in->mtx);
			rc = worker_commit(w, &cause);
		} else if (in->eof)
			break;
		else {
			if (!w->in_batch)
				pthread_cond_wait(&in->more, &in->mtx);
			continue;
		}
		if (rc != 0) {
			ingest_fail(in, cause != NULL ? cause :
			    "unknown error");
			free(cause);
			cause = NULL;
		}
		pthread_mutex_lock(&in->mtx);
	}
	pthread_mutex_unlock(&in->mtx);
	if (rc == 0 && w->n > 0 && worker_commit(w, &cause) != 0) {
		ingest_fail(in, cause != NULL ? cause : "unknown error");
		free(cause);
	}
	worker_drop(w);
	return (NULL);
}

struct ingest *
ingest_start(const struct conf *conf, size_t n)
{
	struct ingest	*in;
	size_t		 i;

	in = xcalloc(1, sizeof *in);
	in->conf = conf;
	in->w = xcalloc(n > 0 ? n : 1, sizeof *in->w);
	pthread_mutex_init(&in->mtx, NULL);
	pthread_cond_init(&in->more, NULL);
	pthread_cond_init(&in->room, NULL);
	for (i = 0; i < (n > 0 ? n : 1); i++) {
		in->w[in->nw].in = in;
		in->w[in->nw].sink = agent_sink_connect(conf,
		    i == 0 ? conf->auto_migrate : 0);
		if (in->w[in->nw].sink == NULL)
			break;		/* logged; go on with fewer */
		in->nw++;
	}
	if (in->nw == 0) {
		ingest_free(in);
		return (NULL);
	}
	/* With two or more, a worker replays a batch that failed: its set
	   statement may guess (sink_set_sets). */
	for (i = 0; in->nw > 1 && i < in->nw; i++)
		sink_set_sets(in->w[i].sink, agent_sets());
	for (i = 0; i < in->nw; i++)
		if (pthread_create(&in->w[i].thread, NULL, worker_main,
		    &in->w[i]) != 0)
			fatalx("pthread_create failed");
	return (in);
}

int
ingest_put(struct ingest *in, char *label, char *data, size_t len,
    uint64_t size, const unsigned char sha256[32], char **cause)
{
	struct ingest_msg	*m;

	m = xcalloc(1, sizeof *m);
	m->label = label;
	m->data = data;
	m->len = data != NULL ? len : 0;
	m->size = size;
	memcpy(m->sha, sha256, sizeof m->sha);
	pthread_mutex_lock(&in->mtx);
	while (!in->stop && in->qbytes != 0 &&
	    in->qbytes + m->len > INGEST_QUEUE_BYTES)
		pthread_cond_wait(&in->room, &in->mtx);
	if (in->stop) {
		xasprintf(cause, "%s", in->dbcause);
		pthread_mutex_unlock(&in->mtx);
		msg_free(m);
		return (-1);
	}
	in->qbytes += m->len;
	if (in->tail != NULL)
		in->tail->next = m;
	else
		in->head = m;
	in->tail = m;
	pthread_cond_signal(&in->more);
	pthread_mutex_unlock(&in->mtx);
	return (0);
}

int
ingest_finish(struct ingest *in, struct pipeline_counts *c, char **cause)
{
	size_t	i;

	pthread_mutex_lock(&in->mtx);
	in->eof = 1;
	pthread_cond_broadcast(&in->more);
	pthread_mutex_unlock(&in->mtx);
	for (i = 0; i < in->nw; i++)
		pthread_join(in->w[i].thread, NULL);
	counts_add(c, &in->counts);
	if (in->dbcause == NULL)
		return (0);
	xasprintf(cause, "%s", in->dbcause);
	return (-1);
}

void
ingest_free(struct ingest *in)
{
	size_t	i;

	if (in == NULL)
		return;
	for (i = 0; i < in->nw; i++)
		sink_close(in->w[i].sink);
	free(in->w);
	free(in->dbcause);
	pthread_mutex_destroy(&in->mtx);
	pthread_cond_destroy(&in->more);
	pthread_cond_destroy(&in->room);
	free(in);
}
