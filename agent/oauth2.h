/*
 * oauth2.h: the agent's side of oauth/: a mailbox's oauth2 group as the
 * module's options, one token source per mailbox kept for the life of
 * the process (so a token is got once and used until it is about to
 * expire, whatever the number of polls), and what check-config loads.
 */
#ifndef OAUTH2_H
#define OAUTH2_H

#include "imap/imap.h"
#include "oauth/oauth.h"

struct conf;
struct conf_mailbox;
struct conf_msgs;

/* The oauth options of mb (strings borrowed from the configuration). */
void	oauth2_opts(const struct conf *, const struct conf_mailbox *,
	    struct oauth_opts *);

/*
 * The bearer token of mb for its next login: from its oauth2 group (the
 * cached one, or a new one when it is old or renew is set: the server
 * refused it), else from oauth2_token_file or oauth2_token_command
 * (conf_oauth2_token).  NULL with *cause and *cls (IMAP_AUTH: a refused
 * or unusable credential; IMAP_RETRY: the endpoint out of reach) on
 * failure; NULL without a cause when mb uses no token.  Safe from several
 * threads at once.  The caller frees the token (explicit_bzero first).
 */
char	*oauth2_token(const struct conf *, const struct conf_mailbox *,
	    int renew, enum imap_class *, char **);

/*
 * check-config: load what each oauth2 group names (keys, certificates,
 * the service account file), without the network; every problem is added
 * to msgs as an error at the group's line.  0, or -1 when any was added.
 */
int	oauth2_check(const struct conf *, struct conf_msgs *);

#endif
