/*
 * conf.c: read and check the libconfig file.
 *
 * Every setting is described once in a table (name, type, bounds, where it
 * goes); conf_load walks the tables, so there is no scattered lookup code.
 * All defaults are set in conf_defaults before parsing.  Every error is
 * collected as "FILE:LINE: message" and the load fails at the end; unknown
 * settings are warnings, so a typo does not pass unnoticed.  Strings are
 * copied: nothing from libconfig outlives config_destroy.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/common.h"
#include "agent/conf.h"

enum conf_type {
	CT_STRING,
	CT_INT,			/* int, bounds lo..hi */
	CT_INT64,		/* uint64_t, bounds lo..hi */
	CT_BOOL,
	CT_DAYS,		/* "Nd": int days, bounds lo..hi */
	CT_OTHER		/* known name, read by its owner */
};

struct conf_item {
	const char	*name;
	enum conf_type	 type;
	int64_t		 lo, hi;
	size_t		 off;		/* offset in the target struct */
};

#define MB_OFF(f)	offsetof(struct conf_mailbox, f)
#define LIM_OFF(f)	offsetof(struct conf_limits, f)
#define MAX_SECRET	4096

static const struct conf_item mailbox_items[] = {
	{ "name", CT_STRING, 0, 0, MB_OFF(name) },
	{ "url", CT_STRING, 0, 0, MB_OFF(url) },
	{ "username", CT_STRING, 0, 0, MB_OFF(username) },
	{ "password", CT_STRING, 0, 0, MB_OFF(password) },
	{ "password_file", CT_STRING, 0, 0, MB_OFF(password_file) },
	{ "password_env", CT_STRING, 0, 0, MB_OFF(password_env) },
	{ "oauth2_token_file", CT_STRING, 0, 0, MB_OFF(oauth2_token_file) },
	{ "oauth2_token_command", CT_STRING, 0, 0,
	    MB_OFF(oauth2_token_command) },
	{ "tls_ca_file", CT_STRING, 0, 0, MB_OFF(tls_ca_file) },
	{ "interval", CT_INT, 10, 86400 * 7, MB_OFF(interval) },
	{ "batch_size", CT_INT, 1, 10000000, MB_OFF(batch_size) },
	{ "workers", CT_INT, 1, 16, MB_OFF(workers) },
	{ "after", CT_OTHER, 0, 0, 0 },	/* conf_mailbox_check */
	{ "expunge", CT_OTHER, 0, 0, 0 },
	{ "tls", CT_OTHER, 0, 0, 0 },
	{ "auth", CT_OTHER, 0, 0, 0 },
	{ "search", CT_OTHER, 0, 0, 0 },
	{ "since", CT_OTHER, 0, 0, 0 },
	{ "archive_folder", CT_STRING, 0, 0, MB_OFF(archive_folder) },
	{ "invalid_folder", CT_STRING, 0, 0, MB_OFF(invalid_folder) },
	{ NULL, 0, 0, 0, 0 }
};

/* Word-valued settings: the word's position in the list is the value. */
static const char *tls_words[] = { "", "implicit", "starttls", "none", NULL };
static const char *auth_words[] = {
	"", "plain", "login", "xoauth2", "oauthbearer", NULL
};
static const char *search_words[] = { "unseen", "all", NULL };
static const char *expunge_words[] = { "uid", "all", "never", NULL };

static const struct conf_item limit_items[] = {
	{ "max_message_size", CT_INT64, 1024, INT64_C(1) << 32,
	    LIM_OFF(max_message_size) },
	{ "max_payload_size", CT_INT64, 1024, INT64_C(1) << 36,
	    LIM_OFF(max_payload_size) },
	{ "max_ratio", CT_INT64, 2, 100000, LIM_OFF(max_ratio) },
	{ "max_zip_members", CT_INT64, 1, 100000, LIM_OFF(max_zip_members) },
	{ "max_containers", CT_INT64, 1, 16, LIM_OFF(max_containers) },
	{ "max_mime_parts", CT_INT64, 1, 1000000, LIM_OFF(max_mime_parts) },
	{ "max_mime_depth", CT_INT64, 1, 1000, LIM_OFF(max_mime_depth) },
	{ "max_header_line", CT_INT64, 1024, INT64_C(1) << 30,
	    LIM_OFF(max_header_line) },
	{ "max_records", CT_INT64, 1, UINT32_MAX, LIM_OFF(max_records) },
	{ "max_results", CT_INT64, 1, 100000, LIM_OFF(max_results) },
	{ "max_text", CT_INT64, 256, INT64_C(1) << 30, LIM_OFF(max_text) },
	{ "max_json", CT_INT64, 1024, INT64_C(1) << 30, LIM_OFF(max_json) },
	{ "timeout", CT_INT64, 1, 3600, LIM_OFF(timeout) },
	{ NULL, 0, 0, 0, 0 }
};

#define EN_OFF(f)	offsetof(struct conf_enrich, f)
static const struct conf_item enrich_items[] = {
	{ "enabled", CT_BOOL, 0, 0, EN_OFF(enabled) },
	{ "resolver", CT_STRING, 0, 0, EN_OFF(resolver) },
	{ "mmdb_file", CT_OTHER, 0, 0, 0 },	/* conf_enrich */
	{ "ttl", CT_INT, 0, 86400 * 365, EN_OFF(ttl) },
	{ "concurrency", CT_INT, 1, 1024, EN_OFF(concurrency) },
	{ "timeout_ms", CT_INT, 50, 60000, EN_OFF(timeout_ms) },
	{ "tries", CT_INT, 1, 10, EN_OFF(tries) },
	{ "retry", CT_INT, 0, 86400 * 30, EN_OFF(retry) },
	{ "interval", CT_INT, 10, 86400, EN_OFF(interval) },
	{ NULL, 0, 0, 0, 0 }
};

