/*
 * cmd-migrate.c: `dmarc-agent migrate`, create or upgrade the schema (as
 * the database owner).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/common.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "sink/sink.h"

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
