/*
 * cmd-run.c: `dmarc-agent run`, the service: a scheduler that polls every
 * mailbox every interval until SIGTERM.
 *
 * One poller thread per mailbox, each with its own IMAP and PostgreSQL
 * connections, so a slow or failing mailbox never delays the others.
 * Beside them the enricher, the alerter (the alert rules and their
 * deliveries, the summary mail) and the pruner, each on connections of
 * its own.  A
 * poller polls, then sleeps until its next due time: the mailbox's
 * interval plus a little jitter, or after a failure an exponential backoff
 * (30 s doubling up to an hour; a refused login waits at least 15
 * minutes).
 *
 * Signals are blocked in every thread and taken by the main thread with
 * sigtimedwait, so no handler runs inside library code:
 *   SIGTERM, SIGINT  finish the message in hand, then exit 0;
 *   SIGHUP           re-read the configuration; apply it only when it is
 *                    valid (log included, unless -d), otherwise keep
 *                    running on the old one and log every error;
 *   SIGUSR1          log one status line per mailbox.
 * A reload lets a poll in progress end (SIGTERM still interrupts it), then
 * starts the pollers of the new configuration.  A mailbox whose settings
 * did not change keeps its state: next due time, backoff, failures and
 * history; so a reload, or a storm of them, polls only what is new.  The
 * main thread pings the systemd watchdog on time throughout, also while it
 * waits for a poll to end and however often signals come.  With a
 * retention set, a thread prunes at start and once a day.
 */
#include "config.h"

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
#define IDLE_MS		3600000	/* the main thread's wait without a watchdog */
#define DRAIN_MS	50	/* how often it looks whether threads ended */
#define ALERT_EVERY	3600	/* the alerter's longest sleep, seconds */

/* What a poller knows about its mailbox; kept across reloads. */
struct poller_state {
	unsigned		 seed;
	time_t			 next_due;
	int			 backoff;
	unsigned		 polls, failures_in_row;
	time_t			 last_ok;
	struct poll_result	 last;
};

struct poller {
	const struct conf		*conf;
	const struct conf_mailbox	*mb;
	pthread_t			 thread;
	/* Under sched_lock: */
	int				 busy;
	struct poller_state		 st;
};

/*
 * Enrichment runs in a thread of its own, every enrichment.interval
 * seconds, on its own connection: ingestion never waits for DNS.
 */
struct enricher {
	const struct conf	*conf;
	pthread_t		 thread;
	int			 running;
	time_t			 next_due;	/* under sched_lock */
};

/*
 * Alerts and the summary mail (cmd-alerts.c, cmd-report.c): a thread of
 * their own, on connections of their own, after each poll that stored
 * reports or failed, and at least hourly; sooner when a failed delivery
 * or the summary is due again.
 */
struct alerter {
	const struct conf	*conf;
	pthread_t		 thread;
	int			 running;
	time_t			 next_due;	/* under sched_lock */
};

/*
 * Retention (cmd-prune.c) in a thread of its own, on its own connection:
 * at start, then every PRUNE_SECS, in batches with PRUNE_NAP_MS between
 * two so the polls go on meanwhile.  A pass cut short by a reload is
 * taken up again at once after it.
 */
#define PRUNE_SECS	86400
#define PRUNE_NAP_MS	20
struct pruner {
	const struct conf	*conf;
	pthread_t		 thread;
	int			 running;
	time_t			 next_due;	/* under sched_lock */
};

/* The service: the main thread's view. */
struct run {
	struct cmd_env		*env;
	sigset_t		 set;		/* the signals it takes */
	struct poller		*ps;
	size_t			 n;
	int			 started;	/* ps's threads not joined */
	struct enricher		 en;
	struct alerter		 al;
	struct pruner		 pr;
	uint64_t		 wdusec;	/* ping period; 0: no watchdog */
	struct timespec		 next_ping;	/* CLOCK_MONOTONIC */
};

static pthread_mutex_t	sched_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	sched_cond = PTHREAD_COND_INITIALIZER;
static int		sched_stop;
static unsigned		sched_threads;	/* every thread of the scheduler */
static int		alerter_poked;	/* a poll stored or failed */