/* retention: days to keep each kind of data (cmd-prune.c). */
#define RET_OFF(f)	offsetof(struct conf_retention, f)
static const struct conf_item retention_items[] = {
	{ "reports", CT_DAYS, 1, 36500, RET_OFF(reports) },
	{ "tls_reports", CT_DAYS, 1, 36500, RET_OFF(tls_reports) },
	{ "failure_reports", CT_DAYS, 1, 36500, RET_OFF(failure_reports) },
	{ "raw", CT_DAYS, 1, 36500, RET_OFF(raw) },
	{ "ledger", CT_DAYS, 1, 36500, RET_OFF(ledger) },
	{ NULL, 0, 0, 0, 0 }
};

static const char *top_items[] = {
	"database", "mailboxes", "log", "limits", "enrichment",
	"failure_reports", "retention", NULL
};
static const char *failure_items[] = { "store_body", NULL };
static const char *database_items[] = {
	"conninfo", "auto_migrate", "store_raw", NULL
};

struct conf_ctx {
	const char		*file;
	struct conf_msgs	*msgs;
};

static void	conf_defaults(struct conf *);
static void	conf_msg(char ***, size_t *, const char *, int, const char *,
		    ...) printflike(5, 6);
static void	conf_error(struct conf_ctx *, const config_setting_t *,
		    const char *, ...) printflike(3, 4);
static void	conf_warn(struct conf_ctx *, const config_setting_t *,
		    const char *, ...) printflike(3, 4);
static void	conf_unknown(struct conf_ctx *, const config_setting_t *,
		    const char **, const struct conf_item *);
static int	conf_item_read(struct conf_ctx *, const config_setting_t *,
		    const struct conf_item *, void *);
static int	conf_days(struct conf_ctx *, const config_setting_t *,
		    const struct conf_item *, int *);
static void	conf_items(struct conf_ctx *, const config_setting_t *,
		    const struct conf_item *, void *);
static void	conf_bool(struct conf_ctx *, const config_setting_t *,
		    const char *, int *);
static void	conf_enrich(struct conf_ctx *, const config_setting_t *,
		    struct conf_enrich *);
static void	conf_database(struct conf_ctx *, config_t *, struct conf *);
static void	conf_mailboxes(struct conf_ctx *, config_t *, struct conf *);
static void	conf_mailbox_check(struct conf_ctx *, const config_setting_t *,
		    struct conf *, struct conf_mailbox *);
static void	conf_url_check(struct conf_ctx *, const config_setting_t *,
		    const char *);
static char	*conf_read_secret(struct conf_ctx *, const char *, char **);
static int	 conf_word(struct conf_ctx *, const config_setting_t *,
		    const char *, const char **, int);
static void	 conf_mailbox_words(struct conf_ctx *, const config_setting_t *,
		    struct conf_mailbox *);
static void	 conf_mailbox_secret(struct conf_ctx *,
		    const config_setting_t *, struct conf_mailbox *);
static char	*conf_first_line(FILE *, size_t);
static int	same_str(const char *, const char *);
static void	conf_mode_check(struct conf_ctx *, const char *,
		    const struct conf *);

static void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof *c);
	c->auto_migrate = 1;
	c->store_raw = 1;
	c->limits.max_message_size = 64ULL << 20;
	c->limits.max_payload_size = 1ULL << 30;
	c->limits.max_ratio = 200;
	c->limits.max_zip_members = 64;
	c->limits.max_containers = 4;
	c->limits.max_mime_parts = 1000;
	c->limits.max_mime_depth = 32;
	c->limits.max_header_line = 1ULL << 20;
	c->limits.max_records = 10000000;
	c->limits.max_results = 100;
	c->limits.max_text = 64ULL << 10;
	c->limits.max_json = 16ULL << 20;
	c->limits.timeout = 60;
	c->enrich.enabled = 1;
	c->enrich.ttl = 86400;
	c->enrich.concurrency = 16;
	c->enrich.timeout_ms = 2000;
	c->enrich.tries = 2;
	c->enrich.retry = 300;
	c->enrich.interval = 600;
}

static void
conf_msg(char ***list, size_t *n, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	if (line > 0)
		xasprintf(&(*list)[*n], "%s:%d: %s", file, line, msg);
	else
		xasprintf(&(*list)[*n], "%s: %s", file, msg);
	(*n)++;
	free(msg);
}

static void
conf_error(struct conf_ctx *cx, const config_setting_t *s, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	conf_msg(&cx->msgs->errors, &cx->msgs->nerrors, cx->file,
	    s != NULL ? config_setting_source_line(s) : 0, "%s", msg);
	free(msg);
}

static void
conf_warn(struct conf_ctx *cx, const config_setting_t *s, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	conf_msg(&cx->msgs->warnings, &cx->msgs->nwarnings, cx->file,
	    s != NULL ? config_setting_source_line(s) : 0, "%s", msg);
	free(msg);
}

