/*
 * agent.c: the database connection every command opens, the quit flag,
 * and whether writers use set statements.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "agent/agent.h"
#include "agent/conf.h"
#include "sink/sink.h"

static volatile sig_atomic_t	agent_quit;

struct sink *
agent_sink_connect(const struct conf *conf, int may_migrate)
{
	struct sink	*sink;
	enum sink_schema rc;
	char		*cause = NULL;

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
agent_quit_request(void)
{
	agent_quit = 1;
}

void
agent_quit_clear(void)
{
	agent_quit = 0;
}

int
agent_quitting(void)
{
	return (agent_quit != 0);
}

int
agent_sets(void)
{
	const char	*v = getenv("DMARC_AGENT_SETS");

	return (v == NULL || strcmp(v, "0") != 0);
}
