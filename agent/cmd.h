/*
 * cmd.h: the commands.  Each returns the process exit code: 0 success, 1 an
 * operational failure (a server unreachable, a mailbox not polled), 2 a
 * usage or configuration error.
 */
#ifndef CMD_H
#define CMD_H

#define EXIT_OPFAIL	1
#define EXIT_USAGE	2

#include <time.h>

#include "agent/pipeline.h"

struct conf;
struct conf_mailbox;
struct sink;

struct cmd_env {
	const char	*conf_file;
	struct conf	*conf;		/* loaded and valid */
	int		 debug;		/* -d: stay on stderr */
};

/* What one mailbox poll did. */
struct poll_result {
	struct pipeline_counts	 counts;
	int			 failed;	/* the poll did not complete */
	int			 auth;		/* because the login was refused */
	int			 skipped;	/* another agent was polling it */
	time_t			 start, end;
};

int	poll_one(const struct conf *, const struct conf_mailbox *,
	    struct poll_result *);
struct sink *cmd_sink_connect(const struct conf *, int);
void	cmd_request_quit(void);
void	cmd_clear_quit(void);
int	cmd_quitting(void);
void	fault_init(void);

int	cmd_poll(struct cmd_env *, int, char **);
int	cmd_run(struct cmd_env *, int, char **);
int	cmd_ingest(struct cmd_env *, int, char **);
int	cmd_migrate(struct cmd_env *, int, char **);
int	cmd_reparse(struct cmd_env *, int, char **);
int	cmd_enrich(struct cmd_env *, int, char **);

struct enrich;
struct enrich *enrich_from_conf(const struct conf *);
int	enrich_pass(const struct conf *, struct sink *, struct enrich *,
	    char *, size_t);

#endif
