/*
 * poll.c: one poll of one mailbox, in the order the ledger requires.
 *
 *   1. SELECT (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ), UID SEARCH (UNSEEN
 *      by default, ALL with search = "all") for what can be new since
 *      the last complete search (poll_ask), and the ledger rows of the
 *      UIDs found and the unfinished ones (sink_ledger_find);
 *   2. plan (poll-plan.c): complete the after-actions still pending for
 *      messages that reached a final status (a crash may have come between
 *      commit and move);
 *   3. claim the new UIDs (committed before any fetch);
 *   4. fetch claimed-but-unfinished and new messages with BODY.PEEK[] and
 *      run each through the pipeline: while the IMAP connection fetches,
 *      the mailbox's workers (poll-workers.c: threads, each on a database
 *      connection of its own) decode, parse and store them, several
 *      messages a transaction, each message all or nothing inside it;
 *   5. flag, move or delete them (poll-after.c) in as few IMAP commands as
 *      possible, then mark the after-actions done.
 * Nothing is flagged or moved before its rows are committed, so a crash at
 * any point loses nothing and counts nothing twice.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "agent/agent.h"
#include "agent/conf.h"
#include "agent/oauth2.h"
#include "agent/pipeline.h"
#include "agent/poll.h"
#include "agent/poll_p.h"
#include "imap/imap.h"
#include "sink/sink.h"

#define KEEPALIVE_SECS	60	/* NOOP before acting after a longer fetch */

static int	poll_fetch_all(struct poll_ctx *, struct imap_session *,
		    const uint32_t *, size_t, char **);
static int	poll_search(struct poll_ctx *, struct imap_session *,
		    const struct poll_ask *, uint32_t **, size_t *, char **);
static int	poll_look(struct poll_ctx *, struct imap_session *,
		    struct poll_plan *, char **);
static int	poll_session(struct poll_ctx *, struct imap_session *,
		    char **);
static void	poll_opts(const struct conf *, const struct conf_mailbox *,
		    struct imap_opts *, const char *);
static struct imap_session *poll_connect(const struct conf *,
		    const struct conf_mailbox *, enum imap_class *, char **);
static int	poll_take(struct poll_ctx *, struct poll_result *);
static void	poll_ctx_init(struct poll_ctx *);
static void	poll_settle(struct poll_ctx *);
static const struct sink_ledger_entry *poll_ledger_find(
		    const struct sink_ledger_entry *, size_t, uint32_t);
static void	poll_run_end(struct poll_ctx *, int64_t, const char *);

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

	step = pc->nw > 1 && poll_tuning.fault != FAULT_BEFORE_AFTER ?
	    poll_tuning.after_slice : n;
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
		rc = poll_after_imap(is, pc, &now, cause);
		if (rc == 0)
			poll_list_append(&pc->acted, &now);
		free(now.v);
		if (rc != 0)
			return (-1);
	}
	return (0);
}

/*
 * Ask the server for what a (poll_ask) says can be new: *uids, ascending,
 * an empty array when there is nothing to ask.
 */
static int
poll_search(struct poll_ctx *pc, struct imap_session *is,
    const struct poll_ask *a, uint32_t **uids, size_t *n, char **cause)
{
	struct imap_query	 q;
	char			 what[64];

	*uids = NULL;
	*n = 0;
	switch (a->how) {
	case ASK_NOTHING:
		log_debug("%s: nothing can be new; no search", pc->mb->name);
		return (0);
	case ASK_ALL:
		snprintf(what, sizeof what, "everything");
		break;
	case ASK_UIDS:
		snprintf(what, sizeof what, "UIDs from %" PRIu32, a->uid_from);
		break;
	case ASK_MODSEQ:
		snprintf(what, sizeof what, "changes from MODSEQ %" PRIu64,
		    a->modseq_from);
		break;
	}
	memset(&q, 0, sizeof q);
	q.kind = pc->mb->search_all ? IMAP_SEARCH_ALL : IMAP_SEARCH_UNSEEN;
	if (pc->mb->since_days > 0)
		q.since = time(NULL) - (time_t)pc->mb->since_days * 86400;
	q.uid_from = a->uid_from;
	q.modseq_from = a->modseq_from;
	if (imap_search(is, &q, uids, n, cause) != 0)
		return (-1);
	log_debug("%s: searched %s: %zu UIDs", pc->mb->name, what, *n);
	return (0);
}

/*
 * Select, search for what can be new, read the ledger rows that matter
 * and plan; then keep the search's mark once everything it found is in
 * the ledger (see poll_ask and doc/architecture.md).
 */
static int
poll_look(struct poll_ctx *pc, struct imap_session *is,
    struct poll_plan *plan, char **cause)
{
	struct sink_ledger_entry	*led = NULL;
	struct sink_search_mark		 last, mark;
	struct imap_selected		 sel;
	struct poll_ask			 ask;
	uint32_t			*uids = NULL;
	char				 crit[SINK_CRITERIA_MAX];
	size_t				 n = 0, nled = 0;
	time_t				 now;
	int				 rc = -1;