/* Warn about members of group s named in neither names nor items. */
static void
conf_unknown(struct conf_ctx *cx, const config_setting_t *s,
    const char **names, const struct conf_item *items)
{
	const config_setting_t	*m;
	const char		*name;
	int			 i, j, found;

	for (i = 0; (m = config_setting_get_elem(s, i)) != NULL; i++) {
		if ((name = config_setting_name(m)) == NULL)
			continue;
		found = 0;
		for (j = 0; names != NULL && names[j] != NULL; j++)
			found |= strcmp(names[j], name) == 0;
		for (j = 0; items != NULL && items[j].name != NULL; j++)
			found |= strcmp(items[j].name, name) == 0;
		if (!found)
			conf_warn(cx, m, "unknown setting \"%s\" ignored", name);
	}
}

/* Read one item of group s into base; 0 if absent or read, -1 if bad. */
static int
conf_item_read(struct conf_ctx *cx, const config_setting_t *s,
    const struct conf_item *it, void *base)
{
	const config_setting_t	*m;
	long long		 v;
	int			 type;

	if ((m = config_setting_get_member(s, it->name)) == NULL)
		return (0);
	type = config_setting_type(m);
	switch (it->type) {
	case CT_OTHER:
		return (0);
	case CT_STRING:
		if (type != CONFIG_TYPE_STRING) {
			conf_error(cx, m, "\"%s\" must be a string", it->name);
			return (-1);
		}
		free(*(char **)((char *)base + it->off));
		*(char **)((char *)base + it->off) =
		    xstrdup(config_setting_get_string(m));
		return (0);
	case CT_BOOL:
		if (type != CONFIG_TYPE_BOOL) {
			conf_error(cx, m, "\"%s\" must be true or false",
			    it->name);
			return (-1);
		}
		*(int *)((char *)base + it->off) = config_setting_get_bool(m);
		return (0);
	case CT_DAYS:
		return (conf_days(cx, m, it, (int *)(void *)((char *)base +
		    it->off)));
	case CT_INT:
	case CT_INT64:
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			conf_error(cx, m, "\"%s\" must be a number", it->name);
			return (-1);
		}
		v = config_setting_get_int64(m);
		if (v < it->lo || v > it->hi) {
			conf_error(cx, m, "\"%s\" must be between %lld and %lld",
			    it->name, (long long)it->lo, (long long)it->hi);
			return (-1);
		}
		if (it->type == CT_INT)
			*(int *)((char *)base + it->off) = (int)v;
		else
			*(uint64_t *)((char *)base + it->off) = (uint64_t)v;
		return (0);
	}
	return (-1);
}

/* A number of days written "Nd", between it->lo and it->hi. */
static int
conf_days(struct conf_ctx *cx, const config_setting_t *m,
    const struct conf_item *it, int *out)
{
	const char	*v;
	char		*end;
	long		 days = 0;

	if ((v = config_setting_get_string(m)) != NULL)
		days = strtol(v, &end, 10);
	if (v == NULL || end == v || strcmp(end, "d") != 0 || days < it->lo ||
	    days > it->hi) {
		conf_error(cx, m, "\"%s\" must be a number of days such as "
		    "\"400d\" (%lld to %lld)", it->name, (long long)it->lo,
		    (long long)it->hi);
		return (-1);
	}
	*out = (int)days;
	return (0);
}

static void
conf_items(struct conf_ctx *cx, const config_setting_t *s,
    const struct conf_item *items, void *base)
{
	int	i;

	for (i = 0; items[i].name != NULL; i++)
		conf_item_read(cx, s, &items[i], base);
}

/* The enrichment group: the table's items, and mmdb_file (one or a list). */
static void
conf_enrich(struct conf_ctx *cx, const config_setting_t *s,
    struct conf_enrich *en)
{
	const config_setting_t	*m, *e;
	const char		*v;
	int			 i, n;

	if (!config_setting_is_group(s)) {
		conf_error(cx, s, "\"enrichment\" must be a group { ... }");
		return;
	}
	conf_unknown(cx, s, NULL, enrich_items);
	conf_items(cx, s, enrich_items, en);
	if ((m = config_setting_get_member(s, "mmdb_file")) == NULL)
		return;
	n = config_setting_type(m) == CONFIG_TYPE_STRING ? 1 :
	    config_setting_length(m);
	for (i = 0; i < n; i++) {
		e = config_setting_type(m) == CONFIG_TYPE_STRING ? m :
		    config_setting_get_elem(m, i);
		if (e == NULL || (v = config_setting_get_string(e)) == NULL) {
			conf_error(cx, m, "\"mmdb_file\" must be a string or "
			    "a list of strings");
			return;
		}
		if (access(v, R_OK) != 0)
			conf_error(cx, e, "cannot read mmdb_file \"%s\": %s", v,
			    strerror(errno));
		en->mmdb_files = xreallocarray(en->mmdb_files, en->nmmdb + 1,
		    sizeof *en->mmdb_files);
		en->mmdb_files[en->nmmdb++] = xstrdup(v);
	}
}

/* A boolean member of group s, when present. */
static void
conf_bool(struct conf_ctx *cx, const config_setting_t *s, const char *name,
    int *out)
{
	const config_setting_t	*m;

	if ((m = config_setting_get_member(s, name)) == NULL)
		return;
	if (config_setting_type(m) != CONFIG_TYPE_BOOL)
		conf_error(cx, m, "\"%s\" must be true or false", name);
	else
		*out = config_setting_get_bool(m);
}

