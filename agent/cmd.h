/*
 * cmd.h: the commands, one file each (cmd-*.c), dispatched from the table
 * in main.c.  Each returns the process exit code: 0 success, 1 an
 * operational failure (a server unreachable, a mailbox not polled), 2 a
 * usage or configuration error.
 */
#ifndef CMD_H
#define CMD_H

#include <stddef.h>
#include <stdio.h>

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
int	cmd_enrich(struct cmd_env *, int, char **);
int	cmd_ingest(struct cmd_env *, int, char **);
int	cmd_migrate(struct cmd_env *, int, char **);
int	cmd_poll(struct cmd_env *, int, char **);
int	cmd_prune(struct cmd_env *, int, char **);
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

/*
 * Retention (cmd-prune.c), which `run` also applies once a day:
 * prune_wanted says whether the configuration sets any; prune_pass
 * deletes (or with dry set, counts) what is older, napping nap_ms between
 * two batches, with a line per kind on out (NULL: the log); it returns 1
 * when stop (NULL: agent_quitting) told it to stop between two batches.
 */
int	prune_wanted(const struct conf *);
int	prune_pass(const struct conf *, struct sink *, int dry, long nap_ms,
	    int (*stop)(void), FILE *out);

#endif
