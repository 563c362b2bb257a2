/*
 * cmd-run.c: `dmarc-agent run`, the service: a scheduler that polls every
 * mailbox every interval until SIGTERM.
 *
 * One poller thread per mailbox, each with its own IMAP and PostgreSQL
 * connections, so a slow or failing mailbox never delays the others.  A
 * poller polls, then sleeps until its next due time: the mailbox's
 * interval plus a little jitter, or after a failure an exponential backoff
 * (30 s doubling up to an hour; a refused login waits at least 15
 * minutes).
 *
 * Signals are blocked in every thread and taken by the main thread with
 * sigwait, so no handler runs inside library code:
 *   SIGTERM, SIGINT  finish the message in hand, then exit 0;
 *   SIGHUP           re-read the configuration; apply it only when it is
 *                    valid (log included, unless -d), otherwise keep
 *                    running on the old one and log every error;
 *   SIGUSR1          log one status line per mailbox.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "agent/agent.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "agent/notify.h"
#include "agent/pipeline.h"
#include "agent/poll.h"
#include "enrich/enrich.h"
#include "sink/sink.h"

#define BACKOFF_FIRST	30
#define BACKOFF_MAX	3600
#define BACKOFF_AUTH	900

struct poller {
	const struct conf		*conf;
	const struct conf_mailbox	*mb;
	pthread_t			 thread;
	unsigned			 seed;
	/* Under sched_lock: */
	time_t				 next_due;
	int				 backoff;
	int				 busy;
	unsigned			 polls, failures_in_row;
	time_t				 last_ok;
	struct poll_result		 last;
};

/*
 * Enrichment runs in a thread of its own, every enrichment.interval
 * seconds, on its own connection: ingestion never waits for DNS.
 */
struct enricher {
	const struct conf	*conf;
	pthread_t		 thread;
	int			 running;
};

static pthread_mutex_t	sched_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	sched_cond = PTHREAD_COND_INITIALIZER;
static int		sched_stop;

static void	*poller_main(void *);
static void	 poller_done(struct poller *, const struct poll_result *);
static int	 pollers_start(struct poller *, size_t, const struct conf *);
static void	 pollers_stop(struct poller *, size_t);
static void	 pollers_status(struct poller *, size_t);
static struct conf *sched_reload(const char *);
static void	*enricher_main(void *);
static void	 enricher_start(struct enricher *, const struct conf *);
static void	 enricher_stop(struct enricher *);

/* After a poll: the next due time, from the interval or the backoff. */
static void
poller_done(struct poller *p, const struct poll_result *r)
{
	char	 line[PIPELINE_LINE];
	int	 delay;

	p->last = *r;
	p->polls++;
	if (!r->failed) {
		p->backoff = 0;
		p->failures_in_row = 0;
		p->last_ok = r->end;
		delay = p->mb->interval + (int)(rand_r(&p->seed) %
		    (unsigned)(p->mb->interval / 10 + 1));
	} else {
		p->failures_in_row++;
		p->backoff = p->backoff == 0 ? BACKOFF_FIRST : p->backoff * 2;
		if (p->backoff > BACKOFF_MAX)
			p->backoff = BACKOFF_MAX;
		if (r->auth && p->backoff < BACKOFF_AUTH)
			p->backoff = BACKOFF_AUTH;
		delay = p->backoff;
		log_info("%s: poll failed %u time(s) in a row, next try in "
		    "%d s", p->mb->name, p->failures_in_row, delay);
	}
	p->next_due = time(NULL) + delay;
	pipeline_counts_format(&r->counts, line, sizeof line);
	if (r->failed)
		notify_status("%s: poll failed; next poll in %d s",
		    p->mb->name, delay);
	else
		notify_status("%s: polled: %s; next poll in %d s",
		    p->mb->name, line, delay);
}

static void *
poller_main(void *arg)
{
	struct poller		*p = arg;
	struct poll_result	 r;
	struct timespec		 ts;

	pthread_mutex_lock(&sched_lock);
	while (!sched_stop) {
		if (time(NULL) < p->next_due) {
			ts.tv_sec = p->next_due;
			ts.tv_nsec = 0;
			pthread_cond_timedwait(&sched_cond, &sched_lock, &ts);
			continue;
		}
		p->busy = 1;
		pthread_mutex_unlock(&sched_lock);
		poll_mailbox(p->conf, p->mb, NULL, &r);
		pthread_mutex_lock(&sched_lock);
		p->busy = 0;
		poller_done(p, &r);
	}
	pthread_mutex_unlock(&sched_lock);
	return (NULL);
}