static void	*poller_main(void *);
static void	 poller_done(struct poller *, const struct poll_result *);
static struct poller *pollers_carry(const struct poller *, size_t,
		    const struct conf *, const struct conf *, size_t *);
static void	 pollers_start(struct poller *, size_t);
static void	 pollers_status(struct poller *, size_t);
static struct conf *sched_reload(const char *);
static void	 sched_exit(void);
static void	*enricher_main(void *);
static void	 enricher_start(struct enricher *, const struct conf *);
static void	*alerter_main(void *);
static void	 alerter_start(struct alerter *, const struct conf *);
static int	 sched_stopping(void);
static void	*pruner_main(void *);
static void	 pruner_start(struct pruner *, const struct conf *);
static int	 run_wait(struct run *, long);
static int	 run_drain(struct run *, int *);
static int	 run_reload(struct run *);

/* After a poll: the next due time, from the interval or the backoff. */
static void
poller_done(struct poller *p, const struct poll_result *r)
{
	struct poller_state	*st = &p->st;
	char			 line[PIPELINE_LINE];
	int			 delay;

	st->last = *r;
	st->polls++;
	if (!r->failed) {
		st->backoff = 0;
		st->failures_in_row = 0;
		st->last_ok = r->end;
		delay = p->mb->interval + (int)(rand_r(&st->seed) %
		    (unsigned)(p->mb->interval / 10 + 1));
	} else {
		st->failures_in_row++;
		st->backoff = st->backoff == 0 ? BACKOFF_FIRST :
		    st->backoff * 2;
		if (st->backoff > BACKOFF_MAX)
			st->backoff = BACKOFF_MAX;
		if (r->auth && st->backoff < BACKOFF_AUTH)
			st->backoff = BACKOFF_AUTH;
		delay = st->backoff;
		log_info("%s: poll failed %u time(s) in a row, next try in "
		    "%d s", p->mb->name, st->failures_in_row, delay);
	}
	st->next_due = time(NULL) + delay;
	if (r->counts.stored > 0 || r->failed) {
		alerter_poked = 1;
		pthread_cond_broadcast(&sched_cond);
	}
	pipeline_counts_format(&r->counts, line, sizeof line);
	if (r->failed)
		notify_status("%s: poll failed; next poll in %d s",
		    p->mb->name, delay);
	else
		notify_status("%s: polled: %s; next poll in %d s",
		    p->mb->name, line, delay);
}

/* A thread leaves the scheduler (under sched_lock). */
static void
sched_exit(void)
{
	sched_threads--;
	pthread_mutex_unlock(&sched_lock);
}