static void
conf_database(struct conf_ctx *cx, config_t *cfg, struct conf *c)
{
	config_setting_t	*db, *m;
	const char		*s;

	if ((db = config_lookup(cfg, "database")) == NULL) {
		conf_error(cx, NULL, "missing \"database\" group");
		return;
	}
	if (!config_setting_is_group(db)) {
		conf_error(cx, db, "\"database\" must be a group { ... }");
		return;
	}
	conf_unknown(cx, db, database_items, NULL);
	if ((m = config_setting_get_member(db, "conninfo")) == NULL ||
	    (s = config_setting_get_string(m)) == NULL)
		conf_error(cx, m != NULL ? m : db,
		    "database: \"conninfo\" must be a string");
	else
		c->conninfo = xstrdup(s);
	conf_bool(cx, db, "auto_migrate", &c->auto_migrate);
	conf_bool(cx, db, "store_raw", &c->store_raw);
}

static void
conf_mailboxes(struct conf_ctx *cx, config_t *cfg, struct conf *c)
{
	config_setting_t	*list, *e;
	struct conf_mailbox	*mb;
	int			 i, n;

	if ((list = config_lookup(cfg, "mailboxes")) == NULL)
		return;		/* ingest-only setups need none */
	if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
		conf_error(cx, list, "\"mailboxes\" must be a list ( { ... } )");
		return;
	}
	n = config_setting_length(list);
	if (n == 0)
		return;
	c->mailboxes = xcalloc(n, sizeof *c->mailboxes);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, i);
		mb = &c->mailboxes[c->nmailboxes++];
		mb->interval = 300;
		mb->workers = 2;
		mb->line = config_setting_source_line(e);
		if (!config_setting_is_group(e)) {
			conf_error(cx, e, "mailbox %d must be a group { ... }",
			    i + 1);
			continue;
		}
		conf_unknown(cx, e, NULL, mailbox_items);
		conf_items(cx, e, mailbox_items, mb);
		conf_mailbox_check(cx, e, c, mb);
	}
}

static void
conf_mailbox_check(struct conf_ctx *cx, const config_setting_t *e,
    struct conf *c, struct conf_mailbox *mb)
{
	const config_setting_t	*m;
	const char		*after = "seen";
	size_t			 i;

	if (mb->name == NULL || *mb->name == '\0') {
		conf_error(cx, e, "mailbox without a \"name\"");
		free(mb->name);
		xasprintf(&mb->name, "#%zu", c->nmailboxes);
	} else if (strcmp(mb->name, "file") == 0)
		conf_error(cx, e, "mailbox name \"file\" is reserved for "
		    "ingested files");
	else if (strcspn(mb->name, " \t\r\n/") != strlen(mb->name))
		conf_error(cx, e, "mailbox name \"%s\" must not contain "
		    "spaces or slashes", mb->name);
	for (i = 0; i + 1 < c->nmailboxes; i++)
		if (strcmp(c->mailboxes[i].name, mb->name) == 0)
			conf_error(cx, e, "mailbox \"%s\" defined twice (first "
			    "at line %d)", mb->name, c->mailboxes[i].line);
	if (mb->url == NULL)
		conf_error(cx, e, "mailbox \"%s\": missing \"url\"", mb->name);
	else
		conf_url_check(cx, config_setting_get_member(e, "url"),
		    mb->url);
	if (mb->username == NULL)
		conf_error(cx, e, "mailbox \"%s\": missing \"username\"",
		    mb->name);
	conf_mailbox_words(cx, e, mb);
	conf_mailbox_secret(cx, e, mb);
	if ((m = config_setting_get_member(e, "after")) != NULL &&
	    config_setting_type(m) == CONFIG_TYPE_STRING)
		after = config_setting_get_string(m);
	if (strcmp(after, "seen") == 0)
		mb->after = CONF_AFTER_SEEN;
	else if (strcmp(after, "move") == 0)
		mb->after = CONF_AFTER_MOVE;
	else if (strcmp(after, "delete") == 0)
		mb->after = CONF_AFTER_DELETE;
	else
		conf_error(cx, m, "mailbox \"%s\": \"after\" must be \"seen\", "
		    "\"move\" or \"delete\"", mb->name);
	if (mb->after == CONF_AFTER_MOVE && mb->archive_folder == NULL)
		conf_error(cx, e, "mailbox \"%s\": after = \"move\" needs "
		    "\"archive_folder\"", mb->name);
	if (mb->after == CONF_AFTER_DELETE && mb->archive_folder == NULL &&
	    mb->invalid_folder == NULL)
		conf_error(cx, e, "mailbox \"%s\": after = \"delete\" needs "
		    "\"invalid_folder\" (or \"archive_folder\") for mail that is "
		    "not a stored report; it is never deleted", mb->name);
}

static void
conf_url_check(struct conf_ctx *cx, const config_setting_t *s,
    const char *url)
{
	const char	*host;

	if (strncasecmp(url, "imaps://", 8) == 0)
		host = url + 8;
	else if (strncasecmp(url, "imap://", 7) == 0)
		host = url + 7;
	else {
		conf_error(cx, s, "url \"%s\" must start with imaps:// or "
		    "imap:// (STARTTLS)", url);
		return;
	}
	if (*host == '\0' || *host == '/' || *host == ':')
		conf_error(cx, s, "url \"%s\" has no host", url);
	if (strchr(host, '@') != NULL && strchr(host, '@') <
	    (strchr(host, '/') ? strchr(host, '/') : host + strlen(host)))
		conf_error(cx, s, "url must not hold credentials: use "
		    "\"username\" and \"password_file\"");
}

