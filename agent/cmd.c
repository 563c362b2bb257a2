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
 *      run each through the pipeline (one transaction per message);
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

/* One mailbox poll. */
struct poll_ctx {
	const struct conf		*conf;
	const struct conf_mailbox	*mb;
	struct sink			*sink;
	uint32_t			 uidvalidity;
	struct pipeline_counts		 counts;
	struct poll_list		 done;	/* after-actions to do */
	char				*dbcause; /* set: database failed */
	/* The open batch: messages processed but not yet committed. */
	int				 in_batch;
	struct timespec			 batch_start;
	struct pipeline_counts		 batch_counts;
	struct poll_list		 batch;
};

/*
 * Group commit: several messages share a transaction (each inside a
 * savepoint, so each is all or nothing), committed after BATCH_MAX
 * messages or BATCH_MSEC milliseconds.  A message counts as done, and its
 * after-action is queued, only once its batch committed.
 */
#define BATCH_MAX	100
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
 * transaction) so that a test can place a kill between two messages.
 */
static long	fault_after_commit = -1;
static int	fault_before_after;
static size_t	batch_max = BATCH_MAX;	/* DMARC_AGENT_BATCH, for tests */

static void	fault_point(int);

static void	on_quit_signal(int);
static void	list_add(struct poll_list *, uint32_t, enum sink_status);
static int	is_good(enum sink_status);
static int	after_move(struct imap_session *, struct poll_ctx *,
		    const struct poll_list *, int, const char *, char **);
static int	after_actions(struct imap_session *, struct poll_ctx *,
		    const struct poll_list *, char **);
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
static long	poll_batch_age(struct poll_ctx *);
static int	poll_batch_commit(struct poll_ctx *, char **);
static void	poll_batch_drop(struct poll_ctx *);
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
	if ((rc = sink_schema_check(sink, &cause)) == 0)
		return (sink);
	if (rc == 1 && may_migrate) {
		if (sink_migrate(sink, &cause) == 0)
			return (sink);
		log_warnx("database: could not create or upgrade the schema: "
		    "%s; run `dmarc-agent migrate` as the database owner",
		    cause);
	} else if (rc == 1)
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
 * Do the after-actions for list, then mark them done in the ledger.  With
 * "seen" everything is flagged and bad mail also goes to invalid_folder
 * when set; with "move" and "delete" nothing examined stays behind.
 */
static int
after_actions(struct imap_session *is, struct poll_ctx *pc,
    const struct poll_list *l, char **cause)
{
	const struct conf_mailbox	*mb = pc->mb;
	const char			*bad;
	uint32_t			*all;
	size_t				 i;
	int				 rc = 0;

	if (l->n == 0)
		return (0);
	all = xcalloc(l->n, sizeof *all);
	for (i = 0; i < l->n; i++)
		all[i] = l->v[i].uid;
	bad = mb->invalid_folder != NULL ? mb->invalid_folder :
	    mb->archive_folder;
	switch (mb->after) {
	case CONF_AFTER_SEEN:
		rc = imap_flag_seen(is, all, l->n, cause);
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
	if (rc == 0 && sink_after_done(pc->sink, mb->name, pc->uidvalidity,
	    all, l->n, cause) != 0) {
		xasprintf(&pc->dbcause, "%s", *cause);
		rc = -1;
	}
	free(all);
	return (rc);
}

static int
poll_fetch_cb(uint32_t uid, const char *data, size_t len, uint64_t size,
    void *arg, char **cause)
{
	struct poll_ctx		*pc = arg;
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
	if (cmd_quitting()) {
		*cause = xstrdup("interrupted by a signal");
		return (-1);
	}
	if (!pc->in_batch) {
		if (sink_batch_begin(pc->sink, cause) != 0) {
			pc->dbcause = xstrdup(*cause);
			return (-1);
		}
		pc->in_batch = 1;
		clock_gettime(CLOCK_MONOTONIC, &pc->batch_start);
	}
	pc->batch_counts.bytes += data != NULL ? len : 0;
	if (data == NULL)
		o = pipeline_too_large(pc->sink, &info, size,
		    pc->conf->limits.max_message_size, &pc->batch_counts,
		    cause);
	else {
		mime_sha256(data, len, sha);
		info.sha256 = sha;
		info.size = len;
		o = pipeline_message(pc->sink, pc->conf, &info, data, len,
		    &pc->batch_counts, &detail, cause);
	}
	if (o < 0) {
		pc->dbcause = xstrdup(*cause);
		poll_batch_drop(pc);
		return (-1);
	}
	log_outcome(pc->mb->name, uid, NULL, o, detail);
	free(detail);
	list_add(&pc->batch, uid, outcome_status(o));
	if (pc->batch.n >= batch_max || poll_batch_age(pc) >= BATCH_MSEC)
		return (poll_batch_commit(pc, cause));
	return (0);
}

/* Milliseconds since the open batch began. */
static long
poll_batch_age(struct poll_ctx *pc)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((now.tv_sec - pc->batch_start.tv_sec) * 1000 +
	    (now.tv_nsec - pc->batch_start.tv_nsec) / 1000000);
}

