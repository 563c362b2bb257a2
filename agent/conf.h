/*
 * conf.h: the configuration file (libconfig).
 *
 * conf_load parses and validates the whole file into a struct conf that owns
 * every string (nothing borrowed from libconfig survives).  Errors are
 * collected as "FILE:LINE: message" (libconfig stops at the first syntax
 * error; semantic errors are all reported), warnings likewise.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum conf_after {
	CONF_AFTER_SEEN = 0,
	CONF_AFTER_MOVE,
	CONF_AFTER_DELETE
};

/* After \Deleted (after = "move" or "delete"); same order as enum
   imap_expunge. */
enum conf_expunge {
	CONF_EXPUNGE_UID = 0,		/* UID EXPUNGE of ours (UIDPLUS) */
	CONF_EXPUNGE_ALL,		/* EXPUNGE: others' \Deleted too */
	CONF_EXPUNGE_NEVER		/* leave them flagged */
};

enum conf_tls {
	CONF_TLS_DEFAULT = 0,		/* from the URL scheme */
	CONF_TLS_IMPLICIT,
	CONF_TLS_STARTTLS,
	CONF_TLS_NONE
};

enum conf_auth {
	CONF_AUTH_ANY = 0,		/* the best the server offers */
	CONF_AUTH_PLAIN,
	CONF_AUTH_LOGIN,
	CONF_AUTH_XOAUTH2,
	CONF_AUTH_OAUTHBEARER
};

/* The oauth2 group: the words and order of oauth/oauth.h's enums. */
enum conf_oauth2_provider {
	CONF_OAUTH2_NONE = 0,		/* no oauth2 group */
	CONF_OAUTH2_MICROSOFT,
	CONF_OAUTH2_GOOGLE,
	CONF_OAUTH2_GENERIC
};

enum conf_oauth2_flow {
	CONF_OAUTH2_CLIENT_CREDENTIALS = 1,
	CONF_OAUTH2_SERVICE_ACCOUNT,
	CONF_OAUTH2_REFRESH_TOKEN
};

/* Every secret is in a file: the group holds paths and names only. */
struct conf_oauth2 {
	enum conf_oauth2_provider provider;
	enum conf_oauth2_flow	 flow;
	char		*tenant;
	char		*client_id;
	char		*client_secret_file;
	char		*client_certificate_file;
	char		*client_key_file;
	char		*service_account_file;
	char		*refresh_token_file;
	char		*token_url;
	char		*device_url;
	char		*auth_url;
	char		*scope;
	char		*ca_file;
	int		 line;		/* where the group was defined */
};

struct conf_mailbox {
	char		*name;
	char		*url;
	char		*username;
	char		*password;	/* from password, password_file or
					   password_env */
	char		*password_file;
	char		*password_env;
	char		*oauth2_token_file;	/* re-read before each poll */
	char		*oauth2_token_command;	/* run for a token */
	char		*tls_ca_file;	/* NULL: system store */
	enum conf_tls	 tls;
	enum conf_auth	 auth;
	int		 interval;	/* seconds */
	enum conf_after	 after;
	enum conf_expunge expunge;
	char		*archive_folder;
	char		*invalid_folder;
	int		 search_all;	/* search = "all" (default "unseen") */
	int		 since_days;	/* since = "30d"; 0: none */
	int		 batch_size;	/* messages per poll; 0: unlimited */
	int		 workers;	/* database writers per poll; 2 */
	struct conf_oauth2 oauth2;	/* the agent gets its own tokens */
	int		 line;		/* where it was defined */
	/* A new field: conf_free and conf_mailbox_equal. */
};

/* The limits group; defaults in conf_defaults, documented in the man page. */
struct conf_limits {
	uint64_t	 max_message_size;	/* bytes; 64 MiB */
	uint64_t	 max_payload_size;	/* decompressed; 1 GiB */
	uint64_t	 max_ratio;		/* past 8 MiB; 200 */
	uint64_t	 max_zip_members;	/* 64 */
	uint64_t	 max_containers;	/* nested; 4 */
	uint64_t	 max_mime_parts;	/* 1000 */
	uint64_t	 max_mime_depth;	/* 32 */
	uint64_t	 max_header_line;	/* bytes; 1 MiB */
	uint64_t	 max_records;		/* per report; 10,000,000 */
	uint64_t	 max_results;		/* DKIM/SPF per record; 100 */
	uint64_t	 max_text;		/* bytes per XML element; 64 KiB */
	uint64_t	 max_json;		/* bytes of a TLS report; 16 MiB */
	uint64_t	 timeout;		/* network seconds; 60 */
};

/* The enrichment group (resolver, mmdb_file, ttl, concurrency ...). */
struct conf_enrich {
	int		 enabled;	/* background passes in run; 1 */
	char		*resolver;	/* "IP[:PORT]"; NULL: the system's */
	char		**mmdb_files;	/* mmdb_file: a string or a list */
	size_t		 nmmdb;
	int		 ttl;		/* seconds; 86400 */
	int		 concurrency;	/* 16 */
	int		 timeout_ms;	/* per query; 2000 */
	int		 tries;		/* per query; 2 */
	int		 retry;		/* first retry of a failure, s; 300 */
	int		 interval;	/* seconds between passes in run; 600 */
};

/* The verification group: who sent each report mail (verify/). */
struct conf_verify {
	int		 enabled;	/* 1 */
	char		*resolver;	/* NULL: enrichment.resolver */
	int		 timeout_ms;	/* one key lookup; 2000 */
	int		 budget_ms;	/* all lookups of a message; 5000 */
	int		 cache_ttl;	/* s; 3600 */
	int		 negative_ttl;	/* s; 300 */
	int		 max_signatures;	/* 8 */
	int		 max_signature_bytes;	/* 8192 */
	int		 keep_message;	/* keep signed mail whole; 1 */
	char		**trusted_ids;	/* trusted_authserv_ids */
	size_t		 ntrusted;
};

