/*
 * poll-fault.c: fault injection and tuning for the tests.
 *
 * DMARC_AGENT_FAULT=ACTION-POINT[:N] makes the process act at a named
 * point of a poll, so that a test can put a fault exactly there and prove
 * that it loses nothing and counts nothing twice.  The points:
 *   after-commit:N  the Nth message of a poll committed (one writer, so
 *                   that the count is one connection's)
 *   before-after    the fetches over, before any flag or move (no fetch
 *                   slices, so that nothing is moved before)
 *   at-fetch:N      the Nth message of a poll fetched, not yet processed:
 *                   its FETCH is in flight and it is still claimed
 *   in-batch:N      the Nth message of a poll run into a writer's open
 *                   batch, not committed (a message too large to copy,
 *                   committed on its own, is not counted)
 *   in-commit:N     the Nth batch commit of a poll: its COMMIT sent to
 *                   the server, the reply not read yet (one writer, as
 *                   for after-commit; UID: the batch's last message)
 *   in-rotation     a rotated refresh token half written to its temporary
 *                   file (oauth/, through agent/oauth2.c; kill only)
 *   after-rotation  the temporary file renamed over the token file, the
 *                   directory not yet synced (kill only)
 * The actions:
 *   kill-POINT      SIGKILL there
 *   pause-POINT     log "fault: paused at POINT N (UID u)" and wait until
 *                   the file named by DMARC_AGENT_FAULT_GO exists or a
 *                   signal asks the agent to quit (PAUSE_MAX seconds at
 *                   most), then log "fault: resumed" and go on: the test
 *                   delivers its fault (a server killed or stopped, a
 *                   SIGTERM) while the agent stands there.
 * Three knobs shrink the poll's sizes so that a small test takes the paths
 * a large mailbox takes:
 *   DMARC_AGENT_BATCH=N   messages per group-commit transaction
 *                         (BATCH_MAX), to place a kill between two messages
 *   DMARC_AGENT_BORROW=N  hand messages over N bytes to the workers
 *                         without a copy (BORROW_BYTES)
 *   DMARC_AGENT_SLICE=N   fetch in slices of N UIDs (AFTER_SLICE), so that
 *                         after-actions happen between slices
 * (DMARC_AGENT_SETS=0, which turns the writers' set statements off, is
 * ingest's as well: agent_sets.)
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "agent/agent.h"
#include "agent/poll.h"
#include "agent/poll_p.h"

#define PAUSE_MAX	120	/* seconds: a test that never says go */

struct poll_tuning poll_tuning = {
	FAULT_NONE, 0, 0, NULL, BATCH_MAX, BORROW_BYTES, AFTER_SLICE
};

static const struct {
	const char	*name;
	enum poll_fault	 at;
	int		 counted;	/* takes :N */
} fault_points[] = {
	{ "after-commit", FAULT_AFTER_COMMIT, 1 },
	{ "before-after", FAULT_BEFORE_AFTER, 0 },
	{ "at-fetch", FAULT_AT_FETCH, 1 },
	{ "in-batch", FAULT_IN_BATCH, 1 },
	{ "in-commit", FAULT_IN_COMMIT, 1 },
	{ "in-rotation", FAULT_IN_ROTATION, 0 },
	{ "after-rotation", FAULT_AFTER_ROTATION, 0 }
};

static size_t	env_size(const char *, size_t);
static int	fault_parse(const char *);
static void	fault_pause(const char *, long, uint32_t);

/* A positive number from the environment, else dflt. */
static size_t
env_size(const char *name, size_t dflt)
{
	const char	*v = getenv(name);

	if (v != NULL && strtol(v, NULL, 10) > 0)
		return ((size_t)strtol(v, NULL, 10));
	return (dflt);
}

