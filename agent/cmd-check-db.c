/*
 * cmd-check-db.c: `dmarc-agent check-db`, compare the rollup tables (the
 * daily sums the report, the views and the dashboards read) with the
 * records they add up.  They are kept equal in the transaction that
 * writes the records; this reads every record to prove it.  Exit 0 when
 * they are equal, 1 when they differ (each difference printed, at most
 * CHECK_MAX of them) or the database failed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/common.h"
#include "agent/agent.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "sink/sink.h"

#define CHECK_MAX	100

int
cmd_check_db(struct cmd_env *env, int argc, char **argv)
{
	struct sink	*sink;
	char		**lines = NULL, *cause = NULL;
	size_t		 nlines, n, i;
	int		 rc;

	(void)argv;
	if (argc != 0) {
		log_warnx("usage: dmarc-agent check-db");
		return (EXIT_USAGE);
	}
	if ((sink = agent_sink_connect(env->conf, 0)) == NULL)
		return (EXIT_OPFAIL);
	rc = sink_rollup_check(sink, CHECK_MAX, &lines, &nlines, &n, &cause);
	sink_close(sink);
	if (rc != 0) {
		log_warnx("check-db: %s", cause);
		free(cause);
		return (EXIT_OPFAIL);
	}
	for (i = 0; i < nlines; i++)
		printf("%s\n", lines[i]);
	sink_enrich_free(lines, nlines);
	if (n > 0) {
		printf("check-db: %zu differences between the rollup tables"
		    " and the records%s\n", n, n > nlines ? " (the first"
		    " listed)" : "");
		return (EXIT_OPFAIL);
	}
	printf("check-db: the rollup tables equal the records\n");
	return (0);
}