/* The value of a word setting of e, or -1 (an error) when not listed. */
static int
conf_word(struct conf_ctx *cx, const config_setting_t *e, const char *name,
    const char **words, int dflt)
{
	const config_setting_t	*m;
	const char		*v;
	struct buf		 b;
	int			 i;

	if ((m = config_setting_get_member(e, name)) == NULL)
		return (dflt);
	if ((v = config_setting_get_string(m)) != NULL)
		for (i = 0; words[i] != NULL; i++)
			if (*words[i] != '\0' && strcmp(v, words[i]) == 0)
				return (i);
	buf_init(&b, 256);
	for (i = 0; words[i] != NULL; i++) {
		if (*words[i] == '\0')
			continue;
		if (b.len != 0)
			buf_add(&b, words[i + 1] == NULL ? " or " : ", ",
			    words[i + 1] == NULL ? 4 : 2);
		buf_add(&b, "\"", 1);
		buf_add(&b, words[i], strlen(words[i]));
		buf_add(&b, "\"", 1);
	}
	conf_error(cx, m, "\"%s\" must be %s", name, b.data);
	buf_free(&b);
	return (-1);
}

/* tls, auth, search, expunge and since. */
static void
conf_mailbox_words(struct conf_ctx *cx, const config_setting_t *e,
    struct conf_mailbox *mb)
{
	const config_setting_t	*m;
	const char		*v;
	char			*end;
	long			 days;
	int			 w;

	if ((w = conf_word(cx, e, "tls", tls_words, 0)) >= 0)
		mb->tls = (enum conf_tls)w;
	if (mb->tls == CONF_TLS_NONE)
		conf_warn(cx, config_setting_get_member(e, "tls"),
		    "mailbox \"%s\": tls = \"none\" sends the password in "
		    "clear text", mb->name);
	if ((w = conf_word(cx, e, "auth", auth_words, 0)) >= 0)
		mb->auth = (enum conf_auth)w;
	if ((w = conf_word(cx, e, "search", search_words, 0)) >= 0)
		mb->search_all = (w == 1);
	if ((w = conf_word(cx, e, "expunge", expunge_words, 0)) >= 0)
		mb->expunge = (enum conf_expunge)w;
	if ((m = config_setting_get_member(e, "since")) == NULL)
		return;
	v = config_setting_get_string(m);
	days = v != NULL ? strtol(v, &end, 10) : 0;
	if (v == NULL || end == v || strcmp(end, "d") != 0 || days < 1 ||
	    days > 36500)
		conf_error(cx, m, "\"since\" must be a number of days such "
		    "as \"30d\"");
	else
		mb->since_days = (int)days;
}

/*
 * Exactly one source of credentials: password, password_file or
 * password_env, or for OAuth 2.0 oauth2_token_file or
 * oauth2_token_command.
 */
static void
conf_mailbox_secret(struct conf_ctx *cx, const config_setting_t *e,
    struct conf_mailbox *mb)
{
	const char	*v;
	char		*cause;
	int		 npw, ntok;

	npw = (mb->password != NULL) + (mb->password_file != NULL) +
	    (mb->password_env != NULL);
	ntok = (mb->oauth2_token_file != NULL) +
	    (mb->oauth2_token_command != NULL);
	if (mb->auth == CONF_AUTH_XOAUTH2 ||
	    mb->auth == CONF_AUTH_OAUTHBEARER) {
		if (ntok != 1)
			conf_error(cx, e, "mailbox \"%s\": auth = \"%s\" needs "
			    "one of \"oauth2_token_file\" or "
			    "\"oauth2_token_command\"", mb->name,
			    auth_words[mb->auth]);
		if (npw != 0)
			conf_warn(cx, e, "mailbox \"%s\": the password is not "
			    "used with auth = \"%s\"", mb->name,
			    auth_words[mb->auth]);
		return;
	}
	if (ntok != 0 && mb->auth != CONF_AUTH_ANY)
		conf_error(cx, e, "mailbox \"%s\": an OAuth 2.0 token needs "
		    "auth = \"xoauth2\" or \"oauthbearer\"", mb->name);
	if (npw > 1)
		conf_error(cx, e, "mailbox \"%s\": set only one of "
		    "\"password\", \"password_file\" or \"password_env\"",
		    mb->name);
	else if (npw == 0 && ntok == 0)
		conf_error(cx, e, "mailbox \"%s\": missing \"password\", "
		    "\"password_file\" or \"password_env\"", mb->name);
	else if (mb->password_file != NULL) {
		if ((mb->password = conf_read_secret(cx, mb->password_file,
		    &cause)) == NULL) {
			conf_error(cx, config_setting_get_member(e,
			    "password_file"), "mailbox \"%s\": %s", mb->name,
			    cause);
			free(cause);
		}
	} else if (mb->password_env != NULL) {
		if ((v = getenv(mb->password_env)) == NULL || *v == '\0')
			conf_error(cx, config_setting_get_member(e,
			    "password_env"), "mailbox \"%s\": environment "
			    "variable \"%s\" is not set", mb->name,
			    mb->password_env);
		else
			mb->password = xstrdup(v);
	}
}

/*
 * First line of a secret file, line ending dropped.  NULL with *cause.
 * Warns when others or the group may read it.
 */
static char *
conf_read_secret(struct conf_ctx *cx, const char *path, char **cause)
{
	FILE		*f;
	struct stat	 st;
	char		 line[MAX_SECRET + 2];
	size_t		 n;

	if (stat(path, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) &&
	    cx != NULL)
		conf_warn(cx, NULL, "password file \"%s\" is readable by "
		    "group or others (chmod 600)", path);
	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "cannot read password file \"%s\": %s", path,
		    strerror(errno));
		return (NULL);
	}
	if (fgets(line, sizeof line, f) == NULL) {
		fclose(f);
		xasprintf(cause, "password file \"%s\" is empty", path);
		return (NULL);
	}
	fclose(f);
	n = strcspn(line, "\r\n");
	if (n > MAX_SECRET) {
		xasprintf(cause, "password file \"%s\": first line too long",
		    path);
		return (NULL);
	}
	line[n] = '\0';
	return (xstrdup(line));
}