static void *
enricher_main(void *arg)
{
	struct enricher	*en = arg;
	struct enrich	*e;
	struct sink	*sink;
	struct timespec	 ts;
	char		 line[256];

	if ((e = ipinfo_resolver(en->conf)) == NULL)
		return (NULL);
	pthread_mutex_lock(&sched_lock);
	while (!sched_stop) {
		pthread_mutex_unlock(&sched_lock);
		if ((sink = agent_sink_connect(en->conf, 0)) != NULL) {
			if (ipinfo_pass(en->conf, sink, e, line,
			    sizeof line) == 0)
				log_info("enrichment: %s", line);
			sink_close(sink);
		}
		pthread_mutex_lock(&sched_lock);
		ts.tv_sec = time(NULL) + en->conf->enrich.interval;
		ts.tv_nsec = 0;
		while (!sched_stop && pthread_cond_timedwait(&sched_cond,
		    &sched_lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&sched_lock);
	enrich_free(e);
	return (NULL);
}

static void
enricher_start(struct enricher *en, const struct conf *conf)
{
	en->conf = conf;
	en->running = 0;
	if (!conf->enrich.enabled)
		return;
	if (pthread_create(&en->thread, NULL, enricher_main, en) != 0)
		fatalx("pthread_create failed");
	en->running = 1;
}

/* After pollers_stop (sched_stop is set and broadcast). */
static void
enricher_stop(struct enricher *en)
{
	if (en->running)
		pthread_join(en->thread, NULL);
	en->running = 0;
}

/* Start one poller per mailbox; each polls at once. */
static int
pollers_start(struct poller *ps, size_t n, const struct conf *conf)
{
	size_t	i;

	sched_stop = 0;
	for (i = 0; i < n; i++) {
		ps[i].conf = conf;
		ps[i].mb = &conf->mailboxes[i];
		ps[i].seed = (unsigned)time(NULL) ^ (unsigned)(i * 7919);
		if (pthread_create(&ps[i].thread, NULL, poller_main,
		    &ps[i]) != 0)
			fatalx("pthread_create failed");
	}
	return (0);
}

/* Ask every poller to stop after the message in hand, and wait. */
static void
pollers_stop(struct poller *ps, size_t n)
{
	size_t	i;

	pthread_mutex_lock(&sched_lock);
	sched_stop = 1;
	pthread_cond_broadcast(&sched_cond);
	pthread_mutex_unlock(&sched_lock);
	agent_quit_request();
	for (i = 0; i < n; i++)
		pthread_join(ps[i].thread, NULL);
}

static void
pollers_status(struct poller *ps, size_t n)
{
	char	 line[PIPELINE_LINE], when[32];
	size_t	 i;
	time_t	 now = time(NULL);

	pthread_mutex_lock(&sched_lock);
	for (i = 0; i < n; i++) {
		pipeline_counts_format(&ps[i].last.counts, line, sizeof line);
		if (ps[i].last_ok != 0)
			snprintf(when, sizeof when, "%lds ago",
			    (long)(now - ps[i].last_ok));
		else
			snprintf(when, sizeof when, "never");
		log_warnx("status: %s: %s; %u polls, last success %s, "
		    "%u failures in a row; last poll: %s", ps[i].mb->name,
		    ps[i].busy ? "polling" : "waiting", ps[i].polls, when,
		    ps[i].failures_in_row, ps[i].polls != 0 ? line : "-");
	}
	pthread_mutex_unlock(&sched_lock);
}

/* Load the file again; NULL (every error logged) when it is not valid. */
static struct conf *
sched_reload(const char *file)
{
	struct conf	*c;

	if ((c = conf_load_logged(file, "reload: ")) == NULL)
		log_warnx("reload: %s has errors; still running on the "
		    "configuration loaded before", file);
	return (c);
}

/*
 * run: poll every mailbox every interval seconds until SIGTERM or SIGINT.
 * The configuration in env is replaced on a valid SIGHUP reload.
 */
int
cmd_run(struct cmd_env *env, int argc, char **argv)
{
	struct poller	*ps;
	struct enricher	 en;
	struct sink	*sink;
	struct conf	*nc;
	struct timespec	 wd;
	sigset_t	 set;
	uint64_t	 wdusec;
	size_t		 n;
	int		 sig;

	if (argc != 0 || env->conf->nmailboxes == 0) {
		log_warnx(argc != 0 ? "usage: dmarc-agent run" :
		    "run: no mailboxes in %s", env->conf_file);
		return (EXIT_USAGE);
	}
	if ((sink = agent_sink_connect(env->conf, env->conf->auto_migrate)) ==
	    NULL)
		return (EXIT_OPFAIL);
	sink_close(sink);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	poll_fault_init();
	pipeline_init();
	n = env->conf->nmailboxes;
	ps = xcalloc(n, sizeof *ps);
	pollers_start(ps, n, env->conf);
	enricher_start(&en, env->conf);
	log_info("run: polling %zu mailbox(es)", n);
	notify_ready();
	/* With a systemd watchdog, wake up twice per interval to ping it. */
	wdusec = notify_watchdog_usec() / 2;
	wd.tv_sec = wdusec != 0 ? (time_t)(wdusec / 1000000) : 3600;
	wd.tv_nsec = wdusec != 0 ? (long)(wdusec % 1000000) * 1000 : 0;
	for (;;) {
		if ((sig = sigtimedwait(&set, NULL, &wd)) == -1) {
			if (wdusec != 0)
				notify_watchdog();
			continue;
		}
		if (sig == SIGUSR1) {
			pollers_status(ps, n);
			continue;
		}
		if (sig != SIGHUP)
			break;
		if ((nc = sched_reload(env->conf_file)) == NULL)
			continue;
		notify_status("reloading %s", env->conf_file);
		pollers_stop(ps, n);
		enricher_stop(&en);
		conf_free(env->conf);
		env->conf = nc;
		/* No other thread logs now: switching is safe. */
		if (!env->debug)
			log_init(nc->log_syslog ? LOG_TO_SYSLOG :
			    LOG_TO_STDERR, log_getverbose());
		free(ps);
		n = nc->nmailboxes;
		ps = n != 0 ? xcalloc(n, sizeof *ps) : NULL;
		agent_quit_clear();
		pollers_start(ps, n, nc);
		enricher_start(&en, nc);
		log_warnx("reload: %s applied, %zu mailbox(es)",
		    env->conf_file, n);
	}
	log_info("run: signal %d received, finishing", sig);
	notify_stopping();
	pollers_stop(ps, n);
	enricher_stop(&en);
	free(ps);
	pipeline_shutdown();
	return (0);
}
