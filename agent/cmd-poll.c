/*
 * cmd-poll.c: `dmarc-agent poll [MAILBOX...]`, one pass over the selected
 * mailboxes, each in its own thread on its own connections, so that a
 * slow or failing mailbox does not hold up the others.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "agent/agent.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "agent/pipeline.h"
#include "agent/poll.h"
#include "sink/sink.h"

struct poll_job {
	const struct conf		*conf;
	const struct conf_mailbox	*mb;
	struct sink			*sink;	/* NULL: connect */
	struct poll_result		 res;
	pthread_t			 thread;
};

static void	on_quit_signal(int);
static void	*poll_thread(void *);

static void
on_quit_signal(int sig)
{
	agent_quit_request();
}

static void *
poll_thread(void *arg)
{
	struct poll_job	*job = arg;

	poll_mailbox(job->conf, job->mb, job->sink, &job->res);
	return (NULL);
}

/*
 * poll: one pass over the selected mailboxes, each in its own thread on
 * its own connections, so a slow or failing mailbox does not hold up the
 * others.  The lines come out in configuration order.
 */
int
cmd_poll(struct cmd_env *env, int argc, char **argv)
{
	struct poll_job		*jobs;
	struct sink		*sink;
	struct sigaction	 sa;
	size_t			 i, n = 0;
	int			 j, failed = 0;
	char			 line[PIPELINE_LINE];

	for (j = 0; j < argc; j++)
		if (conf_find_mailbox(env->conf, argv[j]) == NULL) {
			log_warnx("poll: no mailbox named \"%s\" in %s",
			    argv[j], env->conf_file);
			return (EXIT_USAGE);
		}
	if (env->conf->nmailboxes == 0) {
		log_warnx("poll: no mailboxes in %s", env->conf_file);
		return (EXIT_USAGE);
	}
	/* The connection that checked the schema polls the first mailbox. */
	if ((sink = agent_sink_connect(env->conf, env->conf->auto_migrate)) ==
	    NULL)
		return (EXIT_OPFAIL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_quit_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	poll_fault_init();
	pipeline_init();
	pipeline_verify_setup(env->conf);
	jobs = xcalloc(env->conf->nmailboxes, sizeof *jobs);
	for (i = 0; i < env->conf->nmailboxes; i++) {
		const struct conf_mailbox *mb = &env->conf->mailboxes[i];

		for (j = 0; j < argc; j++)
			if (strcmp(argv[j], mb->name) == 0)
				break;
		if (argc != 0 && j == argc)
			continue;
		jobs[n].conf = env->conf;
		jobs[n].mb = mb;
		jobs[n].sink = sink;
		sink = NULL;
		if (pthread_create(&jobs[n].thread, NULL, poll_thread,
		    &jobs[n]) != 0)
			fatalx("pthread_create failed");
		n++;
	}
	for (i = 0; i < n; i++) {
		pthread_join(jobs[i].thread, NULL);
		pipeline_counts_format(&jobs[i].res.counts, line, sizeof line);
		printf("%s: %s%s\n", jobs[i].mb->name, line,
		    jobs[i].res.skipped ? " (skipped: another agent is "
		    "polling it)" : "");
		failed |= jobs[i].res.failed;
	}
	fflush(stdout);
	free(jobs);
	if (sink != NULL)
		sink_close(sink);
	pipeline_shutdown();
	return (failed ? EXIT_OPFAIL : 0);
}