/*
 * Commit the open batch: its messages become done and their after-actions
 * are queued.  On failure they stay claimed in the ledger (nothing of them
 * was kept) and are fetched again next poll.
 */
static int
poll_batch_commit(struct poll_ctx *pc, char **cause)
{
	size_t	i;

	if (!pc->in_batch)
		return (0);
	pc->in_batch = 0;
	if (sink_batch_commit(pc->sink, cause) != 0) {
		pc->dbcause = xstrdup(*cause);
		poll_batch_drop(pc);
		return (-1);
	}
	for (i = 0; i < pc->batch.n; i++) {
		list_add(&pc->done, pc->batch.v[i].uid, pc->batch.v[i].status);
		fault_point(0);
	}
	pc->counts.fetched += pc->batch_counts.fetched;
	pc->counts.stored += pc->batch_counts.stored;
	pc->counts.duplicate += pc->batch_counts.duplicate;
	pc->counts.ignored += pc->batch_counts.ignored;
	pc->counts.invalid += pc->batch_counts.invalid;
	pc->counts.bytes += pc->batch_counts.bytes;
	memset(&pc->batch_counts, 0, sizeof pc->batch_counts);
	pc->batch.n = 0;
	return (0);
}

/* Forget the open batch (rolled back: its messages stay claimed). */
static void
poll_batch_drop(struct poll_ctx *pc)
{
	if (pc->in_batch)
		sink_batch_rollback(pc->sink);
	pc->in_batch = 0;
	if (pc->batch.n != 0)
		log_warnx("%s: %zu message(s) not committed; they will be "
		    "fetched again", pc->mb->name, pc->batch.n);
	pc->batch.n = 0;
	memset(&pc->batch_counts, 0, sizeof pc->batch_counts);
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

static int
poll_session(struct poll_ctx *pc, struct imap_session *is, char **cause)
{
	struct poll_list	 pending = { NULL, 0, 0 };
	uint32_t		*uids = NULL, *fetch = NULL, *fresh = NULL;
	size_t			 n = 0, nfetch = 0, nfresh = 0;
	time_t			 since = 0, fetch_start;
	int			 rc = -1;

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
	if (nfetch != 0 && imap_fetch(is, fetch, nfetch, poll_fetch_cb, pc,
	    cause) != 0) {
		/* Keep what was processed, then act on what was committed. */
		if (pc->dbcause == NULL && pc->in_batch) {
			char *c2 = NULL;

			if (poll_batch_commit(pc, &c2) != 0)
				free(c2);
		}
		if (pc->done.n != 0 && pc->dbcause == NULL) {
			char *c2 = NULL;

			if (after_actions(is, pc, &pc->done, &c2) != 0)
				free(c2);
		}
		goto out;
	}
	if (poll_batch_commit(pc, cause) != 0)
		goto out;
	fault_point(1);
	/* A long fetch (a huge report): wake the session up before acting. */
	if (time(NULL) - fetch_start > KEEPALIVE_SECS &&
	    imap_noop(is, cause) != 0)
		goto out;
	rc = after_actions(is, pc, &pc->done, cause);
out:
	poll_batch_drop(pc);
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
	if ((pc.sink = cmd_sink_connect(conf, 0)) == NULL)
		goto out;
	if ((locked = sink_mailbox_lock(pc.sink, mb->name, &cause)) != 1) {
		if (locked == 0) {
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
	free(pc.batch.v);
	free(pc.dbcause);
	return (rc);
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
	struct poll_result		 res;
	pthread_t			 thread;
};

static void *
poll_thread(void *arg)
{
	struct poll_job	*job = arg;

	poll_one(job->conf, job->mb, &job->res);
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
	if ((sink = cmd_sink_connect(env->conf, env->conf->auto_migrate)) ==
	    NULL)
		return (EXIT_OPFAIL);
	sink_close(sink);
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
	GChecksum	*ck;
	char		 chunk[65536];
	ssize_t		 r;
	gsize		 dlen = 32;
	int		 fd, over = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "cannot open: %s", strerror(errno));
		return (-1);
	}
	buf_init(&b, (size_t)cap);
	ck = g_checksum_new(G_CHECKSUM_SHA256);
	*size = 0;
	while ((r = read(fd, chunk, sizeof chunk)) > 0) {
		g_checksum_update(ck, (const guchar *)chunk, r);
		*size += r;
		if (!over && buf_add(&b, chunk, r) != 0) {
			over = 1;
			buf_free(&b);
		}
	}
	if (r == -1)
		xasprintf(cause, "read error: %s", strerror(errno));
	close(fd);
	g_checksum_get_digest(ck, sha, &dlen);
	g_checksum_free(ck);
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