/*
 * The file may hold credentials: warn when others may read or write it,
 * and when it holds a password itself and its group may read it.
 */
static void
conf_mode_check(struct conf_ctx *cx, const char *file, const struct conf *c)
{
	struct stat	st;
	size_t		i;
	int		inline_pw = 0;

	if (stat(file, &st) != 0)
		return;
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		conf_warn(cx, NULL, "file is readable or writable by others "
		    "and may hold credentials (chmod 640)");
		return;
	}
	for (i = 0; i < c->nmailboxes; i++)
		if (c->mailboxes[i].password != NULL &&
		    c->mailboxes[i].password_file == NULL &&
		    c->mailboxes[i].password_env == NULL)
			inline_pw = 1;
	if (c->conninfo != NULL && strstr(c->conninfo, "password") != NULL)
		inline_pw = 1;
	if (inline_pw && (st.st_mode & S_IRGRP))
		conf_warn(cx, NULL, "file holds a password and is readable by "
		    "its group (chmod 600, or use password_file)");
}

struct conf *
conf_load(const char *file, struct conf_msgs *msgs)
{
	struct conf_ctx		 cx;
	struct conf		*c;
	config_t		 cfg;
	config_setting_t	*root, *s;
	const char		*v;

	memset(msgs, 0, sizeof *msgs);
	cx.file = file;
	cx.msgs = msgs;
	c = xcalloc(1, sizeof *c);
	conf_defaults(c);
	c->file = xstrdup(file);
	config_init(&cfg);
	if (!config_read_file(&cfg, file)) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			conf_msg(&msgs->errors, &msgs->nerrors, file, 0,
			    "cannot read file: %s", strerror(errno));
		else
			conf_msg(&msgs->errors, &msgs->nerrors,
			    config_error_file(&cfg) ? config_error_file(&cfg) :
			    file, config_error_line(&cfg), "%s",
			    config_error_text(&cfg));
		config_destroy(&cfg);
		conf_free(c);
		return (NULL);
	}
	root = config_root_setting(&cfg);
	conf_unknown(&cx, root, top_items, NULL);
	conf_database(&cx, &cfg, c);
	if ((s = config_lookup(&cfg, "log")) != NULL) {
		v = config_setting_get_string(s);
		if (v != NULL && strcmp(v, "syslog") == 0)
			c->log_syslog = 1;
		else if (v == NULL || strcmp(v, "stderr") != 0)
			conf_error(&cx, s, "\"log\" must be \"stderr\" or "
			    "\"syslog\"");
	}
	if ((s = config_lookup(&cfg, "limits")) != NULL) {
		conf_unknown(&cx, s, NULL, limit_items);
		conf_items(&cx, s, limit_items, &c->limits);
	}
	if ((s = config_lookup(&cfg, "enrichment")) != NULL)
		conf_enrich(&cx, s, &c->enrich);
	if ((s = config_lookup(&cfg, "retention")) != NULL) {
		if (!config_setting_is_group(s))
			conf_error(&cx, s, "\"retention\" must be a group "
			    "{ ... }");
		else {
			conf_unknown(&cx, s, NULL, retention_items);
			conf_items(&cx, s, retention_items, &c->retention);
		}
	}
	if ((s = config_lookup(&cfg, "failure_reports")) != NULL) {
		conf_unknown(&cx, s, failure_items, NULL);
		conf_bool(&cx, s, "store_body", &c->failure_store_body);
	}
	conf_mailboxes(&cx, &cfg, c);
	conf_mode_check(&cx, file, c);
	config_destroy(&cfg);
	if (msgs->nerrors != 0) {
		conf_free(c);
		return (NULL);
	}
	return (c);
}

void
conf_free(struct conf *c)
{
	size_t			 i;
	struct conf_mailbox	*mb;

	if (c == NULL)
		return;
	for (i = 0; i < c->nmailboxes; i++) {
		mb = &c->mailboxes[i];
		free(mb->name);
		free(mb->url);
		free(mb->username);
		if (mb->password != NULL)
			explicit_bzero(mb->password, strlen(mb->password));
		free(mb->password);
		free(mb->password_file);
		free(mb->password_env);
		free(mb->oauth2_token_file);
		free(mb->oauth2_token_command);
		free(mb->tls_ca_file);
		free(mb->archive_folder);
		free(mb->invalid_folder);
	}
	free(c->mailboxes);
	for (i = 0; i < c->enrich.nmmdb; i++)
		free(c->enrich.mmdb_files[i]);
	free(c->enrich.mmdb_files);
	free(c->enrich.resolver);
	free(c->conninfo);
	free(c->file);
	free(c);
}

void
conf_msgs_free(struct conf_msgs *m)
{
	size_t	i;

	for (i = 0; i < m->nerrors; i++)
		free(m->errors[i]);
	for (i = 0; i < m->nwarnings; i++)
		free(m->warnings[i]);
	free(m->errors);
	free(m->warnings);
	memset(m, 0, sizeof *m);
}

const struct conf_mailbox *
conf_find_mailbox(const struct conf *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nmailboxes; i++)
		if (strcmp(c->mailboxes[i].name, name) == 0)
			return (&c->mailboxes[i]);
	return (NULL);
}

