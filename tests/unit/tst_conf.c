/*
 * tst_conf.c: conf_load against a table of configuration texts.  Each row
 * gives the text, how many errors it must produce and a substring of one
 * of them (with its line number), or the values a valid file must yield.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "agent/conf.h"
#include "tests/tst.h"

/* A valid mailbox, open for one more setting. */
#define MB "database = { conninfo = \"d\"; };\nmailboxes = ( { name = \"a\"; " \
	"url = \"imaps://h/INBOX\"; username = \"u\"; password = \"p\"; "

/* A mailbox for an oauth2 group, open for the group's settings. */
#define OA "database = { conninfo = \"d\"; };\nmailboxes = ( { name = \"o\"; " \
	"url = \"imaps://h/INBOX\"; username = \"u@example.com\";\n" \
	"oauth2 = { "
#define OA_MS "provider = \"microsoft\"; tenant = \"contoso\"; " \
	"client_id = \"c\"; "

struct row {
	const char	*text;
	size_t		 nerrors;
	const char	*want;		/* substring of some error, or NULL */
};

static const struct row rows[] = {
	{ "database = { conninfo = \"dbname=x\"; };", 0, NULL },
	{ "database = { conninfo = \"dbname=x\" };\nfoo = (;", 1,
	    ":2: syntax error" },
	{ "mailboxes = ();", 1, "missing \"database\" group" },
	{ "database = { conninfo = 5; };", 1, "\"conninfo\" must be a string" },
	{ "database = { conninfo = \"d\"; };\nmailboxes = ( { name = \"a\"; "
	    "url = \"pop3://h/INBOX\"; username = \"u\"; password = \"p\"; } );",
	    1, ":2: url \"pop3://h/INBOX\" must start with imaps://" },
	{ "database = { conninfo = \"d\"; };\nmailboxes = ( { name = \"a\"; "
	    "url = \"imaps://h/INBOX\"; username = \"u\"; password = \"p\"; "
	    "after = \"move\"; } );", 1, "needs \"archive_folder\"" },
	{ "database = { conninfo = \"d\"; };\nmailboxes = ( { name = \"a\"; "
	    "url = \"imaps://h/INBOX\"; username = \"u\"; password = \"p\"; "
	    "after = \"delete\"; } );", 1, "it is never deleted" },
	{ "database = { conninfo = \"d\"; };\nmailboxes = ( { name = \"a\"; "
	    "url = \"imaps://h/INBOX\"; username = \"u\"; "
	    "password_file = \"/nonexistent/x\"; } );", 1,
	    "cannot read password file \"/nonexistent/x\"" },
	{ "database = { conninfo = \"d\"; };\nmailboxes = (\n { name = \"a\"; "
	    "url = \"imaps://h/\"; username = \"u\"; password = \"p\"; },\n"
	    " { name = \"a\"; url = \"imaps://h/\"; username = \"u\"; "
	    "password = \"p\"; interval = 2; } );", 2,
	    ":4: mailbox \"a\" defined twice (first at line 3)" },
	{ "database = { conninfo = \"d\"; };\nlimits = { timeout = 0; };", 1,
	    "\"timeout\" must be between 1 and 3600" },
	{ "database = { conninfo = \"d\"; };\nlog = \"file\";", 1,
	    "\"log\" must be \"stderr\" or \"syslog\"" },
	{ MB "search = \"recent\"; } );", 1,
	    ":2: \"search\" must be \"unseen\" or \"all\"" },
	{ MB "tls = \"maybe\"; } );", 1,
	    "\"tls\" must be \"implicit\", \"starttls\" or \"none\"" },
	{ MB "since = \"30x\"; } );", 1,
	    "\"since\" must be a number of days such as \"30d\"" },
	{ MB "auth = \"xoauth2\"; } );", 1,
	    "auth = \"xoauth2\" needs one of \"oauth2_token_file\"" },
	{ MB "auth = \"kerberos\"; } );", 1,
	    "\"auth\" must be \"plain\", \"login\", \"xoauth2\" or "
	    "\"oauthbearer\"" },
	{ MB "batch_size = 0; } );", 1,
	    "\"batch_size\" must be between 1 and 10000000" },
	{ MB "workers = 0; } );", 1,
	    "\"workers\" must be between 1 and 16" },
	{ MB "workers = 17; } );", 1,
	    "\"workers\" must be between 1 and 16" },
	{ "database = { conninfo = \"d\"; };\nmailboxes = ( { name = \"a\"; "
	    "url = \"imaps://h/\"; username = \"u\"; "
	    "password_env = \"TST_CONF_UNSET_VAR\"; } );", 1,
	    "environment variable \"TST_CONF_UNSET_VAR\" is not set" },
	/* A nameless mailbox is called "#N" in its other errors. */
	{ "database = { conninfo = \"d\"; };\nmailboxes = ( { name = \"\"; "
	    "username = \"u\"; password = \"p\"; } );", 2,
	    ":2: mailbox \"#1\": missing \"url\"" },
	{ MB "expunge = \"sometimes\"; } );", 1,
	    ":2: \"expunge\" must be \"uid\", \"all\" or \"never\"" },
	{ MB "password_env = \"PATH\"; } );", 1,
	    ":2: mailbox \"a\": set only one of \"password\", "
	    "\"password_file\" or \"password_env\"" },
	{ "database = { conninfo = \"d\"; };\nmailboxes = ( { name = \"a\"; "
	    "url = \"imaps://h/\"; username = \"u\"; } );", 1,
	    ":2: mailbox \"a\": missing \"password\", \"password_file\" or "
	    "\"password_env\"" },
	/* libconfig 1.5 wraps 3000000000 without L: say how to write it. */
	{ "database = { conninfo = \"d\"; };\nlimits = { max_payload_size = "
	    "3000000000; };", 1, ":2: \"max_payload_size\" must be between "
	    "1024 and 68719476736 (a number of 2147483648 or more needs the "
	    "suffix L, as in 4294967296L)" },
	{ "database = { conninfo = \"d\"; };\nlimits = { max_payload_size = "
	    "3000000000L; max_message_size = 4294967296L; };", 0, NULL },
	{ MB "search = \"all\"; since = \"14d\"; batch_size = 50; "
	    "tls = \"starttls\"; auth = \"login\"; workers = 4; } );", 0,
	    NULL },
	/* oauth2 groups: what conf.c checks without loading a key. */
	{ OA OA_MS "flow = \"client_credentials\"; "
	    "client_secret_file = \"/nonexistent/s\"; }; } );", 1,
	    ":3: mailbox \"o\": cannot read client_secret_file "
	    "\"/nonexistent/s\": No such file or directory" },
	{ OA "provider = \"google\"; flow = \"client_credentials\"; "
	    "client_id = \"c\"; client_secret_file = \"/dev/null\"; }; } );",
	    1, ":3: mailbox \"o\": oauth2: provider \"google\" has no flow "
	    "\"client_credentials\" (use \"service_account\" or "
	    "\"refresh_token\")" },
	{ OA "provider = \"microsoft\"; flow = \"service_account\"; "
	    "service_account_file = \"/dev/null\"; }; } );", 1,
	    "provider \"microsoft\" has no flow \"service_account\"" },
	{ OA "tenant = \"t\"; }; } );", 2,
	    ":3: mailbox \"o\": oauth2 needs \"provider\"" },
	{ OA "provider = \"azure\"; flow = \"implicit\"; }; } );", 2,
	    ":3: \"flow\" must be \"client_credentials\", "
	    "\"service_account\" or \"refresh_token\"" },
	{ OA OA_MS "flow = \"client_credentials\"; }; } );", 1,
	    "oauth2 needs either \"client_secret_file\" or both "
	    "\"client_certificate_file\" and \"client_key_file\"" },
	{ OA OA_MS "flow = \"client_credentials\"; "
	    "client_key_file = \"/dev/null\"; }; } );", 1,
	    "oauth2 needs either \"client_secret_file\" or both" },
	{ OA "provider = \"microsoft\"; client_id = \"c\"; "
	    "flow = \"client_credentials\"; "
	    "client_secret_file = \"/dev/null\"; }; } );", 1,
	    "oauth2 needs \"tenant\"" },
	{ OA "provider = \"microsoft\"; tenant = \"t\"; "
	    "flow = \"client_credentials\"; "
	    "client_secret_file = \"/dev/null\"; }; } );", 1,
	    "oauth2 needs \"client_id\"" },
	{ OA "provider = \"google\"; flow = \"service_account\"; }; } );",
	    1, "oauth2 needs \"service_account_file\" (the JSON key)" },
	{ OA "provider = \"google\"; flow = \"refresh_token\"; "
	    "client_id = \"c\"; refresh_token_file = \"/tmp/tst-conf-none\";"
	    " }; } );", 1, "oauth2 needs \"client_secret_file\" (Google's" },
	{ OA "provider = \"generic\"; flow = \"client_credentials\"; "
	    "client_id = \"c\"; client_secret_file = \"/dev/null\"; }; } );",
	    1, "oauth2 needs \"token_url\" with provider \"generic\"" },
	{ OA OA_MS "flow = \"client_credentials\"; "
	    "client_secret_file = \"/dev/null\"; "
	    "token_url = \"http://127.0.0.1/t\"; }; } );", 1,
	    "oauth2: \"token_url\" must be an https:// URL" },
	{ OA OA_MS "flow = \"client_credentials\"; "
	    "client_secret = \"inline\"; }; } );", 2,
	    "oauth2: put the secret in a file of mode 0600" },
	{ OA OA_MS "flow = \"client_credentials\"; "
	    "client_secret_file = \"/dev/null\"; }; auth = \"plain\"; } );",
	    1, ":2: mailbox \"o\": an OAuth 2.0 token needs auth = "
	    "\"xoauth2\" or \"oauthbearer\"" },
	{ OA OA_MS "flow = \"client_credentials\"; "
	    "client_secret_file = \"/dev/null\"; };\n"
	    "oauth2_token_file = \"/dev/null\"; } );", 1,
	    "auth = \"xoauth2\" needs one of \"oauth2_token_file\", "
	    "\"oauth2_token_command\" or an \"oauth2\" group" },
	{ OA "provider = \"generic\"; flow = \"refresh_token\"; "
	    "client_id = \"c\"; token_url = \"https://idp/t\"; "
	    "refresh_token_file = \"/tmp/tst-conf-none\"; }; } );", 0, NULL },
	{ OA OA_MS "flow = \"refresh_token\"; "
	    "refresh_token_file = \"/tmp/tst-conf-none\"; }; "
	    "auth = \"oauthbearer\"; } );", 0, NULL },
	/* Retention: days, "Nd", each optional. */
	{ "database = { conninfo = \"d\"; };\nretention = { reports = "
	    "\"400d\"; ledger = \"1y\"; };", 1,
	    ":2: \"ledger\" must be a number of days such as \"400d\" "
	    "(1 to 36500)" },
	{ "database = { conninfo = \"d\"; };\nretention = { raw = 90; };", 1,
	    ":2: \"raw\" must be a number of days such as \"400d\"" },
	{ "database = { conninfo = \"d\"; };\nretention = { raw = \"0d\"; };",
	    1, "\"raw\" must be a number of days" },
	{ "database = { conninfo = \"d\"; };\nretention = "
	    "{ failure_reports = \"36501d\"; };", 1,
	    "\"failure_reports\" must be a number of days" },
	{ "database = { conninfo = \"d\"; };\nretention = \"400d\";", 1,
	    ":2: \"retention\" must be a group" },
	{ "database = { conninfo = \"d\"; };\nretention = { };", 0, NULL },
};

