/*
 * cmd.h: the commands, one file each (cmd-*.c), dispatched from the table
 * in main.c.  Each returns the process exit code: 0 success, 1 an
 * operational failure (a server unreachable, a mailbox not polled), 2 a
 * usage or configuration error.
 */
#ifndef CMD_H
#define CMD_H

#include <stddef.h>
#include <stdint.h>

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
int	cmd_oauth2(struct cmd_env *, int, char **);
int	cmd_poll(struct cmd_env *, int, char **);
int	cmd_reparse(struct cmd_env *, int, char **);
int	cmd_report(struct cmd_env *, int, char **);
int	cmd_run(struct cmd_env *, int, char **);
int	cmd_verify(struct cmd_env *, int, char **);

/*
 * The enrichment pass (cmd-enrich.c), which `run` also makes in the
 * background: ipinfo_open builds the resolver from the configuration
 * (NULL with *cause when it cannot: a malformed resolver, a file that is no
 * MaxMind database), ipinfo_resolver the same with the cause logged;
 * ipinfo_pass looks up the addresses that need it and stores the results,
 * with a summary line in the buffer.
 */
struct enrich *ipinfo_open(const struct conf *, char **);
struct enrich *ipinfo_resolver(const struct conf *);
int	ipinfo_pass(const struct conf *, struct sink *, struct enrich *,
	    char *, size_t);

/*
 * Check kept report mail again (cmd-verify.c): verify_stored one message
 * (*what: "verified", "unverified", "forged", "kept" or "none"),
 * verify_payload the message that delivered a payload (reparse).  -1
 * with *cause when the database failed.
 */
int	verify_stored(struct sink *, const struct conf *, int64_t,
	    const char **, char **);
int	verify_payload(struct sink *, const struct conf *, int64_t, char **);

#endif
