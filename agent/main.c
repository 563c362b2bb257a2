/*
 * main.c: the command line.
 *
 *   dmarc-agent [-c FILE] [-d] [-v] COMMAND [ARG...]
 *   dmarc-agent -h | --help | -V | --version
 *   dmarc-agent COMMAND -h | --help
 *
 * Every command is named once, in the table below: dispatch, the usage
 * text and whether it needs a loaded configuration are all read from it.
 * Exit codes: 0 success, 1 operational failure, 2 usage or configuration
 * error.
 */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <gmime/gmime.h>
#include <libpq-fe.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "show/show.h"
#include "sink/sink.h"

#ifndef SYSCONFFILE
#define SYSCONFFILE "/etc/dmarc-agent.conf"
#endif

struct command {
	const char	*name;
	const char	*args;		/* what follows the name */
	const char	*what;		/* one line: what it does */
	const char	*usage_text;	/* instead of args and what */
	int		 needs_conf;	/* loaded before the call */
	int		(*fn)(struct cmd_env *, int, char **);
};

static const struct command commands[] = {
	{ "poll", "[MAILBOX...]", "one pass over the configured mailboxes",
	    NULL, 1, cmd_poll },
	{ "run", "", "poll every interval until SIGTERM", NULL, 1, cmd_run },
	{ "ingest", "[-j N] PATH...",
	    "read report files, mail, mbox files and Maildirs from disk", NULL,
	    1, cmd_ingest },
	{ "check-config", "[-v]", "check the configuration file (-v: print it)",
	    NULL, 0, cmd_check_config },
	{ "migrate", "", "create or upgrade the database schema", NULL, 1,
	    cmd_migrate },
	{ "check-db", "", "compare the rollup tables with the records", NULL,
	    1, cmd_check_db },
	{ "enrich", "", "look up the source addresses (DNS, ASN)", NULL, 1,
	    cmd_enrich },
	{ "prune", "[--dry-run]", "delete what is older than the retention",
	    NULL, 1, cmd_prune },
	{ "reparse", "--all | --since YYYY-MM-DD | REPORT_ID...",
	    "re-derive reports from the stored payloads", NULL, 1,
	    cmd_reparse },
	{ "verify", "[--since YYYY-MM-DD]",
	    "check again who sent the kept report mail", NULL, 1, cmd_verify },
	{ "report", NULL, NULL, show_usage, 1, cmd_report },
	{ "oauth2", "login [--port N] [--wait S] MAILBOX | test [MAILBOX...]",
	    "sign in once for a refresh token; try getting tokens", NULL, 1,
	    cmd_oauth2 },
	{ "senders", NULL, NULL, show_senders_usage, 1, cmd_senders },
	{ "alerts", NULL, NULL, alerts_usage, 1, cmd_alerts },
};
#define NCOMMANDS	(sizeof commands / sizeof commands[0])

static const struct option long_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void			 print_command(FILE *, const struct command *);
static void			 print_usage(FILE *);
static dead void		 usage(void);
static int			 version(int, const char *);
static void			 server_version(const char *);
static int			 is_help(const char *);
static int			 command_help(const struct command *);
static const struct command	*find(const char *);
static struct conf		*load(const char *, int);

/* "  name args   what", as one line when it fits, else two. */
static void
print_command(FILE *f, const struct command *c)
{
	char	syn[128];

	if (c->usage_text != NULL) {
		fputs(c->usage_text, f);
		return;
	}
	snprintf(syn, sizeof syn, "%s%s%s", c->name, *c->args != '\0' ?
	    " " : "", c->args);
	if (strlen(syn) < 20)
		fprintf(f, "  %-20s%s\n", syn, c->what);
	else
		fprintf(f, "  %s\n  %-20s%s\n", syn, "", c->what);
}

static void
print_usage(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: dmarc-agent [-c FILE] [-d] [-v] COMMAND [ARG...]\n"
	    "       dmarc-agent -h | --help | -V | --version\n"
	    "       dmarc-agent COMMAND --help\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		print_command(f, &commands[i]);
	fprintf(f, "default configuration: %s\n", SYSCONFFILE);
}

/* A usage error: the usage on stderr, exit 2. */
static void
usage(void)
{
	print_usage(stderr);
	exit(EXIT_USAGE);
}

/*
 * The version; with -v also the libraries' versions, as run (they may
 * differ from those built against).
 */
static int
version(int verbose, const char *conf_file)
{
	const curl_version_info_data	*cv;
	int				 pq = PQlibVersion(), lx;

	printf("dmarc-agent %s\n", PACKAGE_VERSION);
	if (!verbose)
		return (0);
	cv = curl_version_info(CURLVERSION_NOW);
	printf("libcurl %s (%s)\n", cv->version, cv->ssl_version != NULL ?
	    cv->ssl_version : "no TLS");
	printf("GMime %u.%u.%u\n", gmime_major_version, gmime_minor_version,
	    gmime_micro_version);
	lx = atoi(xmlParserVersion);
	printf("libxml2 %d.%d.%d\n", lx / 10000, lx / 100 % 100, lx % 100);
	printf("libpq %d.%d\n", pq / 10000, pq % 10000);
	server_version(conf_file);
	return (0);
}

/*
 * The server's version, when the configuration can be read and the
 * database reached; otherwise why not (on stdout: part of the answer).
 */
static void
server_version(const char *conf_file)
{
	struct conf_msgs	 m;
	struct conf		*c;
	struct sink		*sink;
	char			*cause = NULL;
	int			 v;

	if ((c = conf_load(conf_file, &m)) == NULL) {
		printf("PostgreSQL server: unknown (%s has errors)\n",
		    conf_file);
		conf_msgs_free(&m);
		return;
	}
	conf_msgs_free(&m);
	if ((sink = sink_open(c->conninfo, &cause)) == NULL) {
		printf("PostgreSQL server: unknown (%s)\n", cause);
		free(cause);
	} else {
		v = sink_server_version(sink);
		printf("PostgreSQL server %d.%d\n", v / 10000, v % 10000);
		sink_close(sink);
	}
	conf_free(c);
}

static int
is_help(const char *arg)
{
	return (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0);
}

/* COMMAND --help: its usage on stdout, exit 0. */
static int
command_help(const struct command *cmd)
{
	printf("usage: dmarc-agent [-c FILE] [-d] [-v] COMMAND [ARG...]\n");
	print_command(stdout, cmd);
	printf("default configuration: %s\n", SYSCONFFILE);
	return (0);
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
	int			 ch, verbose = 0, show_version = 0, rc;

	memset(&env, 0, sizeof env);
	env.conf_file = SYSCONFFILE;
	while ((ch = getopt_long(argc, argv, "+c:dhvV", long_options,
	    NULL)) != -1) {
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
		case 'h':
			print_usage(stdout);
			return (0);
		case 'V':
			show_version = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (show_version)
		return (version(verbose, env.conf_file));
	if (argc < 1)
		usage();
	log_init(LOG_TO_STDERR, verbose);
	if ((cmd = find(argv[0])) == NULL) {
		log_warnx("unknown command \"%s\"", argv[0]);
		usage();
	}
	argc--;
	argv++;
	if (argc >= 1 && is_help(argv[0]))
		return (command_help(cmd));
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