static char *
write_tmp(const char *text)
{
	char	*path = xstrdup("/tmp/tst_conf.XXXXXX");
	int	 fd;

	if ((fd = mkstemp(path)) == -1)
		fatal("mkstemp");
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fatal("write");
	close(fd);
	return (path);
}

static int
has(const struct conf_msgs *m, const char *want)
{
	size_t	i;

	for (i = 0; i < m->nerrors; i++)
		if (strstr(m->errors[i], want) != NULL)
			return (1);
	return (0);
}

static void
test_rows(void)
{
	struct conf_msgs	 m;
	struct conf		*c;
	size_t			 i, j;
	char			*path;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		path = write_tmp(rows[i].text);
		c = conf_load(path, &m);
		CHECK_INT(m.nerrors, rows[i].nerrors);
		CHECK((c == NULL) == (rows[i].nerrors != 0));
		if (m.nerrors != rows[i].nerrors)
			for (j = 0; j < m.nerrors; j++)
				fprintf(stderr, "row %zu: %s\n", i,
				    m.errors[j]);
		if (rows[i].want != NULL && !has(&m, rows[i].want)) {
			CHECK(!"expected error");
			fprintf(stderr, "row %zu: want \"%s\", got:\n", i,
			    rows[i].want);
			for (j = 0; j < m.nerrors; j++)
				fprintf(stderr, "  %s\n", m.errors[j]);
		}
		conf_free(c);
		conf_msgs_free(&m);
		unlink(path);
		free(path);
	}
}

