/*
 * main.c: the command line.
 *
 *   dmarc-agent [-c FILE] [-d] [-v] COMMAND [ARG...]
 *
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

#include "agent/agent.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "show/show.h"

#ifndef SYSCONFFILE
#define SYSCONFFILE "/etc/dmarc-agent.conf"
#endif

static dead void	usage(void);
static int		check_config(const char *);
static struct conf	*load(const char *, int);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: dmarc-agent [-c FILE] [-d] [-v] COMMAND [ARG...]\n"
	    "commands:\n"
	    "  poll [MAILBOX...]   one pass over the configured mailboxes\n"
	    "  run                 poll every interval until SIGTERM\n"
	    "  ingest PATH...      read report files or mail from disk\n"
	    "  check-config        check the configuration file\n"
	    "  migrate             create or upgrade the database schema\n"
	    "  enrich              look up the source addresses (DNS, ASN)\n"
	    "  reparse --all | --since YYYY-MM-DD | REPORT_ID...\n"
	    "                      re-derive reports from the stored payloads\n"
	    "%s"
	    "default configuration: %s\n", show_usage, SYSCONFFILE);
	exit(EXIT_USAGE);
}

/* Print every error (stderr) and warning; "configuration OK" on stdout. */
static int
check_config(const char *file)
{
	struct conf_msgs	 m;
	struct conf		*c;
	size_t			 i;

	c = conf_load(file, &m);
	for (i = 0; i < m.nerrors; i++)
		fprintf(stderr, "%s\n", m.errors[i]);
	for (i = 0; i < m.nwarnings; i++)
		fprintf(stderr, "%s (warning)\n", m.warnings[i]);
	conf_msgs_free(&m);
	if (c == NULL)
		return (EXIT_USAGE);
	conf_free(c);
	printf("configuration OK\n");
	return (0);
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
	struct cmd_env	 env;
	const char	*cmd;
	int		 ch, verbose = 0, rc;

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
	cmd = argv[0];
	argc--;
	argv++;
	if (strcmp(cmd, "check-config") == 0) {
		if (argc != 0)
			usage();
		return (check_config(env.conf_file));
	}
	if (strcmp(cmd, "poll") != 0 && strcmp(cmd, "run") != 0 &&
	    strcmp(cmd, "ingest") != 0 && strcmp(cmd, "migrate") != 0 &&
	    strcmp(cmd, "reparse") != 0 && strcmp(cmd, "report") != 0 &&
	    strcmp(cmd, "enrich") != 0) {
		log_warnx("unknown command \"%s\"", cmd);
		usage();
	}
	env.conf = load(env.conf_file, env.debug);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatalx("curl_global_init failed");
	xmlInitParser();
	log_debug("%s, libxml2 %s", curl_version(), xmlParserVersion);
	if (strcmp(cmd, "poll") == 0)
		rc = cmd_poll(&env, argc, argv);
	else if (strcmp(cmd, "run") == 0)
		rc = cmd_run(&env, argc, argv);
	else if (strcmp(cmd, "ingest") == 0)
		rc = cmd_ingest(&env, argc, argv);
	else if (strcmp(cmd, "reparse") == 0)
		rc = cmd_reparse(&env, argc, argv);
	else if (strcmp(cmd, "enrich") == 0)
		rc = cmd_enrich(&env, argc, argv);
	else if (strcmp(cmd, "report") == 0)
		rc = show_main(env.conf->conninfo, argc, argv);
	else
		rc = cmd_migrate(&env, argc, argv);
	conf_free(env.conf);
	xmlCleanupParser();
	curl_global_cleanup();
	return (rc);
}
