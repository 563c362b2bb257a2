/*
 * sink-health.c: mailboxes (table mailbox), poll runs (ingest_run) and the
 * per-mailbox lock.
 *
 * A mailbox is known by its identity (server, account, folder), not by
 * the name the configuration gives it: its row (sink_mailbox_claim) keys
 * the ledger and its polls.  Each poll writes one ingest_run row when it
 * starts and fills it when it ends, outside any message transaction, so
 * v_mailbox_health shows failing mailboxes to the BI tool.  The mailbox
 * lock is a session-level advisory lock on the poll's own connection, on
 * the identity: two agents sharing a database never poll the same mailbox
 * at the same moment, and a killed agent's lock goes with its connection.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "report/report.h"
#include "sink/sink.h"
#include "sink/sink_p.h"

/* Find, claim or make the mailbox's row (see sink.h). */
int
sink_mailbox_claim(struct sink *s, const char *identity, const char *name,
    int64_t *id, char **cause)
{
	struct sink_params	 p;
	PGresult		*res = NULL;
	int			 rc;

	if (s->in_msg || s->in_batch)
		fatalx("%s: inside a message transaction or a batch", __func__);
	if (sink_cmd(s, SINK_ST_BEGIN, cause) != 0)
		return (-1);
	rc = sink_exec(s, SINK_ST_MAILBOX_CLAIM_LOCK, NULL, NULL, cause);
	if (rc == 0) {
		sink_params_init(&p);
		sink_param_str(&p, identity);
		sink_param_str(&p, name);
		rc = sink_exec(s, SINK_ST_MAILBOX_CLAIM, &p, &res, cause);
		sink_params_free(&p);
	}
	if (rc == 0 && PQntuples(res) != 1) {
		xasprintf(cause, "claim mailbox: %d rows for %s", PQntuples(res),
		    identity);
		rc = -1;
	}
	if (rc == 0)
		*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	if (res != NULL)
		PQclear(res);
	if (rc == 0 && sink_cmd(s, SINK_ST_COMMIT, cause) == 0)
		return (0);
	sink_cmd_quiet(s, SINK_ST_ROLLBACK);
	return (-1);
}

int
sink_run_begin(struct sink *s, const char *mailbox, int64_t mailbox_pk,
    int64_t *run_id, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	char			 host[256];
	int			 rc;

	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = '\0';
	sink_params_init(&p);
	sink_param_str(&p, mailbox);
	if (mailbox_pk > 0)
		sink_param_int(&p, (long long)mailbox_pk);
	else
		sink_param_str(&p, NULL);
	sink_param_str(&p, host);
	sink_param_int(&p, (long long)getpid());
	rc = sink_exec(s, SINK_ST_RUN_BEGIN, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	*run_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return (0);
}

int
sink_run_end(struct sink *s, int64_t run_id, const struct sink_run_stats *st,
    const char *error, char **cause)
{
	struct sink_params	p;
	int			rc;

	sink_params_init(&p);
	sink_param_int(&p, (long long)run_id);
	sink_param_int(&p, st->fetched);
	sink_param_int(&p, st->stored);
	sink_param_int(&p, st->duplicates);
	sink_param_int(&p, st->invalid);
	sink_param_int(&p, st->ignored);
	sink_param_int(&p, (long long)st->bytes);
	sink_param_str(&p, error);
	rc = sink_exec(s, SINK_ST_RUN_END, &p, NULL, cause);
	sink_params_free(&p);
	return (rc);
}

/* Try the mailbox's lock, without waiting (enum sink_lock). */
enum sink_lock
sink_mailbox_lock(struct sink *s, const char *identity, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	int			 rc, taken;

	sink_params_init(&p);
	sink_param_str(&p, identity);
	rc = sink_exec(s, SINK_ST_MAILBOX_LOCK, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (SINK_LOCK_ERROR);
	taken = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return (taken ? SINK_LOCK_TAKEN : SINK_LOCK_BUSY);
}
