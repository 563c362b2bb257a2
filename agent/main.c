/*
 * main.c: the command line.
 *
 *   dmarc-agent [-c FILE] [-d] [-v] COMMAND [ARG...]
 *
 * Every command is named once, in the table below: dispatch, the usage
 * text and whether it needs a loaded configuration are all read from it.
 * Exit codes: 0 success, 1 operational failure, 2 usage or configuration
 * error.
 */
#include "config.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "show/show.h"

#ifndef SYSCONFFILE
#define SYSCONFFILE "/etc/dmarc-agent.conf"
#endif

struct command {
	const char	*name;
	const char	*usage;		/* NULL: the usage is usage_text */
	const char	*usage_text;	/* for a usage of several lines */
	int		 needs_conf;	/* loaded before the call */
	int		(*fn)(struct cmd_env *, int, char **);
};

static const struct command commands[] = {
	{ "poll", "poll [MAILBOX...]   one pass over the configured mailboxes",
	    NULL, 1, cmd_poll },
	{ "run", "run                 poll every interval until SIGTERM",
	    NULL, 1, cmd_run },
	{ "ingest", "ingest PATH...      read report files or mail from disk",
	    NULL, 1, cmd_ingest },
	{ "check-config", "check-config        check the configuration file",
	    NULL, 0, cmd_check_config },
	{ "migrate",
	    "migrate             create or upgrade the database schema",
	    NULL, 1, cmd_migrate },
	{ "enrich",
	    "enrich              look up the source addresses (DNS, ASN)",
	    NULL, 1, cmd_enrich },
	{ "reparse", "reparse --all | --since YYYY-MM-DD | REPORT_ID...\n"
	    "                      re-derive reports from the stored payloads",
	    NULL, 1, cmd_reparse },
	{ "report", NULL, show_usage, 1, cmd_report },
};
#define NCOMMANDS	(sizeof commands / sizeof commands[0])

static dead void		 usage(void);
static const struct command	*find(const char *);
static struct conf		*load(const char *, int);

static void
usage(void)
{
	size_t	i;

	fprintf(stderr, "usage: dmarc-agent [-c FILE] [-d] [-v] COMMAND "
	    "[ARG...]\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++) {
		if (commands[i].usage != NULL)
			fprintf(stderr, "  %s\n", commands[i].usage);
		else
			fputs(commands[i].usage_text, stderr);
	}
	fprintf(stderr, "default configuration: %s\n", SYSCONFFILE);
	exit(EXIT_USAGE);
}

static const struct command *
find(const char *name)
{
	size_t	i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return (&commands[i]);
	return (NULL);
}

/* Load the configuration or exit 2 with every error logged. */
static struct conf *
load(const char *file, int debug)
{
	struct conf	*c;

	if ((c = conf_load_logged(file, "")) == NULL)
		exit(EXIT_USAGE);
	if (c->log_syslog && !debug)
		log_init(LOG_TO_SYSLOG, log_getverbose());
	return (c);
}

int
main(int argc, char **argv)
{
	const struct command	*cmd;
	struct cmd_env		 env;
	int			 ch, verbose = 0, rc;

	memset(&env, 0, sizeof env);
	env.conf_file = SYSCONFFILE;
	while ((ch = getopt(argc, argv, "+c:dvV")) != -1) {
		switch (ch) {
		case 'c':
			env.conf_file = optarg;
			break;
		case 'd':
			env.debug = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("dmarc-agent %s\n", PACKAGE_VERSION);
			return (0);
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	log_init(LOG_TO_STDERR, verbose);
	if ((cmd = find(argv[0])) == NULL) {
		log_warnx("unknown command \"%s\"", argv[0]);
		usage();
	}
	argc--;
	argv++;
	if (!cmd->needs_conf)
		return (cmd->fn(&env, argc, argv));
	env.conf = load(env.conf_file, env.debug);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatalx("curl_global_init failed");
	xmlInitParser();
	log_debug("%s, libxml2 %s", curl_version(), xmlParserVersion);
	rc = cmd->fn(&env, argc, argv);
	conf_free(env.conf);
	xmlCleanupParser();
	curl_global_cleanup();
	return (rc);
}