	if (imap_select(is, imap_url_mailbox(is), &sel, cause) != 0)
		return (-1);
	pc->uidvalidity = sel.uidvalidity;
	poll_criteria(pc->mb->search_all, pc->mb->since_days, crit,
	    sizeof crit);
	if (sink_mark_read(pc->sink, pc->mailbox_pk, &last, cause) != 0) {
		pc->dbcause = xstrdup(*cause);
		return (-1);
	}
	now = time(NULL);
	poll_ask(&last, crit, pc->mb->search_all, &sel, now, &ask);
	if (poll_search(pc, is, &ask, &uids, &n, cause) != 0)
		return (-1);
	if (sink_ledger_find(pc->sink, pc->mailbox_pk, pc->uidvalidity, uids,
	    n, &led, &nled, cause) != 0) {
		pc->dbcause = xstrdup(*cause);
		goto out;
	}
	poll_plan(led, nled, uids, n, pc->mb->batch_size > 0 ?
	    (size_t)pc->mb->batch_size : 0, plan);
	if (plan->pending.n != 0) {
		log_info("%s: completing %zu pending after-actions",
		    pc->mb->name, plan->pending.n);
		if (poll_after_actions(is, pc, &plan->pending, cause) != 0)
			goto out;
	}
	if ((plan->nfresh != 0 && sink_claim(pc->sink, pc->mailbox_pk,
	    pc->uidvalidity, plan->fresh, plan->nfresh, cause) != 0) ||
	    /* Everything the search found is in the ledger now. */
	    (plan->held == 0 && poll_mark(&last, crit, &sel, &ask, now,
	    &mark) && sink_mark_write(pc->sink, pc->mailbox_pk, &mark,
	    cause) != 0)) {
		pc->dbcause = xstrdup(*cause);
		goto out;
	}
	/* The writers write claimed rows with their batch (sink.h). */
	plan->claimed = xcalloc(plan->nfetch + 1, sizeof *plan->claimed);
	if (plan->nfetch != 0 && sink_claimed_ids(pc->sink, pc->mailbox_pk,
	    pc->uidvalidity, plan->fetch, plan->nfetch, plan->claimed,
	    cause) != 0) {
		pc->dbcause = xstrdup(*cause);
		goto out;
	}
	rc = 0;
out:
	free(led);
	free(uids);
	return (rc);
}

static int
poll_session(struct poll_ctx *pc, struct imap_session *is, char **cause)
{
	struct poll_plan	 plan;
	time_t			 fetch_start;
	int			 rc = -1, fetch_rc;

	memset(&plan, 0, sizeof plan);
	if (poll_look(pc, is, &plan, cause) != 0)
		goto out;
	fetch_start = time(NULL);
	pc->plan = &plan;
	poll_workers_start(pc, plan.nfetch);
	fetch_rc = plan.nfetch != 0 ? poll_fetch_all(pc, is, plan.fetch,
	    plan.nfetch, cause) : 0;
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
	poll_fault_point(pc, FAULT_BEFORE_AFTER, 0);
	/* A long fetch (a huge report): wake the session up before acting. */
	if (time(NULL) - fetch_start > KEEPALIVE_SECS &&
	    imap_noop(is, cause) != 0)
		goto out;
	rc = poll_after_end(is, pc, cause);
out:
	poll_workers_free(pc);
	pc->plan = NULL;
	poll_plan_free(&plan);
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
	o->expunge = (enum imap_expunge)mb->expunge;	/* same order */
	o->verbose = log_getverbose() >= 3;
}

char *
poll_identity(const struct conf *conf, const struct conf_mailbox *mb,
    char **cause)
{
	struct imap_opts	o;

	poll_opts(conf, mb, &o, NULL);
	return (imap_url_identity(&o, cause));
}

/*
 * Log in with the mailbox's OAuth 2.0 token, if any (oauth2_token: the
 * cached one or a new one); when the server refuses the token, renew it
 * and try once more.  NULL (logged) on failure.
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
		token = oauth2_token(conf, mb, attempt > 0, cls, &cause);
		if (token == NULL && cause != NULL)
			break;
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
 * mailboxes can be polled in parallel: on sink when it is not NULL (a
 * connection the caller opened and checked the schema on; this function
 * closes it), else on a new one.  Returns 0, or -1 when the poll did not
 * complete (logged here).
 */
int
poll_mailbox(const struct conf *conf, const struct conf_mailbox *mb,
    struct sink *sink, struct poll_result *res)
{
	struct poll_ctx		 pc;
	struct imap_session	*is;
	enum imap_class		 cls = IMAP_OK;
	char			*cause = NULL, *why = NULL;
	int64_t			 run = -1;
	int			 taken, rc = -1;