/*
 * The fuzz regression input tests/fuzz/regress/conf/empty-name-leak.conf,
 * byte for byte: no database group and a mailbox named "".  The check
 * renames such a mailbox "#N" and once lost the "" it replaced; the
 * valgrind and ASan runs of this test see that leak come back.
 */
static void
test_empty_name(void)
{
	struct conf_msgs	 m;
	struct conf		*c;
	char			*path, *want;

	path = write_tmp("mailboxes = ( { name = \"\"; url = \"imaps://h/INBOX\"; "
	    "username = \"u\"; password = \"p\"; } );\n");
	c = conf_load(path, &m);
	CHECK(c == NULL);
	CHECK_INT(m.nwarnings, 0);
	CHECK_INT(m.nerrors, 2);
	if (m.nerrors == 2) {
		xasprintf(&want, "%s: missing \"database\" group", path);
		CHECK_STR(m.errors[0], want);
		free(want);
		xasprintf(&want, "%s:1: mailbox without a \"name\"", path);
		CHECK_STR(m.errors[1], want);
		free(want);
	}
	conf_free(c);
	conf_msgs_free(&m);
	unlink(path);
	free(path);
}

/* password_env, tls = "none" (a warning) and the OAuth 2.0 token sources. */
static void
test_tokens(void)
{
	struct conf_msgs	 m;
	struct conf		*c;
	char			*tokfile, *path, *text, *tok, *cause;

	setenv("TST_CONF_PW", "from-env", 1);
	tokfile = write_tmp("ya29.token-one\nignored\n");
	xasprintf(&text, "database = { conninfo = \"d\"; };\n"
	    "mailboxes = (\n"
	    " { name = \"e\"; url = \"imap://h/\"; username = \"u\";"
	    " password_env = \"TST_CONF_PW\"; tls = \"none\"; },\n"
	    " { name = \"f\"; url = \"imaps://h/\"; username = \"u\";"
	    " auth = \"xoauth2\"; oauth2_token_file = \"%s\"; },\n"
	    " { name = \"g\"; url = \"imaps://h/\"; username = \"u\";"
	    " auth = \"oauthbearer\";"
	    " oauth2_token_command = \"echo ya29.token-two; echo x\"; },\n"
	    " { name = \"h\"; url = \"imaps://h/\"; username = \"u\";"
	    " auth = \"oauthbearer\"; oauth2_token_command = \"exit 3\"; } );",
	    tokfile);
	path = write_tmp(text);
	c = conf_load(path, &m);
	CHECK(c != NULL);
	CHECK(m.nwarnings >= 1 && strstr(m.warnings[0], ":3: mailbox \"e\": "
	    "tls = \"none\" sends the password in clear text") != NULL);
	if (c != NULL) {
		CHECK_STR(c->mailboxes[0].password, "from-env");
		CHECK_INT(c->mailboxes[0].tls, CONF_TLS_NONE);
		CHECK_INT(c->mailboxes[1].auth, CONF_AUTH_XOAUTH2);
		tok = conf_oauth2_token(&c->mailboxes[1], &cause);
		CHECK_STR(tok, "ya29.token-one");
		free(tok);
		tok = conf_oauth2_token(&c->mailboxes[2], &cause);
		CHECK_STR(tok, "ya29.token-two");
		free(tok);
		tok = conf_oauth2_token(&c->mailboxes[3], &cause);
		CHECK(tok == NULL && cause != NULL &&
		    strstr(cause, "oauth2_token_command failed") != NULL);
		free(cause);
		tok = conf_oauth2_token(&c->mailboxes[0], &cause);
		CHECK(tok == NULL && cause == NULL);
	}
	conf_free(c);
	conf_msgs_free(&m);
	unlink(path);
	unlink(tokfile);
	free(path);
	free(tokfile);
	free(text);
}