/* Two strings, either of them may be NULL, are the same. */
static int
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

int
conf_mailbox_equal(const struct conf_mailbox *a, const struct conf_mailbox *b)
{
	return (same_str(a->name, b->name) && same_str(a->url, b->url) &&
	    same_str(a->username, b->username) &&
	    same_str(a->password, b->password) &&
	    same_str(a->password_file, b->password_file) &&
	    same_str(a->password_env, b->password_env) &&
	    same_str(a->oauth2_token_file, b->oauth2_token_file) &&
	    same_str(a->oauth2_token_command, b->oauth2_token_command) &&
	    same_str(a->tls_ca_file, b->tls_ca_file) &&
	    a->tls == b->tls && a->auth == b->auth &&
	    a->interval == b->interval && a->after == b->after &&
	    a->expunge == b->expunge &&
	    same_str(a->archive_folder, b->archive_folder) &&
	    same_str(a->invalid_folder, b->invalid_folder) &&
	    a->search_all == b->search_all &&
	    a->since_days == b->since_days &&
	    a->batch_size == b->batch_size && a->workers == b->workers);
}

/* Read at most max bytes of f's first line into a new string. */
static char *
conf_first_line(FILE *f, size_t max)
{
	struct buf	 b;
	int		 ch;

	buf_init(&b, max);
	while ((ch = fgetc(f)) != EOF && ch != '\n' && ch != '\r')
		if (buf_add(&b, &(char){ (char)ch }, 1) != 0) {
			explicit_bzero(b.data, b.len);
			buf_free(&b);
			return (NULL);
		}
	return (buf_steal(&b, NULL));
}

char *
conf_oauth2_token(const struct conf_mailbox *mb, char **cause)
{
	FILE	*f;
	char	*tok;
	int	 st;

	*cause = NULL;
	if (mb->oauth2_token_file != NULL) {
		if ((f = fopen(mb->oauth2_token_file, "r")) == NULL) {
			xasprintf(cause, "cannot read oauth2_token_file "
			    "\"%s\": %s", mb->oauth2_token_file,
			    strerror(errno));
			return (NULL);
		}
		tok = conf_first_line(f, 65536);
		fclose(f);
	} else if (mb->oauth2_token_command != NULL) {
		fflush(NULL);
		if ((f = popen(mb->oauth2_token_command, "r")) == NULL) {
			xasprintf(cause, "cannot run oauth2_token_command: %s",
			    strerror(errno));
			return (NULL);
		}
		tok = conf_first_line(f, 65536);
		while (fgetc(f) != EOF)
			;
		if ((st = pclose(f)) != 0) {
			if (tok != NULL)
				explicit_bzero(tok, strlen(tok));
			free(tok);
			xasprintf(cause, "oauth2_token_command failed (status "
			    "%d)", st);
			return (NULL);
		}
	} else
		return (NULL);
	if (tok == NULL || *tok == '\0') {
		free(tok);
		xasprintf(cause, "no OAuth 2.0 token (empty or over 64 KiB)");
		return (NULL);
	}
	return (tok);
}

/* conf_load, with every error and warning logged after prefix. */
struct conf *
conf_load_logged(const char *file, const char *prefix)
{
	struct conf_msgs	 m;
	struct conf		*c;
	size_t			 i;

	c = conf_load(file, &m);
	for (i = 0; i < m.nerrors; i++)
		log_warnx("%s%s", prefix, m.errors[i]);
	for (i = 0; i < m.nwarnings; i++)
		log_warnx("%s%s (warning)", prefix, m.warnings[i]);
	conf_msgs_free(&m);
	return (c);
}

/*
 * Printing the effective configuration (check-config -v): every setting
 * with the value in force, defaults included, in the file's own syntax,
 * and no secret: a password or a conninfo password shows as ********, an
 * oauth2_token_command as its first word.
 */
#define CONF_MASK	"********"

static void	print_quoted(FILE *, const char *);
static void	print_str(FILE *, const char *, const char *, const char *);
static void	print_items(FILE *, const char *, const struct conf_item *,
		    const void *);
static char	*mask_conninfo(const char *);
static void	print_mailbox(FILE *, const struct conf_mailbox *);

