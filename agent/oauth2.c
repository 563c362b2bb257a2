/*
 * oauth2.c: the agent's side of oauth/.
 *
 * One struct oauth per mailbox name, made at its first login and kept
 * until the process ends, so that the access token is got once and used
 * by every poll until it is about to expire.  A SIGHUP reload makes new
 * struct conf_mailbox values: the entry is found again by name and kept
 * while the mailbox's oauth2 settings are the same, replaced when they
 * changed.  Each entry has its own lock: two mailboxes get their tokens
 * at once, one mailbox never twice at once.
 */
#include "config.h"

#include <sys/types.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "agent/conf.h"
#include "agent/oauth2.h"
#include "agent/poll_p.h"
#include "imap/imap.h"
#include "oauth/oauth.h"

struct oauth2_entry {
	char			*name;
	char			*settings;	/* what oa was made of */
	struct oauth		*oa;
	pthread_mutex_t		 lock;
	struct oauth2_entry	*next;
};

static pthread_mutex_t		 oauth2_lock = PTHREAD_MUTEX_INITIALIZER;
static struct oauth2_entry	*oauth2_cache;

static char	*settings(const struct oauth_opts *);
static struct oauth2_entry *entry_get(const struct oauth_opts *);

void
oauth2_opts(const struct conf *conf, const struct conf_mailbox *mb,
    struct oauth_opts *o)
{
	const struct conf_oauth2	*c = &mb->oauth2;

	memset(o, 0, sizeof *o);
	o->name = mb->name;
	o->provider = (enum oauth_provider)c->provider;	/* same order */
	o->flow = (enum oauth_flow)c->flow;
	o->tenant = c->tenant;
	o->client_id = c->client_id;
	o->client_secret_file = c->client_secret_file;
	o->client_certificate_file = c->client_certificate_file;
	o->client_key_file = c->client_key_file;
	o->service_account_file = c->service_account_file;
	o->refresh_token_file = c->refresh_token_file;
	o->token_url = c->token_url;
	o->device_url = c->device_url;
	o->auth_url = c->auth_url;
	o->scope = c->scope;
	o->ca_file = c->ca_file;
	o->username = mb->username;
	o->timeout = (long)conf->limits.timeout;
	if (poll_tuning.fault == FAULT_IN_ROTATION)
		o->fault_rotate = 1;
	else if (poll_tuning.fault == FAULT_AFTER_ROTATION)
		o->fault_rotate = 2;
}

/* Every setting of o as one string, to tell a changed mailbox. */
static char *
settings(const struct oauth_opts *o)
{
	const char	*v[] = { o->tenant, o->client_id, o->client_secret_file,
	    o->client_certificate_file, o->client_key_file,
	    o->service_account_file, o->refresh_token_file, o->token_url,
	    o->device_url, o->auth_url, o->scope, o->ca_file, o->username };
	struct buf	 b;
	size_t		 i;
	char		 head[64];

	buf_init(&b, SIZE_MAX - 1);	/* bounded by the configuration */
	snprintf(head, sizeof head, "%d %d %ld %d", (int)o->provider,
	    (int)o->flow, o->timeout, o->fault_rotate);
	buf_add(&b, head, strlen(head));
	/* Each value with its length before it: no two sets look alike. */
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		snprintf(head, sizeof head, " %zd:", v[i] != NULL ?
		    (ssize_t)strlen(v[i]) : (ssize_t)-1);
		buf_add(&b, head, strlen(head));
		if (v[i] != NULL)
			buf_add(&b, v[i], strlen(v[i]));
	}
	return (buf_steal(&b, NULL));
}

/* The entry of o's mailbox, made or remade as its settings say. */
static struct oauth2_entry *
entry_get(const struct oauth_opts *o)
{
	struct oauth2_entry	*e;
	char			*set = settings(o);

	pthread_mutex_lock(&oauth2_lock);
	for (e = oauth2_cache; e != NULL; e = e->next)
		if (strcmp(e->name, o->name) == 0)
			break;
	if (e == NULL) {
		e = xcalloc(1, sizeof *e);
		e->name = xstrdup(o->name);
		if (pthread_mutex_init(&e->lock, NULL) != 0)
			fatalx("pthread_mutex_init failed");
		e->next = oauth2_cache;
		oauth2_cache = e;
	}
	pthread_mutex_unlock(&oauth2_lock);
	pthread_mutex_lock(&e->lock);
	if (e->settings == NULL || strcmp(e->settings, set) != 0) {
		oauth_free(e->oa);
		free(e->settings);
		e->oa = oauth_new(o);
		e->settings = set;
	} else
		free(set);
	return (e);	/* locked */
}

char *
oauth2_token(const struct conf *conf, const struct conf_mailbox *mb,
    int renew, enum imap_class *cls, char **cause)
{
	struct oauth_opts	 o;
	struct oauth2_entry	*e;
	enum oauth_class	 oc;
	char			*tok, *why = NULL;

	*cause = NULL;
	if (mb->oauth2.provider == CONF_OAUTH2_NONE) {
		if ((tok = conf_oauth2_token(mb, cause)) == NULL &&
		    *cause != NULL)
			*cls = IMAP_AUTH;
		return (tok);
	}
	oauth2_opts(conf, mb, &o);
	e = entry_get(&o);
	tok = oauth_token(e->oa, renew, &oc, &why);
	pthread_mutex_unlock(&e->lock);
	if (tok != NULL)
		return (tok);
	*cls = oc == OAUTH_RETRY ? IMAP_RETRY : oc == OAUTH_AUTH ?
	    IMAP_AUTH : IMAP_FATAL;
	xasprintf(cause, "no OAuth 2.0 token: %s", why);
	free(why);
	return (NULL);
}

int
oauth2_check(const struct conf *conf, struct conf_msgs *msgs)
{
	const struct conf_mailbox	*mb;
	struct oauth_opts		 o;
	size_t				 i;
	char				*cause;
	int				 rc = 0;

	for (i = 0; i < conf->nmailboxes; i++) {
		mb = &conf->mailboxes[i];
		if (mb->oauth2.provider == CONF_OAUTH2_NONE)
			continue;
		oauth2_opts(conf, mb, &o);
		if (oauth_check(&o, &cause) == 0)
			continue;
		conf_msgs_error(msgs, conf->file, mb->oauth2.line,
		    "mailbox \"%s\": oauth2: %s", mb->name, cause);
		free(cause);
		rc = -1;
	}
	return (rc);
}
