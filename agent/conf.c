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
#include <libgen.h>
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
	{ "oauth2", CT_OTHER, 0, 0, 0 },	/* conf_oauth2 */
	{ NULL, 0, 0, 0, 0 }
};

#define OA_OFF(f)	offsetof(struct conf_oauth2, f)
static const struct conf_item oauth2_items[] = {
	{ "provider", CT_OTHER, 0, 0, 0 },	/* conf_oauth2 */
	{ "flow", CT_OTHER, 0, 0, 0 },
	{ "tenant", CT_STRING, 0, 0, OA_OFF(tenant) },
	{ "client_id", CT_STRING, 0, 0, OA_OFF(client_id) },
	{ "client_secret_file", CT_STRING, 0, 0, OA_OFF(client_secret_file) },
	{ "client_certificate_file", CT_STRING, 0, 0,
	    OA_OFF(client_certificate_file) },
	{ "client_key_file", CT_STRING, 0, 0, OA_OFF(client_key_file) },
	{ "service_account_file", CT_STRING, 0, 0,
	    OA_OFF(service_account_file) },
	{ "refresh_token_file", CT_STRING, 0, 0, OA_OFF(refresh_token_file) },
	{ "token_url", CT_STRING, 0, 0, OA_OFF(token_url) },
	{ "device_url", CT_STRING, 0, 0, OA_OFF(device_url) },
	{ "auth_url", CT_STRING, 0, 0, OA_OFF(auth_url) },
	{ "scope", CT_STRING, 0, 0, OA_OFF(scope) },
	{ "ca_file", CT_STRING, 0, 0, OA_OFF(ca_file) },
	{ NULL, 0, 0, 0, 0 }
};
static const char *provider_words[] = {
	"", "microsoft", "google", "generic", NULL
};
static const char *flow_words[] = {
	"", "client_credentials", "service_account", "refresh_token", NULL
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

#define VF_OFF(f)	offsetof(struct conf_verify, f)
static const struct conf_item verify_items[] = {
	{ "enabled", CT_BOOL, 0, 0, VF_OFF(enabled) },
	{ "resolver", CT_STRING, 0, 0, VF_OFF(resolver) },
	{ "timeout_ms", CT_INT, 50, 60000, VF_OFF(timeout_ms) },
	{ "budget_ms", CT_INT, 50, 600000, VF_OFF(budget_ms) },
	{ "cache_ttl", CT_INT, 1, 86400 * 7, VF_OFF(cache_ttl) },
	{ "negative_ttl", CT_INT, 1, 86400, VF_OFF(negative_ttl) },
	{ "max_signatures", CT_INT, 1, 64, VF_OFF(max_signatures) },
	{ "max_signature_bytes", CT_INT, 256, 65536,
	    VF_OFF(max_signature_bytes) },
	{ "keep_message", CT_BOOL, 0, 0, VF_OFF(keep_message) },
	{ "trusted_authserv_ids", CT_OTHER, 0, 0, 0 },	/* conf_verify */
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
	"verification", "failure_reports", "alerts", "notify", "summary",
	"retention", NULL
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
static int	conf_strings(struct conf_ctx *, const config_setting_t *,
		    const char *, int (*)(const char *), const char *, char ***,
		    size_t *);
static int	authserv_id_ok(const char *);
static void	conf_enrich(struct conf_ctx *, const config_setting_t *,
		    struct conf_enrich *);
static void	conf_verify(struct conf_ctx *, const config_setting_t *,
		    struct conf_verify *);
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
static void	 conf_oauth2(struct conf_ctx *, const config_setting_t *,
		    struct conf_mailbox *);
static void	 oauth2_flow_check(struct conf_ctx *, const config_setting_t *,
		    const char *, struct conf_oauth2 *);
static void	 oauth2_files(struct conf_ctx *, const config_setting_t *,
		    const char *, struct conf_oauth2 *);
static void	 oauth2_file(struct conf_ctx *, const config_setting_t *,
		    const char *, const char *, const char *, int);
static void	conf_mode_check(struct conf_ctx *, const char *,
		    const struct conf *);
static void	conf_oauth2_free(struct conf_oauth2 *);
/* Alerts, notification and the summary: the section at the end. */
static void	conf_alerting_defaults(struct conf *);
static void	conf_alerting(struct conf_ctx *, config_t *, struct conf *);
static void	conf_alerting_free(struct conf *);
static void	print_alerting(FILE *, const struct conf *);

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
	c->verify.enabled = 1;
	c->verify.timeout_ms = 2000;
	c->verify.budget_ms = 5000;
	c->verify.cache_ttl = 3600;
	c->verify.negative_ttl = 300;
	c->verify.max_signatures = 8;
	c->verify.max_signature_bytes = 8192;
	c->verify.keep_message = 1;
	conf_alerting_defaults(c);
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
			/*
			 * libconfig 1.5 (Debian 12) wraps a number past
			 * 32 bits written without L, so 3000000000 reads
			 * as a negative one and 4294967296 as 0.
			 */
			conf_error(cx, m, "\"%s\" must be between %lld and "
			    "%lld%s", it->name, (long long)it->lo,
			    (long long)it->hi, type == CONFIG_TYPE_INT &&
			    it->hi > INT32_MAX ? " (a number of 2147483648 "
			    "or more needs the suffix L, as in 4294967296L)" :
			    "");
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

/*
 * The strings of member name of s, a string or a list of them, appended
 * to *v (*n of them).  A value that is not a string, or that ok refuses
 * (ok may be NULL), is the error what and ends the list; *elem is set to
 * the setting of each string taken, for the caller's own checks.
 */
static int
conf_strings(struct conf_ctx *cx, const config_setting_t *s,
    const char *name, int (*ok)(const char *), const char *what,
    char ***v, size_t *n)
{
	const config_setting_t	*m, *e;
	const char		*str;
	int			 i, len;

	if ((m = config_setting_get_member(s, name)) == NULL)
		return (0);
	len = config_setting_type(m) == CONFIG_TYPE_STRING ? 1 :
	    config_setting_length(m);
	for (i = 0; i < len; i++) {
		e = config_setting_type(m) == CONFIG_TYPE_STRING ? m :
		    config_setting_get_elem(m, i);
		if (e == NULL || (str = config_setting_get_string(e)) == NULL ||
		    (ok != NULL && !ok(str))) {
			conf_error(cx, m, "%s", what);
			return (-1);
		}
		*v = xreallocarray(*v, *n + 1, sizeof **v);
		(*v)[(*n)++] = xstrdup(str);
	}
	return (0);
}

/* An RFC 8601 authserv-id as a setting may give it: a host name. */
static int
authserv_id_ok(const char *v)
{
	return (*v != '\0' && strpbrk(v, " \t;()\"") == NULL);
}

/* The enrichment group: the table's items, and mmdb_file (one or a list). */
static void
conf_enrich(struct conf_ctx *cx, const config_setting_t *s,
    struct conf_enrich *en)
{
	size_t	i;

	if (!config_setting_is_group(s)) {
		conf_error(cx, s, "\"enrichment\" must be a group { ... }");
		return;
	}
	conf_unknown(cx, s, NULL, enrich_items);
	conf_items(cx, s, enrich_items, en);
	conf_strings(cx, s, "mmdb_file", NULL, "\"mmdb_file\" must be a "
	    "string or a list of strings", &en->mmdb_files, &en->nmmdb);
	for (i = 0; i < en->nmmdb; i++)
		if (access(en->mmdb_files[i], R_OK) != 0)
			conf_error(cx, config_setting_get_member(s,
			    "mmdb_file"), "cannot read mmdb_file \"%s\": %s",
			    en->mmdb_files[i], strerror(errno));
}

/*
 * The verification group: the table's items, and trusted_authserv_ids (a
 * string or a list of them, RFC 8601 authserv-ids).
 */
static void
conf_verify(struct conf_ctx *cx, const config_setting_t *s,
    struct conf_verify *vf)
{
	if (!config_setting_is_group(s)) {
		conf_error(cx, s, "\"verification\" must be a group { ... }");
		return;
	}
	conf_unknown(cx, s, NULL, verify_items);
	conf_items(cx, s, verify_items, vf);
	conf_strings(cx, s, "trusted_authserv_ids", authserv_id_ok,
	    "\"trusted_authserv_ids\" must be a string or a list of strings, "
	    "each an authserv-id (a host name, no spaces)", &vf->trusted_ids,
	    &vf->ntrusted);
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
	conf_oauth2(cx, e, mb);
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
	    (mb->oauth2_token_command != NULL) +
	    (mb->oauth2.provider != CONF_OAUTH2_NONE);
	if (mb->auth == CONF_AUTH_XOAUTH2 ||
	    mb->auth == CONF_AUTH_OAUTHBEARER) {
		if (ntok != 1)
			conf_error(cx, e, "mailbox \"%s\": auth = \"%s\" needs "
			    "one of \"oauth2_token_file\", "
			    "\"oauth2_token_command\" or an \"oauth2\" group",
			    mb->name, auth_words[mb->auth]);
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
 * The oauth2 group: the agent gets its own tokens (oauth/).  Checked here
 * without libcrypto or the network: the words, their combination, the
 * keys each flow needs, the files (readable; the secret ones private),
 * the URLs.  agent/oauth2.c's oauth2_check loads the keys for check-config.
 */
static void
conf_oauth2(struct conf_ctx *cx, const config_setting_t *e,
    struct conf_mailbox *mb)
{
	const config_setting_t	*g, *m;
	struct conf_oauth2	*o = &mb->oauth2;
	int			 w;

	if ((g = config_setting_get_member(e, "oauth2")) == NULL)
		return;
	if (!config_setting_is_group(g)) {
		conf_error(cx, g, "mailbox \"%s\": \"oauth2\" must be a group "
		    "{ ... }", mb->name);
		return;
	}
	o->line = config_setting_source_line(g);
	if ((m = config_setting_get_member(g, "client_secret")) != NULL)
		conf_error(cx, m, "mailbox \"%s\": oauth2: put the secret in "
		    "a file of mode 0600 and name it in "
		    "\"client_secret_file\"", mb->name);
	conf_unknown(cx, g, (const char *[]){ "client_secret", NULL },
	    oauth2_items);
	conf_items(cx, g, oauth2_items, o);
	if ((w = conf_word(cx, g, "provider", provider_words, 0)) > 0)
		o->provider = (enum conf_oauth2_provider)w;
	else if (w == 0)
		conf_error(cx, g, "mailbox \"%s\": oauth2 needs \"provider\" "
		    "(\"microsoft\", \"google\" or \"generic\")", mb->name);
	if ((w = conf_word(cx, g, "flow", flow_words, 0)) > 0)
		o->flow = (enum conf_oauth2_flow)w;
	else if (w == 0)
		conf_error(cx, g, "mailbox \"%s\": oauth2 needs \"flow\" "
		    "(\"client_credentials\", \"service_account\" or "
		    "\"refresh_token\")", mb->name);
	if (o->provider == CONF_OAUTH2_NONE) {
		/* Still counted as a token source: no second error. */
		o->provider = CONF_OAUTH2_GENERIC;
		return;
	}
	/* Microsoft's IMAP takes XOAUTH2 only; Google both. */
	if (mb->auth == CONF_AUTH_ANY)
		mb->auth = CONF_AUTH_XOAUTH2;
	if (o->flow != 0)
		oauth2_flow_check(cx, g, mb->name, o);
	oauth2_files(cx, g, mb->name, o);
}

/* The provider has the flow, and the flow has what it needs. */
static void
oauth2_flow_check(struct conf_ctx *cx, const config_setting_t *g,
    const char *name, struct conf_oauth2 *o)
{
	const char	*p = provider_words[o->provider];
	int		 cert;

	cert = o->client_certificate_file != NULL || o->client_key_file != NULL;
	if ((o->provider == CONF_OAUTH2_GOOGLE &&
	    o->flow == CONF_OAUTH2_CLIENT_CREDENTIALS) ||
	    (o->provider != CONF_OAUTH2_GOOGLE &&
	    o->flow == CONF_OAUTH2_SERVICE_ACCOUNT)) {
		conf_error(cx, g, "mailbox \"%s\": oauth2: provider \"%s\" has "
		    "no flow \"%s\" (%s)", name, p, flow_words[o->flow],
		    o->provider == CONF_OAUTH2_GOOGLE ? "use \"service_account"
		    "\" or \"refresh_token\"" : "use \"client_credentials\" or "
		    "\"refresh_token\"");
		return;
	}
	if (o->flow != CONF_OAUTH2_SERVICE_ACCOUNT && o->client_id == NULL)
		conf_error(cx, g, "mailbox \"%s\": oauth2 needs \"client_id\"",
		    name);
	if (o->provider == CONF_OAUTH2_MICROSOFT && o->tenant == NULL &&
	    (o->token_url == NULL || (o->flow == CONF_OAUTH2_REFRESH_TOKEN &&
	    o->device_url == NULL)))
		conf_error(cx, g, "mailbox \"%s\": oauth2 needs \"tenant\" "
		    "(the directory: contoso.onmicrosoft.com or its ID)", name);
	if (o->provider == CONF_OAUTH2_GENERIC && o->token_url == NULL)
		conf_error(cx, g, "mailbox \"%s\": oauth2 needs \"token_url\" "
		    "with provider \"generic\"", name);
	switch (o->flow) {
	case CONF_OAUTH2_CLIENT_CREDENTIALS:
		if ((o->client_secret_file != NULL) == cert ||
		    (cert && (o->client_certificate_file == NULL ||
		    o->client_key_file == NULL)))
			conf_error(cx, g, "mailbox \"%s\": oauth2 needs either "
			    "\"client_secret_file\" or both "
			    "\"client_certificate_file\" and "
			    "\"client_key_file\"", name);
		break;
	case CONF_OAUTH2_SERVICE_ACCOUNT:
		if (o->service_account_file == NULL)
			conf_error(cx, g, "mailbox \"%s\": oauth2 needs "
			    "\"service_account_file\" (the JSON key)", name);
		break;
	case CONF_OAUTH2_REFRESH_TOKEN:
		if (o->refresh_token_file == NULL)
			conf_error(cx, g, "mailbox \"%s\": oauth2 needs "
			    "\"refresh_token_file\"", name);
		if (o->provider == CONF_OAUTH2_GOOGLE &&
		    o->client_secret_file == NULL)
			conf_error(cx, g, "mailbox \"%s\": oauth2 needs "
			    "\"client_secret_file\" (Google's desktop app "
			    "client secret)", name);
		if (o->provider == CONF_OAUTH2_GENERIC &&
		    o->device_url == NULL && o->auth_url == NULL)
			conf_warn(cx, g, "mailbox \"%s\": oauth2: without "
			    "\"device_url\" or \"auth_url\", oauth2 login "
			    "cannot get the first refresh token", name);
		break;
	}
}

/* The files and URLs of the group. */
static void
oauth2_files(struct conf_ctx *cx, const config_setting_t *g,
    const char *name, struct conf_oauth2 *o)
{
	const char	*urls[] = { "token_url", "device_url", "auth_url" };
	const char	*v[] = { o->token_url, o->device_url, o->auth_url };
	size_t		 i;

	oauth2_file(cx, g, name, "client_secret_file", o->client_secret_file,
	    1);
	oauth2_file(cx, g, name, "client_certificate_file",
	    o->client_certificate_file, 0);
	oauth2_file(cx, g, name, "client_key_file", o->client_key_file, 1);
	oauth2_file(cx, g, name, "service_account_file",
	    o->service_account_file, 1);
	oauth2_file(cx, g, name, "refresh_token_file", o->refresh_token_file,
	    2);
	oauth2_file(cx, g, name, "ca_file", o->ca_file, 0);
	for (i = 0; i < sizeof urls / sizeof urls[0]; i++)
		if (v[i] != NULL && strncasecmp(v[i], "https://", 8) != 0)
			conf_error(cx, config_setting_get_member(g, urls[i]),
			    "mailbox \"%s\": oauth2: \"%s\" must be an "
			    "https:// URL", name, urls[i]);
}

/*
 * A file of the group must be readable; a secret one (secret 1) should
 * be private; the refresh token file (secret 2) may not exist yet.
 */
static void
oauth2_file(struct conf_ctx *cx, const config_setting_t *g, const char *name,
    const char *key, const char *path, int secret)
{
	const config_setting_t	*m = config_setting_get_member(g, key);
	struct stat		 st;
	char			*copy;

	if (path == NULL)
		return;
	if (secret == 2 && access(path, F_OK) != 0 && errno == ENOENT) {
		copy = xstrdup(path);
		if (access(dirname(copy), W_OK) != 0)
			conf_warn(cx, m, "mailbox \"%s\": oauth2: the "
			    "directory of refresh_token_file \"%s\" cannot be "
			    "written (%s)", name, path, strerror(errno));
		else
			conf_warn(cx, m, "mailbox \"%s\": no refresh token yet "
			    "in \"%s\": run dmarc-agent oauth2 login %s", name,
			    path, name);
		free(copy);
		return;
	}
	if (access(path, R_OK) != 0) {
		conf_error(cx, m, "mailbox \"%s\": cannot read %s \"%s\": %s",
		    name, key, path, strerror(errno));
		return;
	}
	if (secret && stat(path, &st) == 0 &&
	    (st.st_mode & (S_IRWXG | S_IRWXO)))
		conf_warn(cx, m, "mailbox \"%s\": %s \"%s\" is readable by "
		    "group or others (chmod 600)", name, key, path);
}

static void
conf_oauth2_free(struct conf_oauth2 *o)
{
	free(o->tenant);
	free(o->client_id);
	free(o->client_secret_file);
	free(o->client_certificate_file);
	free(o->client_key_file);
	free(o->service_account_file);
	free(o->refresh_token_file);
	free(o->token_url);
	free(o->device_url);
	free(o->auth_url);
	free(o->scope);
	free(o->ca_file);
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
	if ((s = config_lookup(&cfg, "verification")) != NULL)
		conf_verify(&cx, s, &c->verify);
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
	conf_alerting(&cx, &cfg, c);
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
		conf_oauth2_free(&mb->oauth2);
	}
	free(c->mailboxes);
	for (i = 0; i < c->enrich.nmmdb; i++)
		free(c->enrich.mmdb_files[i]);
	free(c->enrich.mmdb_files);
	free(c->enrich.resolver);
	for (i = 0; i < c->verify.ntrusted; i++)
		free(c->verify.trusted_ids[i]);
	free(c->verify.trusted_ids);
	free(c->verify.resolver);
	conf_alerting_free(c);
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

void
conf_msgs_error(struct conf_msgs *m, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	conf_msg(&m->errors, &m->nerrors, file, line, "%s", msg);
	free(msg);
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
static void	print_oauth2(FILE *, const struct conf_oauth2 *);

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
	print_oauth2(f, &mb->oauth2);
	fprintf(f, "  }");
}

/* The group holds no secret, only the paths of the files that do. */
static void
print_oauth2(FILE *f, const struct conf_oauth2 *o)
{
	if (o->provider == CONF_OAUTH2_NONE)
		return;
	fprintf(f, "    oauth2 = {\n");
	print_str(f, "      ", "provider", provider_words[o->provider]);
	if (o->flow != 0)
		print_str(f, "      ", "flow", flow_words[o->flow]);
	print_items(f, "      ", oauth2_items, o);
	fprintf(f, "    };\n");
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
	fprintf(f, "};\nverification = {\n");
	print_items(f, "  ", verify_items, &c->verify);
	if (c->verify.ntrusted != 0) {
		fprintf(f, "  trusted_authserv_ids = [");
		for (i = 0; i < c->verify.ntrusted; i++) {
			fputs(i == 0 ? " " : ", ", f);
			print_quoted(f, c->verify.trusted_ids[i]);
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
	print_alerting(f, c);
}

/*
 * Alerts, notification and the summary mail ---------------------------------
 *
 *   alerts = { days = 3;
 *     new_failing_source = { enabled = true; min_messages = 5; };
 *     approved_sender_failing = { min_messages = 10; pass_rate = 90; };
 *     pass_rate_drop = { points = 10; min_messages = 50;
 *         history_days = 14; };
 *     silent_reporter = { days = 3; };
 *     mailbox_failing = { polls = 3; }; };
 *   notify = { retry = 60;
 *     mail = { url = "smtps://..." | "smtp://..."; from; to = [ ... ];
 *         username; password_file; tls_ca_file; };
 *     webhook = { url = "https://..."; secret_file; tls_ca_file; }; };
 *   summary = { every = "daily" | "weekly" | "monthly"; days = 7;
 *     to = [ ... ]; };
 *
 * Secrets come from files only (password_file, secret_file), read at load
 * time like a mailbox's; check-config -v prints the files' names, never
 * what they hold.  A summary needs notify.mail, which carries it.
 */
#define AR_OFF(f)	offsetof(struct conf_alert_rule, f)
#define NM_OFF(f)	offsetof(struct conf_notify_mail, f)
#define NH_OFF(f)	offsetof(struct conf_notify_hook, f)

static const char *rule_names[CONF_NRULES + 1] = {
	"new_failing_source", "approved_sender_failing", "pass_rate_drop",
	"silent_reporter", "mailbox_failing", NULL
};

/* Each rule's settings; enabled first. */
static const struct conf_item rule_items[CONF_NRULES][5] = {
	{ { "enabled", CT_BOOL, 0, 0, AR_OFF(enabled) },
	  { "min_messages", CT_INT, 1, 1000000000, AR_OFF(min_messages) },
	  { NULL, 0, 0, 0, 0 } },
	{ { "enabled", CT_BOOL, 0, 0, AR_OFF(enabled) },
	  { "min_messages", CT_INT, 1, 1000000000, AR_OFF(min_messages) },
	  { "pass_rate", CT_INT, 1, 100, AR_OFF(pass_rate) },
	  { NULL, 0, 0, 0, 0 } },
	{ { "enabled", CT_BOOL, 0, 0, AR_OFF(enabled) },
	  { "points", CT_INT, 1, 100, AR_OFF(points) },
	  { "min_messages", CT_INT, 1, 1000000000, AR_OFF(min_messages) },
	  { "history_days", CT_INT, 2, 90, AR_OFF(history_days) },
	  { NULL, 0, 0, 0, 0 } },
	{ { "enabled", CT_BOOL, 0, 0, AR_OFF(enabled) },
	  { "days", CT_INT, 1, 90, AR_OFF(days) },
	  { NULL, 0, 0, 0, 0 } },
	{ { "enabled", CT_BOOL, 0, 0, AR_OFF(enabled) },
	  { "polls", CT_INT, 1, 10000, AR_OFF(polls) },
	  { NULL, 0, 0, 0, 0 } }
};

static const struct conf_item alerts_items[] = {
	{ "days", CT_INT, 1, 60, offsetof(struct conf_alerts, days) },
	{ NULL, 0, 0, 0, 0 }
};
static const struct conf_item notify_items[] = {
	{ "retry", CT_INT, 1, 86400, offsetof(struct conf_notify, retry) },
	{ "mail", CT_OTHER, 0, 0, 0 },
	{ "webhook", CT_OTHER, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 }
};
static const struct conf_item mail_items[] = {
	{ "url", CT_STRING, 0, 0, NM_OFF(url) },
	{ "from", CT_STRING, 0, 0, NM_OFF(from) },
	{ "to", CT_OTHER, 0, 0, 0 },
	{ "username", CT_STRING, 0, 0, NM_OFF(username) },
	{ "password_file", CT_STRING, 0, 0, NM_OFF(password_file) },
	{ "tls_ca_file", CT_STRING, 0, 0, NM_OFF(tls_ca_file) },
	{ NULL, 0, 0, 0, 0 }
};
static const struct conf_item hook_items[] = {
	{ "url", CT_STRING, 0, 0, NH_OFF(url) },
	{ "secret_file", CT_STRING, 0, 0, NH_OFF(secret_file) },
	{ "tls_ca_file", CT_STRING, 0, 0, NH_OFF(tls_ca_file) },
	{ NULL, 0, 0, 0, 0 }
};
static const struct conf_item summary_items[] = {
	{ "every", CT_OTHER, 0, 0, 0 },
	{ "days", CT_INT, 1, 366, offsetof(struct conf_summary, days) },
	{ "to", CT_OTHER, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 }
};
static const char *every_words[] = {
	"", "daily", "weekly", "monthly", NULL
};

static int	alert_address_ok(const char *);
static void	alert_addresses(struct conf_ctx *, const config_setting_t *,
		    const char *, char ***, size_t *);
static void	alert_rules(struct conf_ctx *, const config_setting_t *,
		    struct conf_alerts *);
static void	alert_mail(struct conf_ctx *, const config_setting_t *,
		    struct conf_notify *);
static void	alert_hook(struct conf_ctx *, const config_setting_t *,
		    struct conf_notify *);
static void	alert_summary(struct conf_ctx *, const config_setting_t *,
		    struct conf *);
static void	alert_free_list(char **, size_t);
static void	alert_print_list(FILE *, const char *, char **, size_t);

static void
conf_alerting_defaults(struct conf *c)
{
	struct conf_alert_rule	*r = c->alerts.rule;
	int			 i;

	c->alerts.days = 3;
	for (i = 0; i < CONF_NRULES; i++)
		r[i].enabled = 1;
	r[CONF_RULE_NEW_FAILING_SOURCE].min_messages = 5;
	r[CONF_RULE_APPROVED_SENDER_FAILING].min_messages = 10;
	r[CONF_RULE_APPROVED_SENDER_FAILING].pass_rate = 90;
	r[CONF_RULE_PASS_RATE_DROP].points = 10;
	r[CONF_RULE_PASS_RATE_DROP].min_messages = 50;
	r[CONF_RULE_PASS_RATE_DROP].history_days = 14;
	r[CONF_RULE_SILENT_REPORTER].days = 3;
	r[CONF_RULE_MAILBOX_FAILING].polls = 3;
	c->notify.retry = 60;
	c->summary.days = 7;
}

/*
 * A bare address, local@domain, as it goes into an SMTP envelope and a
 * header: printable ASCII without spaces, quotes, brackets or separators.
 */
static int
alert_address_ok(const char *a)
{
	const char	*at;

	if (strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.!#$%&'*+-/=?^_`{|}~@") != strlen(a))
		return (0);
	if ((at = strchr(a, '@')) == NULL || at == a || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || strlen(a) > 254)
		return (0);
	return (1);
}

/* A list of addresses (or one string) named name of group s. */
static void
alert_addresses(struct conf_ctx *cx, const config_setting_t *s,
    const char *name, char ***list, size_t *n)
{
	const config_setting_t	*m, *e;
	const char		*v;
	int			 i, len;

	if ((m = config_setting_get_member(s, name)) == NULL)
		return;
	len = config_setting_type(m) == CONFIG_TYPE_STRING ? 1 :
	    config_setting_length(m);
	if (len == 0 || (config_setting_type(m) != CONFIG_TYPE_STRING &&
	    !config_setting_is_aggregate(m))) {
		conf_error(cx, m, "\"%s\" must be an address or a list of"
		    " addresses", name);
		return;
	}
	for (i = 0; i < len; i++) {
		e = config_setting_type(m) == CONFIG_TYPE_STRING ? m :
		    config_setting_get_elem(m, i);
		if (e == NULL || (v = config_setting_get_string(e)) == NULL ||
		    !alert_address_ok(v)) {
			conf_error(cx, e != NULL ? e : m, "\"%s\": not a mail"
			    " address (local@domain)", name);
			continue;
		}
		*list = xreallocarray(*list, *n + 1, sizeof **list);
		(*list)[(*n)++] = xstrdup(v);
	}
}

static void
alert_rules(struct conf_ctx *cx, const config_setting_t *s,
    struct conf_alerts *al)
{
	const config_setting_t	*m;
	int			 i;

	if (!config_setting_is_group(s)) {
		conf_error(cx, s, "\"alerts\" must be a group { ... }");
		return;
	}
	conf_unknown(cx, s, rule_names, alerts_items);
	conf_items(cx, s, alerts_items, al);
	for (i = 0; i < CONF_NRULES; i++) {
		if ((m = config_setting_get_member(s, rule_names[i])) == NULL)
			continue;
		if (!config_setting_is_group(m)) {
			conf_error(cx, m, "alerts: \"%s\" must be a group"
			    " { ... }", rule_names[i]);
			continue;
		}
		conf_unknown(cx, m, NULL, rule_items[i]);
		conf_items(cx, m, rule_items[i], &al->rule[i]);
	}
}

static void
alert_mail(struct conf_ctx *cx, const config_setting_t *s,
    struct conf_notify *n)
{
	struct conf_notify_mail	*ml;
	const char		*host;
	char			*cause;

	ml = n->mail = xcalloc(1, sizeof *n->mail);
	conf_unknown(cx, s, NULL, mail_items);
	conf_items(cx, s, mail_items, ml);
	alert_addresses(cx, s, "to", &ml->to, &ml->nto);
	if (ml->url == NULL || (strncasecmp(ml->url, "smtps://", 8) != 0 &&
	    strncasecmp(ml->url, "smtp://", 7) != 0))
		conf_error(cx, s, "notify.mail: \"url\" must start with"
		    " smtps:// or smtp:// (STARTTLS)");
	else {
		host = ml->url + (ml->url[4] == 's' || ml->url[4] == 'S' ?
		    8 : 7);
		if (*host == '\0' || *host == '/' || *host == ':')
			conf_error(cx, s, "notify.mail: url \"%s\" has no"
			    " host", ml->url);
		else if (strchr(host, '@') != NULL)
			conf_error(cx, s, "notify.mail: the url must not hold"
			    " credentials: use \"username\" and"
			    " \"password_file\"");
	}
	if (ml->from == NULL || !alert_address_ok(ml->from))
		conf_error(cx, s, "notify.mail: \"from\" must be a mail"
		    " address (local@domain)");
	if (ml->nto == 0)
		conf_error(cx, s, "notify.mail: \"to\" needs at least one"
		    " address");
	if ((ml->username == NULL) != (ml->password_file == NULL))
		conf_error(cx, s, "notify.mail: \"username\" and"
		    " \"password_file\" go together");
	else if (ml->password_file != NULL && (ml->password =
	    conf_read_secret(cx, ml->password_file, &cause)) == NULL) {
		conf_error(cx, s, "notify.mail: %s", cause);
		free(cause);
	}
}

static void
alert_hook(struct conf_ctx *cx, const config_setting_t *s,
    struct conf_notify *n)
{
	struct conf_notify_hook	*h;
	char			*cause;

	h = n->webhook = xcalloc(1, sizeof *n->webhook);
	conf_unknown(cx, s, NULL, hook_items);
	conf_items(cx, s, hook_items, h);
	if (h->url == NULL || strncasecmp(h->url, "https://", 8) != 0 ||
	    h->url[8] == '\0' || h->url[8] == '/')
		conf_error(cx, s, "notify.webhook: \"url\" must be an"
		    " https:// URL");
	if (h->secret_file == NULL)
		conf_error(cx, s, "notify.webhook: missing \"secret_file\""
		    " (the HMAC-SHA256 key)");
	else if ((h->secret = conf_read_secret(cx, h->secret_file,
	    &cause)) == NULL) {
		conf_error(cx, s, "notify.webhook: %s", cause);
		free(cause);
	} else if (*h->secret == '\0')
		conf_error(cx, s, "notify.webhook: the secret file \"%s\" is"
		    " empty", h->secret_file);
}

static void
alert_summary(struct conf_ctx *cx, const config_setting_t *s, struct conf *c)
{
	int	w;

	if (!config_setting_is_group(s)) {
		conf_error(cx, s, "\"summary\" must be a group { ... }");
		return;
	}
	conf_unknown(cx, s, NULL, summary_items);
	conf_items(cx, s, summary_items, &c->summary);
	if ((w = conf_word(cx, s, "every", every_words, CONF_EVERY_WEEKLY)) >=
	    0)
		c->summary.every = (enum conf_every)w;
	alert_addresses(cx, s, "to", &c->summary.to, &c->summary.nto);
	if (c->notify.mail == NULL)
		conf_error(cx, s, "\"summary\" needs notify.mail to send it");
}

/* The alerts, notify and summary groups, when present. */
static void
conf_alerting(struct conf_ctx *cx, config_t *cfg, struct conf *c)
{
	config_setting_t	*s, *m;

	if ((s = config_lookup(cfg, "alerts")) != NULL)
		alert_rules(cx, s, &c->alerts);
	if ((s = config_lookup(cfg, "notify")) != NULL) {
		if (!config_setting_is_group(s))
			conf_error(cx, s, "\"notify\" must be a group { ... }");
		else {
			conf_unknown(cx, s, NULL, notify_items);
			conf_items(cx, s, notify_items, &c->notify);
			if ((m = config_setting_get_member(s, "mail")) != NULL) {
				if (config_setting_is_group(m))
					alert_mail(cx, m, &c->notify);
				else
					conf_error(cx, m, "notify: \"mail\""
					    " must be a group { ... }");
			}
			m = config_setting_get_member(s, "webhook");
			if (m != NULL && config_setting_is_group(m))
				alert_hook(cx, m, &c->notify);
			else if (m != NULL)
				conf_error(cx, m, "notify: \"webhook\" must be"
				    " a group { ... }");
		}
	}
	if ((s = config_lookup(cfg, "summary")) != NULL)
		alert_summary(cx, s, c);
}

static void
alert_free_list(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
conf_alerting_free(struct conf *c)
{
	struct conf_notify_mail	*ml = c->notify.mail;
	struct conf_notify_hook	*h = c->notify.webhook;

	if (ml != NULL) {
		free(ml->url);
		free(ml->from);
		alert_free_list(ml->to, ml->nto);
		free(ml->username);
		free(ml->password_file);
		if (ml->password != NULL)
			explicit_bzero(ml->password, strlen(ml->password));
		free(ml->password);
		free(ml->tls_ca_file);
		free(ml);
	}
	if (h != NULL) {
		free(h->url);
		free(h->secret_file);
		if (h->secret != NULL)
			explicit_bzero(h->secret, strlen(h->secret));
		free(h->secret);
		free(h->tls_ca_file);
		free(h);
	}
	alert_free_list(c->summary.to, c->summary.nto);
}

static void
alert_print_list(FILE *f, const char *indent, char **v, size_t n)
{
	size_t	i;

	fprintf(f, "%sto = [", indent);
	for (i = 0; i < n; i++) {
		fputs(i == 0 ? " " : ", ", f);
		print_quoted(f, v[i]);
	}
	fprintf(f, " ];\n");
}

/* The three groups as in force; secrets are in files, named only. */
static void
print_alerting(FILE *f, const struct conf *c)
{
	const struct conf_notify_mail	*ml = c->notify.mail;
	const struct conf_notify_hook	*h = c->notify.webhook;
	int				 i;

	fprintf(f, "alerts = {\n  days = %d;\n", c->alerts.days);
	for (i = 0; i < CONF_NRULES; i++) {
		fprintf(f, "  %s = {\n", rule_names[i]);
		print_items(f, "    ", rule_items[i], &c->alerts.rule[i]);
		fprintf(f, "  };\n");
	}
	fprintf(f, "};\nnotify = {\n  retry = %d;\n", c->notify.retry);
	if (ml != NULL) {
		fprintf(f, "  mail = {\n");
		print_items(f, "    ", mail_items, ml);
		alert_print_list(f, "    ", ml->to, ml->nto);
		fprintf(f, "  };\n");
	}
	if (h != NULL) {
		fprintf(f, "  webhook = {\n");
		print_items(f, "    ", hook_items, h);
		fprintf(f, "  };\n");
	}
	fprintf(f, "};\n");
	if (c->summary.every == CONF_EVERY_NONE)
		return;
	fprintf(f, "summary = {\n");
	print_str(f, "  ", "every", every_words[c->summary.every]);
	fprintf(f, "  days = %d;\n", c->summary.days);
	if (c->summary.nto != 0)
		alert_print_list(f, "  ", c->summary.to, c->summary.nto);
	fprintf(f, "};\n");
}
