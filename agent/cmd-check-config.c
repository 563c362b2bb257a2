/*
 * cmd-check-config.c: `dmarc-agent check-config`, every error of the
 * configuration file (stderr, as FILE:LINE: message) and every warning;
 * "configuration OK" on stdout when it is valid; with -v (before or after
 * the command) the configuration in force first, secrets masked.  The
 * keys and certificates the oauth2 groups name are loaded and checked
 * (oauth2_check), without contacting anything.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "agent/oauth2.h"
#include "enrich/enrich.h"

static int	enrichment_check(const struct conf *);

/*
 * The enrichment settings as `enrich` and `run` use them: the resolver's
 * address and the MaxMind files are only known good once the module has
 * opened them, which conf_load (linked without the module) cannot do.
 * 0, or -1 with the error printed.
 */
static int
enrichment_check(const struct conf *c)
{
	struct enrich	*e;
	char		*cause = NULL;

	if ((e = ipinfo_open(c, &cause)) == NULL) {
		fprintf(stderr, "%s: enrichment: %s\n", c->file, cause);
		free(cause);
		return (-1);
	}
	enrich_free(e);
	return (0);
}

int
cmd_check_config(struct cmd_env *env, int argc, char **argv)
{
	struct conf_msgs	 m;
	struct conf		*c;
	size_t			 i;
	int			 verbose = log_getverbose() > 0;

	if (argc == 1 && strcmp(argv[0], "-v") == 0)
		verbose = 1;
	else if (argc != 0) {
		log_warnx("usage: dmarc-agent check-config [-v]");
		return (EXIT_USAGE);
	}
	c = conf_load(env->conf_file, &m);
	/* What the oauth2 groups name is loaded too (no network). */
	if (c != NULL && oauth2_check(c, &m) != 0) {
		conf_free(c);
		c = NULL;
	}
	for (i = 0; i < m.nerrors; i++)
		fprintf(stderr, "%s\n", m.errors[i]);
	for (i = 0; i < m.nwarnings; i++)
		fprintf(stderr, "%s (warning)\n", m.warnings[i]);
	conf_msgs_free(&m);
	if (c == NULL)
		return (EXIT_USAGE);
	if (enrichment_check(c) != 0) {
		conf_free(c);
		return (EXIT_USAGE);
	}
	if (verbose)
		conf_print(c, stdout);
	conf_free(c);
	printf("configuration OK\n");
	return (0);
}
