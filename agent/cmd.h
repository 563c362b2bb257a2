/*
 * cmd.h: the commands.  Each returns the process exit code: 0 success, 1 an
 * operational failure (a server unreachable, a mailbox not polled), 2 a
 * usage or configuration error.
 */
#ifndef CMD_H
#define CMD_H

#define EXIT_OPFAIL	1
#define EXIT_USAGE	2

struct conf;

struct cmd_env {
	const char	*conf_file;
	struct conf	*conf;		/* loaded and valid */
	int		 debug;		/* -d: stay on stderr */
};

int	cmd_poll(struct cmd_env *, int, char **);
int	cmd_run(struct cmd_env *, int, char **);
int	cmd_ingest(struct cmd_env *, int, char **);
int	cmd_migrate(struct cmd_env *, int, char **);

#endif
