/*
 * agent.h: what the application's parts share: the commands (cmd-*.c),
 * the poll engine (poll*.c) and the enrichment passes.  The modules below
 * agent/ never include it.
 */
#ifndef AGENT_H
#define AGENT_H

struct conf;
struct sink;

/*
 * Connect to the database and make sure the schema is current, migrating
 * when may_migrate is set.  NULL (logged) on failure.
 */
struct sink *agent_sink_connect(const struct conf *, int may_migrate);

/*
 * The quit flag: set by SIGTERM and SIGINT (poll) or by run's main thread;
 * every loop over messages stops after the message in hand once it is set.
 */
void	agent_quit_request(void);
void	agent_quit_clear(void);
int	agent_quitting(void);
/*
 * Whether writers that can replay a batch write its payloads in one
 * statement (sink_set_sets): yes, unless DMARC_AGENT_SETS=0 (a knob for
 * comparisons and for tests of the payload-by-payload path).
 */
int	agent_sets(void);

#endif