/* "v", escaped as libconfig reads it back. */
static void
print_quoted(FILE *f, const char *v)
{
	const unsigned char	*p;

	fputc('"', f);
	for (p = (const unsigned char *)v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
print_str(FILE *f, const char *indent, const char *name, const char *v)
{
	fprintf(f, "%s%s = ", indent, name);
	print_quoted(f, v);
	fprintf(f, ";\n");
}

/* The items of a table that have a value; CT_OTHER ones are the caller's. */
static void
print_items(FILE *f, const char *indent, const struct conf_item *tbl,
    const void *base)
{
	const struct conf_item	*it;
	const char		*p, *s;
	uint64_t		 u;

	for (it = tbl; it->name != NULL; it++) {
		if (strcmp(it->name, "password") == 0 ||
		    strcmp(it->name, "oauth2_token_command") == 0)
			continue;	/* secrets: print_mailbox */
		p = (const char *)base + it->off;
		switch (it->type) {
		case CT_STRING:
			if ((s = *(char *const *)(const void *)p) != NULL)
				print_str(f, indent, it->name, s);
			break;
		case CT_INT:
			/* Below its range: unset (batch_size 0, no limit). */
			if (*(const int *)(const void *)p >= it->lo)
				fprintf(f, "%s%s = %d;\n", indent, it->name,
				    *(const int *)(const void *)p);
			break;
		case CT_INT64:
			u = *(const uint64_t *)(const void *)p;
			fprintf(f, "%s%s = %" PRIu64 "%s;\n", indent, it->name,
			    u, u > INT32_MAX ? "L" : "");
			break;
		case CT_BOOL:
			fprintf(f, "%s%s = %s;\n", indent, it->name,
			    *(const int *)(const void *)p ? "true" : "false");
			break;
		case CT_DAYS:
			/* 0: not set, kept forever. */
			if (*(const int *)(const void *)p > 0)
				fprintf(f, "%s%s = \"%dd\";\n", indent,
				    it->name, *(const int *)(const void *)p);
			break;
		case CT_OTHER:
			break;
		}
	}
}

/*
 * conninfo with its password masked, in both forms libpq reads:
 * "... password=secret ..." (or 'quoted') and
 * "postgresql://user:secret@host/...?password=secret".  Malloc'd.
 */
static char *
mask_conninfo(const char *ci)
{
	struct buf	 b;
	const char	*p = ci, *v, *e, *at, *slash;

	buf_init(&b, SIZE_MAX);
	if (strncmp(ci, "postgres://", 11) == 0 ||
	    strncmp(ci, "postgresql://", 13) == 0) {
		v = strstr(ci, "://") + 3;
		slash = v + strcspn(v, "/?");
		at = memchr(v, '@', (size_t)(slash - v));
		e = at != NULL ? memchr(v, ':', (size_t)(at - v)) : NULL;
		if (e != NULL) {
			buf_add(&b, ci, (size_t)(e + 1 - ci));
			buf_add(&b, CONF_MASK, strlen(CONF_MASK));
			p = at;
		}
	}
	while ((v = strstr(p, "password")) != NULL) {
		e = v + 8;
		e += strspn(e, " ");
		if (*e != '=') {
			buf_add(&b, p, (size_t)(e - p));
			p = e;
			continue;
		}
		e++;
		e += strspn(e, " ");
		buf_add(&b, p, (size_t)(e - p));
		buf_add(&b, CONF_MASK, strlen(CONF_MASK));
		if (*e == '\'') {
			for (e++; *e != '\0' && *e != '\''; e++)
				if (*e == '\\' && e[1] != '\0')
					e++;
			if (*e == '\'')
				e++;
		} else
			e += strcspn(e, " &");
		p = e;
	}
	buf_add(&b, p, strlen(p));
	return (buf_steal(&b, NULL));
}

static void
print_mailbox(FILE *f, const struct conf_mailbox *mb)
{
	static const char	*after[] = { "seen", "move", "delete" };
	const char		*in = "    ";
	char			*first;

	fprintf(f, "  {\n");
	print_items(f, in, mailbox_items, mb);
	/* What came from a file or the environment stays there. */
	if (mb->password_file == NULL && mb->password_env == NULL &&
	    mb->password != NULL)
		fprintf(f, "%spassword = \"%s\";\n", in, CONF_MASK);
	if (mb->oauth2_token_command != NULL) {
		first = xstrndup(mb->oauth2_token_command,
		    strcspn(mb->oauth2_token_command, " \t"));
		fprintf(f, "%s# oauth2_token_command: %s ... (not shown)\n",
		    in, first);
		free(first);
	}
	print_str(f, in, "after", after[mb->after]);
	if (mb->tls != CONF_TLS_DEFAULT)
		print_str(f, in, "tls", tls_words[mb->tls]);
	if (mb->auth != CONF_AUTH_ANY)
		print_str(f, in, "auth", auth_words[mb->auth]);
	print_str(f, in, "search", search_words[mb->search_all ? 1 : 0]);
	print_str(f, in, "expunge", expunge_words[mb->expunge]);
	if (mb->since_days > 0)
		fprintf(f, "%ssince = \"%dd\";\n", in, mb->since_days);
	fprintf(f, "  }");
}

void
conf_print(const struct conf *c, FILE *f)
{
	char	*ci;
	size_t	 i;

	fprintf(f, "# %s, as in force (defaults included, secrets "
	    "masked)\n", c->file);
	ci = mask_conninfo(c->conninfo);
	fprintf(f, "database = {\n");
	print_str(f, "  ", "conninfo", ci);
	fprintf(f, "  auto_migrate = %s;\n  store_raw = %s;\n};\n",
	    c->auto_migrate ? "true" : "false",
	    c->store_raw ? "true" : "false");
	free(ci);
	print_str(f, "", "log", c->log_syslog ? "syslog" : "stderr");
	fprintf(f, "failure_reports = { store_body = %s; };\nlimits = {\n",
	    c->failure_store_body ? "true" : "false");
	print_items(f, "  ", limit_items, &c->limits);
	fprintf(f, "};\nenrichment = {\n");
	print_items(f, "  ", enrich_items, &c->enrich);
	if (c->enrich.nmmdb != 0) {
		fprintf(f, "  mmdb_file = [");
		for (i = 0; i < c->enrich.nmmdb; i++) {
			fputs(i == 0 ? " " : ", ", f);
			print_quoted(f, c->enrich.mmdb_files[i]);
		}
		fprintf(f, " ];\n");
	}
	fprintf(f, "};\nretention = {\n");
	print_items(f, "  ", retention_items, &c->retention);
	fprintf(f, "};\nmailboxes = (\n");
	for (i = 0; i < c->nmailboxes; i++) {
		print_mailbox(f, &c->mailboxes[i]);
		fprintf(f, "%s\n", i + 1 < c->nmailboxes ? "," : "");
	}
	fprintf(f, ");\n");
}
