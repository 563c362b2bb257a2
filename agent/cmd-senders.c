/*
 * cmd-senders.c: `dmarc-agent senders`, the senders seen per policy domain
 * and the approved ones; show/ does the work on a libpq connection of its
 * own.
 */
#include "config.h"

#include "agent/cmd.h"
#include "agent/conf.h"
#include "show/show.h"

int
cmd_senders(struct cmd_env *env, int argc, char **argv)
{
	return (show_senders_main(env->conf->conninfo, argc, argv));
}
