/*
 * cmd.h: the commands, one file each (cmd-*.c), dispatched from the table
 * in main.c.  Each returns the process exit code: 0 success, 1 an
 * operational failure (a server unreachable, a mailbox not polled), 2 a
 * usage or configuration error.
 */
#ifndef CMD_H
#define CMD_H

#include <stddef.h>

#define EXIT_OPFAIL	1
#define EXIT_USAGE	2

struct conf;
struct enrich;
struct sink;

struct cmd_env {
	const char	*conf_file;
	struct conf	*conf;		/* loaded and valid; NULL for the
					   commands that load it themselves */
	int		 debug;		/* -d: stay on stderr */
};

int	cmd_check_config(struct cmd_env *, int, char **);
int	cmd_check_db(struct cmd_env *, int, char **);
int	cmd_enrich(struct cmd_env *, int, char **);
int	cmd_ingest(struct cmd_env *, int, char **);
int	cmd_migrate(struct cmd_env *, int, char **);
int	cmd_poll(struct cmd_env *, int, char **);
int	cmd_reparse(struct cmd_env *, int, char **);
int	cmd_report(struct cmd_env *, int, char **);
int	cmd_run(struct cmd_env *, int, char **);

/*
 * The enrichment pass (cmd-enrich.c), which `run` also makes in the
 * background: ipinfo_resolver builds the resolver from the configuration
 * (NULL, logged, when it cannot); ipinfo_pass looks up the addresses that
 * need it and stores the results, with a summary line in the buffer.
 */
struct enrich *ipinfo_resolver(const struct conf *);
int	ipinfo_pass(const struct conf *, struct sink *, struct enrich *,
	    char *, size_t);

#endif