/* Each expunge word gives its value; the default is "uid". */
static void
test_expunge(void)
{
	static const struct {
		const char		*set;
		enum conf_expunge	 want;
	} words[] = {
		{ "", CONF_EXPUNGE_UID },
		{ "expunge = \"uid\";", CONF_EXPUNGE_UID },
		{ "expunge = \"all\";", CONF_EXPUNGE_ALL },
		{ "expunge = \"never\";", CONF_EXPUNGE_NEVER },
	};
	struct conf_msgs	 m;
	struct conf		*c;
	char			*path, *text;
	size_t			 i;

	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		xasprintf(&text, MB "after = \"delete\"; invalid_folder = "
		    "\"Bad\"; %s } );", words[i].set);
		path = write_tmp(text);
		c = conf_load(path, &m);
		CHECK(c != NULL);
		if (c != NULL)
			CHECK_INT(c->mailboxes[0].expunge, words[i].want);
		conf_free(c);
		conf_msgs_free(&m);
		unlink(path);
		free(path);
		free(text);
	}
}

/* The first mailbox of a configuration text; NULL (checked) if invalid. */
static struct conf *
load_text(const char *text)
{
	struct conf_msgs	 m;
	struct conf		*c;
	char			*path;

	path = write_tmp(text);
	c = conf_load(path, &m);
	CHECK(c != NULL && c->nmailboxes == 1);
	if (c == NULL)
		fprintf(stderr, "%s: %s\n", text, m.nerrors != 0 ?
		    m.errors[0] : "?");
	conf_msgs_free(&m);
	unlink(path);
	free(path);
	return (c);
}

