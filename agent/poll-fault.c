/*
 * poll-fault.c: fault injection and tuning for the tests.
 *
 * DMARC_AGENT_FAULT makes the process kill itself with SIGKILL at a named
 * point, so that a test can prove that a crash there loses nothing and
 * counts nothing twice:
 *   kill-after-commit:N   after the Nth message committed in this run
 *   kill-before-after     after the fetches, before any flag or move
 * Three knobs shrink the poll's sizes so that a small test takes the paths
 * a large mailbox takes:
 *   DMARC_AGENT_BATCH=N   messages per group-commit transaction
 *                         (BATCH_MAX), to place a kill between two messages
 *   DMARC_AGENT_BORROW=N  hand messages over N bytes to the workers
 *                         without a copy (BORROW_BYTES)
 *   DMARC_AGENT_SLICE=N   fetch in slices of N UIDs (AFTER_SLICE), so that
 *                         after-actions happen between slices
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "agent/poll.h"
#include "agent/poll_p.h"

struct poll_tuning poll_tuning = {
	-1, 0, BATCH_MAX, BORROW_BYTES, AFTER_SLICE
};

static size_t	env_size(const char *, size_t);

/* A positive number from the environment, else dflt. */
static size_t
env_size(const char *name, size_t dflt)
{
	const char	*v = getenv(name);

	if (v != NULL && strtol(v, NULL, 10) > 0)
		return ((size_t)strtol(v, NULL, 10));
	return (dflt);
}

void
poll_fault_init(void)
{
	const char	*f = getenv("DMARC_AGENT_FAULT");

	poll_tuning.batch_max = env_size("DMARC_AGENT_BATCH", BATCH_MAX);
	poll_tuning.borrow_bytes = env_size("DMARC_AGENT_BORROW",
	    BORROW_BYTES);
	poll_tuning.after_slice = env_size("DMARC_AGENT_SLICE", AFTER_SLICE);
	if (f == NULL)
		return;
	if (strncmp(f, "kill-after-commit:", 18) == 0)
		poll_tuning.kill_after_commit = strtol(f + 18, NULL, 10);
	else if (strcmp(f, "kill-before-after") == 0)
		poll_tuning.kill_before_after = 1;
	else
		log_warnx("DMARC_AGENT_FAULT=\"%s\" not understood", f);
}

/* Kill the process here when a test asked for it. */
void
poll_fault_point(enum poll_fault at)
{
	static long	commits;

	if ((at == FAULT_AFTER_COMMIT && poll_tuning.kill_after_commit > 0 &&
	    __atomic_add_fetch(&commits, 1, __ATOMIC_SEQ_CST) ==
	    poll_tuning.kill_after_commit) ||
	    (at == FAULT_BEFORE_AFTER && poll_tuning.kill_before_after)) {
		fflush(stdout);
		raise(SIGKILL);
	}
}
