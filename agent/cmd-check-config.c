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
#include "agent/poll.h"
#include "enrich/enrich.h"

static int	enrichment_check(const struct conf *);
static void	same_mailboxes(const struct conf *);

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

/*
 * Warn of two mailboxes that are one (server, account and folder): they
 * share a lock and a ledger, so they poll in turns and their settings
 * (after, search, folders) fight over the same mail.  A warning, not an
 * error: the ledger keeps it exactly once either way.
 */
static void
same_mailboxes(const struct conf *c)
{
	char	**ids;
	char	 *cause;
	size_t	  i, j;

	ids = xcalloc(c->nmailboxes + 1, sizeof *ids);
	for (i = 0; i < c->nmailboxes; i++) {
		cause = NULL;
		ids[i] = poll_identity(c, &c->mailboxes[i], &cause);
		free(cause);
		for (j = 0; ids[i] != NULL && j < i; j++) {
			if (ids[j] == NULL || strcmp(ids[i], ids[j]) != 0)
				continue;
			fprintf(stderr, "%s: mailboxes \"%s\" and \"%s\" are "
			    "the same mailbox (server, account and folder): "
			    "they share one ledger and poll in turns "
			    "(warning)\n", c->file, c->mailboxes[j].name,
			    c->mailboxes[i].name);
			break;
		}
	}
	for (i = 0; i < c->nmailboxes; i++)
		free(ids[i]);
	free(ids);
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
	same_mailboxes(c);
	if (verbose)
		conf_print(c, stdout);
	conf_free(c);
	printf("configuration OK\n");
	return (0);
}
