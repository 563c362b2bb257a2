/*
 * cmd-oauth2.c: `dmarc-agent oauth2`, the OAuth 2.0 groups by hand.
 *
 *   oauth2 login [--port N] [--wait SECONDS] MAILBOX
 *       the first refresh token of a mailbox with flow = "refresh_token":
 *       Microsoft's device code, or a browser sent back to a listener on
 *       127.0.0.1 (port N, else one the system picks); the token goes to
 *       refresh_token_file.  Run it as the user the service runs as.
 *   oauth2 test [MAILBOX...]
 *       get a token for each mailbox with an oauth2 group (all when none
 *       is named) and say where it came from and for how long it is
 *       valid; the token itself is never shown.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "agent/oauth2.h"
#include "oauth/oauth.h"

static int	oauth2_usage(void);
static const struct conf_mailbox *oauth2_mailbox(const struct conf *,
		    const char *);
static int	oauth2_login(struct cmd_env *, int, char **);
static int	oauth2_test(struct cmd_env *, int, char **);

static int
oauth2_usage(void)
{
	log_warnx("usage: dmarc-agent oauth2 login [--port N] [--wait SECONDS]"
	    " MAILBOX | oauth2 test [MAILBOX...]");
	return (EXIT_USAGE);
}

/* The mailbox named, with an oauth2 group; NULL (logged) otherwise. */
static const struct conf_mailbox *
oauth2_mailbox(const struct conf *conf, const char *name)
{
	const struct conf_mailbox	*mb;

	if ((mb = conf_find_mailbox(conf, name)) == NULL) {
		log_warnx("oauth2: no mailbox named \"%s\" in %s", name,
		    conf->file);
		return (NULL);
	}
	if (mb->oauth2.provider == CONF_OAUTH2_NONE) {
		log_warnx("oauth2: mailbox \"%s\" has no oauth2 group", name);
		return (NULL);
	}
	return (mb);
}

static int
oauth2_login(struct cmd_env *env, int argc, char **argv)
{
	const struct conf_mailbox	*mb;
	struct oauth_opts		 o;
	char				*cause, *end;
	long				 port = 0, wait = 0, *v;

	while (argc > 1 && (strcmp(argv[0], "--port") == 0 ||
	    strcmp(argv[0], "--wait") == 0)) {
		v = strcmp(argv[0], "--port") == 0 ? &port : &wait;
		*v = strtol(argv[1], &end, 10);
		if (*end != '\0' || *v < 0 || *v > 65535)
			return (oauth2_usage());
		argc -= 2;
		argv += 2;
	}
	if (argc != 1)
		return (oauth2_usage());
	if ((mb = oauth2_mailbox(env->conf, argv[0])) == NULL)
		return (EXIT_USAGE);
	oauth2_opts(env->conf, mb, &o);
	if (oauth_login(&o, stdout, (int)port, (int)wait, &cause) != 0) {
		log_warnx("oauth2 login: %s: %s", mb->name, cause);
		free(cause);
		return (EXIT_OPFAIL);
	}
	return (0);
}

static int
oauth2_test(struct cmd_env *env, int argc, char **argv)
{
	const struct conf_mailbox	*mb;
	struct oauth_opts		 o;
	struct oauth			*oa;
	enum oauth_class		 cls;
	size_t				 i;
	char				*tok, *cause;
	int				 j, n = 0, failed = 0;

	for (j = 0; j < argc; j++)
		if (oauth2_mailbox(env->conf, argv[j]) == NULL)
			return (EXIT_USAGE);
	for (i = 0; i < env->conf->nmailboxes; i++) {
		mb = &env->conf->mailboxes[i];
		for (j = 0; j < argc; j++)
			if (strcmp(argv[j], mb->name) == 0)
				break;
		if ((argc != 0 && j == argc) ||
		    mb->oauth2.provider == CONF_OAUTH2_NONE)
			continue;
		n++;
		oauth2_opts(env->conf, mb, &o);
		oa = oauth_new(&o);
		if ((tok = oauth_token(oa, 0, &cls, &cause)) == NULL) {
			log_warnx("oauth2 test: %s: %s", mb->name, cause);
			free(cause);
			failed = 1;
		} else {
			printf("%s: token from %s, valid for %ld s\n",
			    mb->name, oauth_token_url(oa),
			    oauth_token_left(oa));
			explicit_bzero(tok, strlen(tok));
			free(tok);
		}
		oauth_free(oa);
	}
	fflush(stdout);
	if (n == 0) {
		log_warnx("oauth2 test: no mailbox with an oauth2 group in %s",
		    env->conf->file);
		return (EXIT_USAGE);
	}
	return (failed ? EXIT_OPFAIL : 0);
}

int
cmd_oauth2(struct cmd_env *env, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "login") == 0)
		return (oauth2_login(env, argc - 1, argv + 1));
	if (argc >= 1 && strcmp(argv[0], "test") == 0)
		return (oauth2_test(env, argc - 1, argv + 1));
	return (oauth2_usage());
}