	memset(res, 0, sizeof *res);
	res->start = time(NULL);
	memset(&pc, 0, sizeof pc);
	pc.conf = conf;
	pc.mb = mb;
	poll_ctx_init(&pc);
	if ((pc.sink = sink) == NULL &&
	    (pc.sink = agent_sink_connect(conf, 0)) == NULL)
		goto out;
	if ((taken = poll_take(&pc, res)) != 1) {
		rc = taken == 0 ? 0 : -1;
		goto out;
	}
	if (sink_run_begin(pc.sink, mb->name, pc.mailbox_pk, &run,
	    &cause) != 0) {
		log_warnx("%s: %s", mb->name, cause);
		free(cause);
		cause = NULL;
	}
	if ((is = poll_connect(conf, mb, &cls, &why)) == NULL) {
		res->auth = (cls == IMAP_AUTH);
		goto done;
	}
	rc = poll_session(&pc, is, &cause);
	poll_settle(&pc);
	if (rc != 0) {
		log_warnx("%s: poll failed: %s", mb->name, cause != NULL ?
		    cause : "unknown error");
		res->auth = (imap_error_class(is) == IMAP_AUTH);
		xasprintf(&why, "poll failed: %s", cause != NULL ? cause :
		    "unknown error");
	}
	poll_after_warn(is, mb);
	imap_close(is);
done:
	if (run != -1)
		poll_run_end(&pc, run, rc == 0 ? NULL : why);
out:
	free(why);
	free(cause);
	free(pc.identity);
	if (pc.sink != NULL)
		sink_close(pc.sink);
	res->counts = pc.counts;
	pipeline_log_ignored(mb->name, pc.counts.ignored);
	res->failed = (rc != 0);
	res->end = time(NULL);
	free(pc.done.v);
	free(pc.acted.v);
	free(pc.unsure.v);
	free(pc.dbcause);
	pthread_cond_destroy(&pc.more);
	pthread_cond_destroy(&pc.room);
	pthread_mutex_destroy(&pc.mtx);
	return (rc);
}

/*
 * Take the mailbox's lock and its row, both by its identity (server,
 * account and folder; the name is only a label), so that two mailboxes
 * that share a name neither wait for each other nor share a ledger.  1:
 * taken; 0: another agent is polling it (res->skipped); -1: failed
 * (logged).
 */
static int
poll_take(struct poll_ctx *pc, struct poll_result *res)
{
	const struct conf_mailbox	*mb = pc->mb;
	enum sink_lock			 locked;
	char				*cause = NULL;
	int				 rc = -1;

	if ((pc->identity = poll_identity(pc->conf, mb, &cause)) == NULL)
		goto out;
	locked = sink_mailbox_lock(pc->sink, pc->identity, &cause);
	if (locked == SINK_LOCK_BUSY) {
		log_info("%s: another agent is polling it; skipped",
		    mb->name);
		res->skipped = 1;
		return (0);
	}
	if (locked == SINK_LOCK_TAKEN && sink_mailbox_claim(pc->sink,
	    pc->identity, mb->name, &pc->mailbox_pk, &cause) == 0) {
		log_debug("%s: mailbox %s (%lld)", mb->name, pc->identity,
		    (long long)pc->mailbox_pk);
		rc = 1;
	}
out:
	if (rc == -1)
		log_warnx("%s: %s", mb->name, cause != NULL ? cause :
		    "unknown error");
	free(cause);
	return (rc);
}

/* The ledger row of uid in led (ascending by uid), or NULL. */
static const struct sink_ledger_entry *
poll_ledger_find(const struct sink_ledger_entry *led, size_t n, uint32_t uid)
{
	size_t	lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (led[mid].uid == uid)
			return (&led[mid]);
		if (led[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (NULL);
}

/*
 * The messages whose commit's outcome is not known (the connection was
 * lost after their COMMIT went out): ask the ledger, on a new connection,
 * so that the poll's counts are what the database holds.  A row with a
 * final status was committed (its after-action is left pending, for the
 * next poll to complete); a row still claimed was not, and is fetched
 * again.  When the database cannot be reached they stay unsure, and the
 * poll's line says so (pipeline_counts_format).
 */
static void
poll_settle(struct poll_ctx *pc)
{
	const struct sink_ledger_entry	*e;
	struct sink_ledger_entry	*led = NULL;
	struct pipeline_counts		*c = &pc->counts;
	struct sink			*s;
	size_t				 nled = 0, i;
	char				*cause = NULL;

	if (pc->unsure.n == 0)
		return;
	if ((s = agent_sink_connect(pc->conf, 0)) == NULL)
		return;		/* logged */
	if (sink_ledger_list(s, pc->mailbox_pk, pc->uidvalidity, &led, &nled,
	    &cause) != 0) {
		log_warnx("%s: %s", pc->mb->name, cause);
		free(cause);
		sink_close(s);
		return;
	}
	for (i = 0; i < pc->unsure.n; i++) {
		e = poll_ledger_find(led, nled, pc->unsure.v[i].uid);
		c->unsure--;
		if (e == NULL || e->status == SINK_NONE ||
		    e->status == SINK_CLAIMED)
			continue;	/* not committed */
		c->fetched++;
		if (e->status == SINK_STORED)
			c->stored++;
		else if (e->status == SINK_DUPLICATE)
			c->duplicate++;
		else if (e->status == SINK_IGNORED)
			c->ignored++;
		else
			c->invalid++;
	}
	log_info("%s: the ledger settled %zu message(s) whose commit failed",
	    pc->mb->name, pc->unsure.n);
	pc->unsure.n = 0;
	free(led);
	sink_close(s);
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