/*
 * conf_mailbox_equal: the same mailbox written elsewhere in the file, or
 * with its settings in another order, is equal; a change of any one
 * setting is not.
 */
static void
test_equal(void)
{
	static const struct {
		const char	*text;
		int		 equal;
	} variants[] = {
		{ MB "} );", 1 },
		{ "\n\n" MB "} );", 1 },
		{ "database = { conninfo = \"d\"; };\nmailboxes = ( { "
		    "password = \"p\"; username = \"u\"; "
		    "url = \"imaps://h/INBOX\"; name = \"a\"; } );", 1 },
		{ MB "interval = 300; workers = 2; search = \"unseen\"; "
		    "expunge = \"uid\"; after = \"seen\"; } );", 1 },
		{ MB "interval = 301; } );", 0 },
		{ MB "workers = 3; } );", 0 },
		{ MB "batch_size = 5; } );", 0 },
		{ MB "search = \"all\"; } );", 0 },
		{ MB "since = \"3d\"; } );", 0 },
		{ MB "expunge = \"never\"; } );", 0 },
		{ MB "archive_folder = \"A\"; } );", 0 },
		{ MB "invalid_folder = \"I\"; } );", 0 },
		{ MB "after = \"move\"; archive_folder = \"A\"; } );", 0 },
		{ MB "tls = \"starttls\"; } );", 0 },
		{ MB "tls_ca_file = \"/etc/ca.pem\"; } );", 0 },
		{ MB "auth = \"login\"; } );", 0 },
		{ "database = { conninfo = \"d\"; };\nmailboxes = ( { "
		    "name = \"a\"; url = \"imaps://h/INBOX\"; username = "
		    "\"u\"; password = \"q\"; } );", 0 },
		{ "database = { conninfo = \"d\"; };\nmailboxes = ( { "
		    "name = \"a\"; url = \"imaps://h/INBOX\"; username = "
		    "\"v\"; password = \"p\"; } );", 0 },
		{ "database = { conninfo = \"d\"; };\nmailboxes = ( { "
		    "name = \"a\"; url = \"imaps://h/Other\"; username = "
		    "\"u\"; password = \"p\"; } );", 0 },
		{ "database = { conninfo = \"d\"; };\nmailboxes = ( { "
		    "name = \"b\"; url = \"imaps://h/INBOX\"; username = "
		    "\"u\"; password = \"p\"; } );", 0 },
		{ "database = { conninfo = \"d\"; };\nmailboxes = ( { "
		    "name = \"a\"; url = \"imaps://h/INBOX\"; username = "
		    "\"u\"; password_env = \"TST_CONF_EQ\"; } );", 0 },
	};
	struct conf	*base, *c;
	size_t		 i;

	setenv("TST_CONF_EQ", "p", 1);
	base = load_text(variants[0].text);
	for (i = 0; base != NULL &&
	    i < sizeof variants / sizeof variants[0]; i++) {
		if ((c = load_text(variants[i].text)) == NULL)
			continue;
		if (conf_mailbox_equal(&base->mailboxes[0],
		    &c->mailboxes[0]) != variants[i].equal) {
			CHECK(!"conf_mailbox_equal");
			fprintf(stderr, "equal row %zu: want %d\n", i,
			    variants[i].equal);
		}
		conf_free(c);
	}
	conf_free(base);
}