/* ACTION-POINT[:N] into poll_tuning; -1 when it is not one. */
static int
fault_parse(const char *f)
{
	const char	*p;
	size_t		 i, len;
	char		*end;
	long		 n = 0;

	if (strncmp(f, "kill-", 5) == 0)
		p = f + 5;
	else if (strncmp(f, "pause-", 6) == 0)
		p = f + 6;
	else
		return (-1);
	len = strcspn(p, ":");
	for (i = 0; i < sizeof fault_points / sizeof fault_points[0]; i++) {
		if (strlen(fault_points[i].name) != len ||
		    strncmp(p, fault_points[i].name, len) != 0)
			continue;
		if (fault_points[i].counted) {
			if (p[len] != ':' || (n = strtol(p + len + 1, &end,
			    10)) < 1 || *end != '\0')
				return (-1);
		} else if (p[len] != '\0')
			return (-1);
		poll_tuning.fault = fault_points[i].at;
		poll_tuning.fault_pause = (p == f + 6);
		poll_tuning.fault_n = n;
		return (0);
	}
	return (-1);
}

void
poll_fault_init(void)
{
	const char	*f = getenv("DMARC_AGENT_FAULT");

	poll_tuning.batch_max = env_size("DMARC_AGENT_BATCH", BATCH_MAX);
	poll_tuning.borrow_bytes = env_size("DMARC_AGENT_BORROW",
	    BORROW_BYTES);
	poll_tuning.after_slice = env_size("DMARC_AGENT_SLICE", AFTER_SLICE);
	poll_tuning.fault = FAULT_NONE;
	poll_tuning.fault_go = getenv("DMARC_AGENT_FAULT_GO");
	if (f != NULL && fault_parse(f) != 0) {
		poll_tuning.fault = FAULT_NONE;
		log_warnx("DMARC_AGENT_FAULT=\"%s\" not understood", f);
	}
}

/*
 * Stand still until the go file exists or a signal asks to quit.  Both
 * lines go to the log, the first so that the test knows when to strike.
 */
static void
fault_pause(const char *name, long n, uint32_t uid)
{
	const struct timespec	 tick = { 0, 10 * 1000 * 1000 };
	const char		*go = poll_tuning.fault_go;
	long			 i;

	log_warnx("fault: paused at %s %ld (UID %u); waiting for %s or a"
	    " signal", name, n, uid, go != NULL ? go : "(no file)");
	for (i = 0; i < PAUSE_MAX * 100L; i++) {
		if (agent_quitting() || (go != NULL && access(go, F_OK) == 0))
			break;
		nanosleep(&tick, NULL);
	}
	log_warnx("fault: resumed at %s %ld%s", name, n,
	    i == PAUSE_MAX * 100L ? " (no go: timed out)" : "");
}

/* The sink's commit hook (sink_set_commit_hook): point in-commit. */
void
poll_fault_commit_hook(void *arg)
{
	struct poll_worker	*w = arg;

	poll_fault_point(w->pc, FAULT_IN_COMMIT, w->batch.n != 0 ?
	    w->batch.v[w->batch.n - 1].uid : 0);
}

/*
 * The poll pc reached point at (with the message uid, 0 for none): kill or
 * pause here when a test asked for it.  Counted points count the poll's
 * messages; several writers may arrive at once, hence the atomic count.
 */
void
poll_fault_point(struct poll_ctx *pc, enum poll_fault at, uint32_t uid)
{
	size_t	i;
	long	n = 0;

	if (at != poll_tuning.fault)
		return;
	for (i = 0; i < sizeof fault_points / sizeof fault_points[0]; i++)
		if (fault_points[i].at == at)
			break;
	if (fault_points[i].counted &&
	    (n = __atomic_add_fetch(&pc->fault_count, 1, __ATOMIC_SEQ_CST)) !=
	    poll_tuning.fault_n)
		return;
	if (poll_tuning.fault_pause) {
		fault_pause(fault_points[i].name, n, uid);
		return;
	}
	fflush(stdout);
	raise(SIGKILL);
}
