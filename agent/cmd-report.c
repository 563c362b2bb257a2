/*
 * cmd-report.c: `dmarc-agent report`, the read side; show/ does the work
 * on a libpq connection of its own.
 */
#include "config.h"

#include "agent/cmd.h"
#include "agent/conf.h"
#include "show/show.h"

int
cmd_report(struct cmd_env *env, int argc, char **argv)
{
	return (show_main(env->conf->conninfo, argc, argv));
}