static void
test_values(void)
{
	struct conf_msgs	 m;
	struct conf		*c;
	char			*secret, *path, *text;

	secret = write_tmp("s3cret pass\r\nsecond line\n");
	xasprintf(&text, "database = { conninfo = \"dbname=dmarc\"; };\n"
	    "unknown_thing = 1;\n"
	    "mailboxes = ( { name = \"r\"; url = \"imap://h:1143/Reports\"; "
	    "username = \"u@example.com\"; password_file = \"%s\"; "
	    "after = \"move\"; archive_folder = \"Archive\"; } );", secret);
	path = write_tmp(text);
	c = conf_load(path, &m);
	CHECK(c != NULL);
	CHECK_INT(m.nwarnings >= 1, 1);
	CHECK(m.nwarnings >= 1 && strstr(m.warnings[0], ":2: unknown setting "
	    "\"unknown_thing\"") != NULL);
	if (c != NULL) {
		CHECK_STR(c->conninfo, "dbname=dmarc");
		CHECK_INT(c->auto_migrate, 1);
		CHECK_INT(c->limits.max_message_size, 64 << 20);
		CHECK_INT(c->nmailboxes, 1);
		CHECK_STR(c->mailboxes[0].password, "s3cret pass");
		CHECK_INT(c->mailboxes[0].interval, 300);
		CHECK_INT(c->mailboxes[0].workers, 2);
		CHECK_INT(c->mailboxes[0].after, CONF_AFTER_MOVE);
		CHECK_INT(c->mailboxes[0].expunge, CONF_EXPUNGE_UID);
		CHECK_STR(c->mailboxes[0].archive_folder, "Archive");
		CHECK(c->mailboxes[0].invalid_folder == NULL);
		CHECK(conf_find_mailbox(c, "r") == &c->mailboxes[0]);
		CHECK(conf_find_mailbox(c, "x") == NULL);
		/* No retention: everything kept. */
		CHECK_INT(c->retention.reports + c->retention.tls_reports +
		    c->retention.failure_reports + c->retention.raw +
		    c->retention.ledger, 0);
	}
	conf_free(c);
	conf_msgs_free(&m);
	unlink(path);
	unlink(secret);
	free(path);
	free(secret);
	free(text);
	test_tokens();
}