static void *
poller_main(void *arg)
{
	struct poller		*p = arg;
	struct poll_result	 r;
	struct timespec		 ts;

	pthread_mutex_lock(&sched_lock);
	while (!sched_stop) {
		if (time(NULL) < p->st.next_due) {
			ts.tv_sec = p->st.next_due;
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
	sched_exit();
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

	e = ipinfo_resolver(en->conf);
	pthread_mutex_lock(&sched_lock);
	while (e != NULL && !sched_stop) {
		if (time(NULL) < en->next_due) {
			ts.tv_sec = en->next_due;
			ts.tv_nsec = 0;
			pthread_cond_timedwait(&sched_cond, &sched_lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&sched_lock);
		if ((sink = agent_sink_connect(en->conf, 0)) != NULL) {
			if (ipinfo_pass(en->conf, sink, e, line,
			    sizeof line) == 0)
				log_info("enrichment: %s", line);
			sink_close(sink);
		}
		pthread_mutex_lock(&sched_lock);
		en->next_due = time(NULL) + en->conf->enrich.interval;
	}
	sched_exit();
	if (e != NULL)
		enrich_free(e);
	return (NULL);
}

/*
 * Start the enricher on conf (no thread is running).  Its next pass stays
 * due when it was, or sooner when the new interval is shorter.
 */
static void
enricher_start(struct enricher *en, const struct conf *conf)
{
	time_t	soonest = time(NULL) + conf->enrich.interval;

	en->conf = conf;
	en->running = 0;
	if (!conf->enrich.enabled)
		return;
	if (en->next_due > soonest)
		en->next_due = soonest;
	sched_threads++;
	if (pthread_create(&en->thread, NULL, enricher_main, en) != 0)
		fatalx("pthread_create failed");
	en->running = 1;
}

static void *
alerter_main(void *arg)
{
	struct alerter	*al = arg;
	struct timespec	 ts;
	long		 a, b, wait;

	pthread_mutex_lock(&sched_lock);
	while (!sched_stop) {
		if (!alerter_poked && time(NULL) < al->next_due) {
			ts.tv_sec = al->next_due;
			ts.tv_nsec = 0;
			pthread_cond_timedwait(&sched_cond, &sched_lock, &ts);
			continue;
		}
		alerter_poked = 0;
		pthread_mutex_unlock(&sched_lock);
		alerts_pass(al->conf, NULL, 0, NULL, &a);
		summary_pass(al->conf, &b);
		wait = ALERT_EVERY;
		if (a >= 0 && a < wait)
			wait = a;
		if (b >= 0 && b < wait)
			wait = b;
		pthread_mutex_lock(&sched_lock);
		al->next_due = time(NULL) + (wait > 0 ? wait : 1);
	}
	sched_exit();
	return (NULL);
}

/* Start the alerter on conf (no thread is running); it keeps its due time. */
static void
alerter_start(struct alerter *al, const struct conf *conf)
{
	al->conf = conf;
	sched_threads++;
	if (pthread_create(&al->thread, NULL, alerter_main, al) != 0)
		fatalx("pthread_create failed");
	al->running = 1;
}

/* Whether the threads are asked to stop (between two prune batches). */
static int
sched_stopping(void)
{
	int	stop;

	pthread_mutex_lock(&sched_lock);
	stop = sched_stop;
	pthread_mutex_unlock(&sched_lock);
	return (stop || agent_quitting());
}

static void *
pruner_main(void *arg)
{
	struct pruner	*pr = arg;
	struct sink	*sink;
	struct timespec	 ts;
	int		 rc;

	pthread_mutex_lock(&sched_lock);
	while (!sched_stop) {
		if (time(NULL) < pr->next_due) {
			ts.tv_sec = pr->next_due;
			ts.tv_nsec = 0;
			pthread_cond_timedwait(&sched_cond, &sched_lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&sched_lock);
		rc = -1;
		if ((sink = agent_sink_connect(pr->conf, 0)) != NULL) {
			rc = prune_pass(pr->conf, sink, 0, PRUNE_NAP_MS,
			    sched_stopping, NULL);
			sink_close(sink);
		}
		pthread_mutex_lock(&sched_lock);
		if (rc != 1)
			pr->next_due = time(NULL) + PRUNE_SECS;
	}
	sched_exit();
	return (NULL);
}

/* Start the pruner on conf when it sets a retention (no thread runs). */
static void
pruner_start(struct pruner *pr, const struct conf *conf)
{
	pr->conf = conf;
	pr->running = 0;
	if (!prune_wanted(conf))
		return;
	sched_threads++;
	if (pthread_create(&pr->thread, NULL, pruner_main, pr) != 0)
		fatalx("pthread_create failed");
	pr->running = 1;
}

/*
 * The pollers of nc.  A mailbox whose settings, and the database's, are
 * what they were in oc takes over its old poller's state (next due time,
 * backoff, failures, history); an added or changed one starts afresh and
 * polls at once.  *kept counts the first kind.
 */
static struct poller *
pollers_carry(const struct poller *old, size_t nold, const struct conf *oc,
    const struct conf *nc, size_t *kept)
{
	struct poller	*ps;
	size_t		 i, j;
	time_t		 now = time(NULL);

	*kept = 0;
	if (nc->nmailboxes == 0)
		return (NULL);
	ps = xcalloc(nc->nmailboxes, sizeof *ps);
	for (i = 0; i < nc->nmailboxes; i++) {
		ps[i].conf = nc;
		ps[i].mb = &nc->mailboxes[i];
		ps[i].st.seed = (unsigned)now ^ (unsigned)(i * 7919);
		for (j = 0; j < nold; j++)
			if (strcmp(old[j].mb->name, ps[i].mb->name) == 0)
				break;
		if (j == nold || strcmp(oc->conninfo, nc->conninfo) != 0 ||
		    !conf_mailbox_equal(old[j].mb, ps[i].mb))
			continue;
		ps[i].st = old[j].st;
		(*kept)++;
	}
	return (ps);
}

/* Start a thread per poller (no thread is running); each polls when due. */
static void
pollers_start(struct poller *ps, size_t n)
{
	size_t	i;

	sched_stop = 0;
	for (i = 0; i < n; i++) {
		sched_threads++;
		if (pthread_create(&ps[i].thread, NULL, poller_main,
		    &ps[i]) != 0)
			fatalx("pthread_create failed");
	}
}

static void
pollers_status(struct poller *ps, size_t n)
{
	const struct poller_state	*st;
	char				 line[PIPELINE_LINE], when[32], next[48];
	size_t				 i;
	time_t				 now = time(NULL);

	pthread_mutex_lock(&sched_lock);
	for (i = 0; i < n; i++) {
		st = &ps[i].st;
		pipeline_counts_format(&st->last.counts, line, sizeof line);
		if (st->last_ok != 0)
			snprintf(when, sizeof when, "%lds ago",
			    (long)(now - st->last_ok));
		else
			snprintf(when, sizeof when, "never");
		if (ps[i].busy)
			next[0] = '\0';
		else
			snprintf(next, sizeof next, ", next poll in %lds",
			    st->next_due > now ? (long)(st->next_due - now) :
			    0L);
		log_warnx("status: %s: %s; %u polls, last success %s, "
		    "%u failures in a row%s; last poll: %s", ps[i].mb->name,
		    ps[i].busy ? "polling" : "waiting", st->polls, when,
		    st->failures_in_row, next, st->polls != 0 ? line : "-");
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
 * Wait at most ms for one of the signals; ping the watchdog whenever its
 * period is over, however often signals come.  The signal, or 0.
 */
static int
run_wait(struct run *r, long ms)
{
	struct timespec	 now, ts;
	long		 left;
	int		 sig;

	if (r->wdusec != 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (r->next_ping.tv_sec - now.tv_sec) * 1000 +
		    (r->next_ping.tv_nsec - now.tv_nsec) / 1000000;
		if (left <= 0) {
			notify_watchdog();
			r->next_ping.tv_sec = now.tv_sec +
			    (time_t)(r->wdusec / 1000000);
			r->next_ping.tv_nsec = now.tv_nsec +
			    (long)(r->wdusec % 1000000) * 1000;
			if (r->next_ping.tv_nsec >= 1000000000) {
				r->next_ping.tv_sec++;
				r->next_ping.tv_nsec -= 1000000000;
			}
			left = (long)(r->wdusec / 1000);
		}
		if (left < ms)
			ms = left > 0 ? left : 1;
	}
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	sig = sigtimedwait(&r->set, NULL, &ts);
	return (sig == -1 ? 0 : sig);
}

/*
 * Ask every thread to stop once it is between two polls (or passes), and
 * wait for them, taking signals meanwhile: SIGTERM or SIGINT also asks the
 * poll in hand to stop after its message, SIGUSR1 logs the status, SIGHUP
 * sets *again.  Returns the quit signal that came, or 0.
 */
static int
run_drain(struct run *r, int *again)
{
	size_t	i;
	int	sig, quit = 0;

	if (!r->started)
		return (0);
	pthread_mutex_lock(&sched_lock);
	sched_stop = 1;
	pthread_cond_broadcast(&sched_cond);
	while (sched_threads != 0) {
		pthread_mutex_unlock(&sched_lock);
		sig = run_wait(r, DRAIN_MS);
		if (sig == SIGTERM || sig == SIGINT) {
			agent_quit_request();
			quit = sig;
		} else if (sig == SIGUSR1)
			pollers_status(r->ps, r->n);
		else if (sig == SIGHUP)
			*again = 1;
		pthread_mutex_lock(&sched_lock);
	}
	pthread_mutex_unlock(&sched_lock);
	for (i = 0; i < r->n; i++)
		pthread_join(r->ps[i].thread, NULL);
	if (r->en.running)
		pthread_join(r->en.thread, NULL);
	r->en.running = 0;
	if (r->al.running)
		pthread_join(r->al.thread, NULL);
	r->al.running = 0;
	if (r->pr.running)
		pthread_join(r->pr.thread, NULL);
	r->pr.running = 0;
	r->started = 0;
	return (quit);
}

/*
 * SIGHUP: when the file is valid, let the threads end what they are
 * doing, then start those of the new configuration, unchanged mailboxes
 * where they stood.  Again when another SIGHUP came meanwhile (the file
 * may have changed since it was read).  The quit signal that came while
 * waiting, or 0.
 */
static int
run_reload(struct run *r)
{
	struct conf	*nc;
	struct poller	*ps;
	size_t		 kept;
	int		 again, sig;

	do {
		again = 0;
		if ((nc = sched_reload(r->env->conf_file)) == NULL)
			return (0);
		notify_status("reloading %s", r->env->conf_file);
		if ((sig = run_drain(r, &again)) != 0) {
			conf_free(nc);
			return (sig);
		}
		ps = pollers_carry(r->ps, r->n, r->env->conf, nc, &kept);
		free(r->ps);
		conf_free(r->env->conf);
		r->env->conf = nc;
		r->ps = ps;
		r->n = nc->nmailboxes;
		pipeline_verify_setup(nc);
		/* No other thread logs now: switching is safe. */
		if (!r->env->debug)
			log_init(nc->log_syslog ? LOG_TO_SYSLOG :
			    LOG_TO_STDERR, log_getverbose());
		pollers_start(r->ps, r->n);
		enricher_start(&r->en, nc);
		alerter_start(&r->al, nc);
		pruner_start(&r->pr, nc);
		r->started = 1;
		log_warnx("reload: %s applied, %zu mailbox(es) (%zu unchanged "
		    "keep their schedule)", r->env->conf_file, r->n, kept);
	} while (again);
	return (0);
}

/*
 * run: poll every mailbox every interval seconds until SIGTERM or SIGINT.
 * The configuration in env is replaced on a valid SIGHUP reload.
 */
int
cmd_run(struct cmd_env *env, int argc, char **argv)
{
	struct run	 r;
	struct sink	*sink;
	size_t		 kept;
	int		 sig, again;

	if (argc != 0 || env->conf->nmailboxes == 0) {
		log_warnx(argc != 0 ? "usage: dmarc-agent run" :
		    "run: no mailboxes in %s", env->conf_file);
		return (EXIT_USAGE);
	}
	if ((sink = agent_sink_connect(env->conf, env->conf->auto_migrate)) ==
	    NULL)
		return (EXIT_OPFAIL);
	sink_close(sink);
	memset(&r, 0, sizeof r);
	r.env = env;
	sigemptyset(&r.set);
	sigaddset(&r.set, SIGTERM);
	sigaddset(&r.set, SIGINT);
	sigaddset(&r.set, SIGHUP);
	sigaddset(&r.set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &r.set, NULL);
	poll_fault_init();
	pipeline_init();
	pipeline_verify_setup(env->conf);
	r.ps = pollers_carry(NULL, 0, NULL, env->conf, &kept);
	r.n = env->conf->nmailboxes;
	pollers_start(r.ps, r.n);
	enricher_start(&r.en, env->conf);
	alerter_start(&r.al, env->conf);
	pruner_start(&r.pr, env->conf);
	r.started = 1;
	log_info("run: polling %zu mailbox(es)", r.n);
	notify_ready();
	/* With a systemd watchdog, ping it twice per interval. */
	r.wdusec = notify_watchdog_usec() / 2;
	for (;;) {
		if ((sig = run_wait(&r, IDLE_MS)) == 0)
			continue;
		if (sig == SIGUSR1)
			pollers_status(r.ps, r.n);
		else if (sig == SIGHUP)
			sig = run_reload(&r);
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	log_info("run: signal %d received, finishing", sig);
	notify_stopping();
	agent_quit_request();
	run_drain(&r, &again);
	free(r.ps);
	pipeline_shutdown();
	return (0);
}
