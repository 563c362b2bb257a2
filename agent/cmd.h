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
#include <stdio.h>

#define EXIT_OPFAIL	1
#define EXIT_USAGE	2

struct conf;
struct deliver_mail;
struct enrich;
struct sink;

struct cmd_env {
	const char	*conf_file;
	struct conf	*conf;		/* loaded and valid; NULL for the
					   commands that load it themselves */
	int		 debug;		/* -d: stay on stderr */
};

int	cmd_alerts(struct cmd_env *, int, char **);
int	cmd_check_config(struct cmd_env *, int, char **);
int	cmd_check_db(struct cmd_env *, int, char **);
int	cmd_enrich(struct cmd_env *, int, char **);
int	cmd_ingest(struct cmd_env *, int, char **);
int	cmd_migrate(struct cmd_env *, int, char **);
int	cmd_oauth2(struct cmd_env *, int, char **);
int	cmd_poll(struct cmd_env *, int, char **);
int	cmd_prune(struct cmd_env *, int, char **);
int	cmd_reparse(struct cmd_env *, int, char **);
int	cmd_report(struct cmd_env *, int, char **);
int	cmd_run(struct cmd_env *, int, char **);
int	cmd_verify(struct cmd_env *, int, char **);
int	cmd_senders(struct cmd_env *, int, char **);

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

/*
 * The alerting pass (cmd-alerts.c), which `run` also makes: evaluate the
 * rules up to until (YYYY-MM-DD, NULL: today), record the alerts, deliver
 * what is owed (not with dry_run), a line per alert and a summary on out
 * when not NULL.  *next: seconds until a failed delivery is due again, -1
 * when none is owed.  0, or -1 when something failed (logged).
 */
int	alerts_pass(const struct conf *, const char *, int, FILE *, long *);
/*
 * The summary mail (cmd-report.c), which `run` sends once per period of
 * the summary group: sent when due, its outcome recorded.  *wait: seconds
 * until it should be looked at again (a retry, the next period), -1
 * without a summary group.  0, or -1 when something failed (logged).
 */
int	summary_pass(const struct conf *, long *);
/* The notify.mail settings for deliver/ (the conf must have them). */
void	alerts_mail_opts(const struct conf *, struct deliver_mail *);
extern const char alerts_usage[];

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