/*
 * Alerts, their notification and the summary mail (the alerts, notify and
 * summary groups; conf.c's section of the same name).  The rules are in
 * this order, which show/'s enum show_rule follows.
 */
enum conf_rule {
	CONF_RULE_NEW_FAILING_SOURCE = 0,
	CONF_RULE_APPROVED_SENDER_FAILING,
	CONF_RULE_PASS_RATE_DROP,
	CONF_RULE_SILENT_REPORTER,
	CONF_RULE_MAILBOX_FAILING,
	CONF_NRULES
};

/* One rule's group; each rule reads the fields it has a use for. */
struct conf_alert_rule {
	int		 enabled;	/* every rule: true */
	int		 min_messages;	/* new_failing_source 5, approved 10,
					   pass_rate_drop 50 */
	int		 pass_rate;	/* approved_sender_failing: under 90 */
	int		 points;	/* pass_rate_drop: 10 under the median */
	int		 history_days;	/* pass_rate_drop: 14 */
	int		 days;		/* silent_reporter: 3 */
	int		 polls;		/* mailbox_failing: 3 */
};

struct conf_alerts {
	int			 days;	/* looked at, up to today; 3 */
	struct conf_alert_rule	 rule[CONF_NRULES];
};

/* notify.mail: SMTP with TLS (smtps://, or smtp:// with STARTTLS). */
struct conf_notify_mail {
	char		*url;
	char		*from;
	char		**to;
	size_t		 nto;
	char		*username;	/* NULL: no login */
	char		*password_file;
	char		*password;	/* read from password_file */
	char		*tls_ca_file;	/* NULL: the system's */
};

/* notify.webhook: an HTTPS POST of JSON, signed with HMAC-SHA256. */
struct conf_notify_hook {
	char		*url;
	char		*secret_file;
	char		*secret;	/* read from secret_file */
	char		*tls_ca_file;
};

struct conf_notify {
	struct conf_notify_mail	*mail;		/* NULL: not configured */
	struct conf_notify_hook	*webhook;	/* NULL: not configured */
	int			 retry;		/* first retry, s; 60 */
};

enum conf_every {
	CONF_EVERY_NONE = 0,	/* no summary group */
	CONF_EVERY_DAILY,
	CONF_EVERY_WEEKLY,
	CONF_EVERY_MONTHLY
};

struct conf_summary {
	enum conf_every	 every;
	int		 days;		/* covered; 7 */
	char		**to;		/* default: notify.mail.to */
	size_t		 nto;
};

/*
 * The retention group: how many days each kind of data is kept ("400d");
 * 0 (not set): forever.  dmarc-agent prune and run delete what is older.
 */
struct conf_retention {
	int		 reports;	/* aggregate reports and records */
	int		 tls_reports;
	int		 failure_reports; /* personal data */
	int		 raw;		/* raw payloads (reparse) */
	int		 ledger;	/* IMAP ledger rows */
};

struct conf {
	char			*file;
	char			*conninfo;
	int			 auto_migrate;	/* default 1 */
	int			 store_raw;	/* keep payloads; default 1 */
	int			 failure_store_body; /* failure_reports.store_body */
	int			 log_syslog;	/* log = "syslog" */
	struct conf_limits	 limits;
	struct conf_enrich	 enrich;
	struct conf_verify	 verify;
	struct conf_retention	 retention;
	struct conf_mailbox	*mailboxes;
	size_t			 nmailboxes;
	struct conf_alerts	 alerts;
	struct conf_notify	 notify;
	struct conf_summary	 summary;
};

struct conf_msgs {
	char	**errors;
	size_t	  nerrors;
	char	**warnings;
	size_t	  nwarnings;
};

/*
 * Load and check FILE.  Returns the configuration, or NULL when there was
 * any error; msgs is filled either way (free with conf_msgs_free).  Does
 * not exit.
 */
struct conf	*conf_load(const char *file, struct conf_msgs *msgs);
/* The same, logging every error and warning (after prefix) instead. */
struct conf	*conf_load_logged(const char *file, const char *prefix);
void		 conf_free(struct conf *);
void		 conf_msgs_free(struct conf_msgs *);
/* Add an error "FILE:LINE: message" (line 0: "FILE: message"). */
void		 conf_msgs_error(struct conf_msgs *, const char *, int,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
const struct conf_mailbox *conf_find_mailbox(const struct conf *,
		    const char *);
/*
 * Whether two mailboxes have the same settings, the line they were
 * defined on aside (`run` keeps the schedule of an unchanged mailbox
 * across a reload).  Every field of struct conf_mailbox takes part: a new
 * field goes there too.
 */
int		 conf_mailbox_equal(const struct conf_mailbox *,
		    const struct conf_mailbox *);
/*
 * Print the configuration in force, defaults included, in the file's
 * syntax, with every secret masked: passwords, the password in conninfo,
 * and oauth2_token_command (only its first word is shown).
 */
void		 conf_print(const struct conf *, FILE *);
/*
 * The OAuth 2.0 bearer token for a mailbox: the first line of
 * oauth2_token_file, or of what oauth2_token_command prints.  NULL with
 * *cause when neither works; NULL without a cause when none is configured.
 * The caller frees it (explicit_bzero first).
 */
char		*conf_oauth2_token(const struct conf_mailbox *, char **);

#endif