/* An oauth2 group read into the structure and printed back. */
static void
test_oauth2(void)
{
	struct conf_msgs	 m;
	struct conf		*c;
	const struct conf_oauth2 *o;
	FILE			*f;
	char			*path, *out = NULL;
	size_t			 len;

	path = write_tmp("database = { conninfo = \"d\"; };\n"
	    "mailboxes = ( { name = \"m365\"; url = \"imaps://h/INBOX\";"
	    " username = \"dmarc@contoso.com\";\n"
	    " oauth2 = { provider = \"microsoft\";"
	    " flow = \"client_credentials\";"
	    " tenant = \"contoso.onmicrosoft.com\"; client_id = \"c1d\";"
	    " client_secret_file = \"/dev/null\"; scope = \"s\";"
	    " ca_file = \"/dev/null\"; }; } );");
	c = conf_load(path, &m);
	CHECK(c != NULL);
	if (c != NULL) {
		o = &c->mailboxes[0].oauth2;
		CHECK_INT(o->provider, CONF_OAUTH2_MICROSOFT);
		CHECK_INT(o->flow, CONF_OAUTH2_CLIENT_CREDENTIALS);
		CHECK_STR(o->tenant, "contoso.onmicrosoft.com");
		CHECK_STR(o->client_id, "c1d");
		CHECK_STR(o->client_secret_file, "/dev/null");
		CHECK_STR(o->scope, "s");
		CHECK(o->refresh_token_file == NULL);
		CHECK_INT(o->line, 3);
		CHECK_INT(c->mailboxes[0].auth, CONF_AUTH_XOAUTH2);
		f = open_memstream(&out, &len);
		conf_print(c, f);
		fclose(f);
		CHECK(strstr(out, "    auth = \"xoauth2\";\n    search = "
		    "\"unseen\";\n    expunge = \"uid\";\n    oauth2 = {\n"
		    "      provider = "
		    "\"microsoft\";\n      flow = \"client_credentials\";\n"
		    "      tenant = \"contoso.onmicrosoft.com\";\n      "
		    "client_id = \"c1d\";\n      client_secret_file = "
		    "\"/dev/null\";\n      scope = \"s\";\n      ca_file = "
		    "\"/dev/null\";\n    };\n  }") != NULL);
		free(out);
	}
	conf_free(c);
	conf_msgs_free(&m);
	unlink(path);
	free(path);
}

/* The retention group's values, and check-config -v prints them back. */
static void
test_retention(void)
{
	struct conf_msgs	 m;
	struct conf		*c;
	char			*path, *out = NULL;
	size_t			 len = 0;
	FILE			*f;

	path = write_tmp("database = { conninfo = \"d\"; };\n"
	    "retention = { reports = \"400d\"; tls_reports = \"401d\";\n"
	    "  failure_reports = \"90d\"; raw = \"91d\"; ledger = \"36500d\";"
	    " };");
	c = conf_load(path, &m);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_INT(c->retention.reports, 400);
		CHECK_INT(c->retention.tls_reports, 401);
		CHECK_INT(c->retention.failure_reports, 90);
		CHECK_INT(c->retention.raw, 91);
		CHECK_INT(c->retention.ledger, 36500);
		if ((f = open_memstream(&out, &len)) == NULL)
			fatal("open_memstream");
		conf_print(c, f);
		fclose(f);
		CHECK(strstr(out, "retention = {\n  reports = \"400d\";\n"
		    "  tls_reports = \"401d\";\n  failure_reports = \"90d\";\n"
		    "  raw = \"91d\";\n  ledger = \"36500d\";\n};\n") != NULL);
		free(out);
	}
	conf_free(c);
	conf_msgs_free(&m);
	unlink(path);
	free(path);
	/* Only some: the others unset, and not printed. */
	path = write_tmp("database = { conninfo = \"d\"; };\n"
	    "retention = { failure_reports = \"30d\"; };");
	c = conf_load(path, &m);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_INT(c->retention.failure_reports, 30);
		CHECK_INT(c->retention.reports, 0);
		if ((f = open_memstream(&out, &len)) == NULL)
			fatal("open_memstream");
		conf_print(c, f);
		fclose(f);
		CHECK(strstr(out, "retention = {\n  failure_reports = \"30d\";\n"
		    "};\n") != NULL);
		free(out);
	}
	conf_free(c);
	conf_msgs_free(&m);
	unlink(path);
	free(path);
}

int
main(void)
{
	test_rows();
	test_empty_name();
	test_values();
	test_expunge();
	test_equal();
	test_oauth2();
	test_retention();
	return (TST_DONE());
}
