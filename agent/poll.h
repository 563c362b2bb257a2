/*
 * poll.h: the poll engine, one exactly-once pass over one mailbox (see
 * poll.c for the steps and doc/architecture.md for the ledger's rules).
 */
#ifndef POLL_H
#define POLL_H

#include <time.h>

#include "agent/pipeline.h"

struct conf;
struct conf_mailbox;
struct sink;

/* What one mailbox poll did. */
struct poll_result {
	struct pipeline_counts	 counts;
	int			 failed;	/* the poll did not complete */
	int			 auth;		/* because the login was refused */
	int			 skipped;	/* another agent was polling it */
	time_t			 start, end;
};

/*
 * Poll mb once.  sink, when not NULL, is a connection the caller opened
 * (with the schema checked); the poll takes it over and closes it.  0, or
 * -1 when the poll did not complete (logged); *res says what it did
 * either way.
 */
int	poll_mailbox(const struct conf *, const struct conf_mailbox *,
	    struct sink *, struct poll_result *);

/*
 * What mailbox mb is (server, account and folder: imap_url_identity), the
 * key of its lock and its ledger; the caller frees it.  NULL and *cause
 * when the URL is refused.
 */
char	*poll_identity(const struct conf *, const struct conf_mailbox *,
	    char **);

/* Read DMARC_AGENT_FAULT and the test knobs (poll-fault.c); once a run. */
void	poll_fault_init(void);

#endif
