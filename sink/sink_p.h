/*
 * sink_p.h: what the sink's files share (sink.c, sink-report.c,
 * sink-schema.c and the generated sink-migrations.c), and tests/server/tst_sink.c.
 *
 * Every statement is one of enum sink_stmt, whose text, result status
 * and number of parameters are in the table sink_stmts (sink.c); the
 * table also says which statements are prepared once per connection
 * (PQprepare, then PQexecPrepared) and which are sent with PQexecParams.
 * A statement goes through sink_exec (waits for its result) or, for the
 * per-message statements, sink_send (libpq pipeline mode: sent at once,
 * its result read at the next sink_sync or sink_wait).  Both check the
 * result status, turn a failure into a malloc'd cause and classify it
 * (struct sink's err, see sink_last_error).  sink_exec first reads every
 * result still pending (a failure there is its own) and leaves pipeline
 * mode, so it may be called at any point.  Data never becomes part of an
 * SQL string: arrays travel as text array literals built by sink_array_*
 * (parameter values, not SQL), bytea as binary parameters.
 */
#ifndef SINK_P_H
#define SINK_P_H

#include <stdint.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "sink/sink.h"

/* The ledger's mailbox for files given to the ingest command. */
#define SINK_FILE_MAILBOX	"file"

/* pg_advisory_lock key that serialises migrations: "dmarc" in ASCII. */
#define SINK_MIGRATE_LOCK	"431331832419"

/* The advisory lock space of mailbox locks: "DMRC". */
#define SINK_LOCK_CLASS	"1145918019"

/*
 * pg_advisory_xact_lock key that serialises sink_mailbox_claim: "mbox" in
 * ASCII (a one-bigint key: not in the space of the mailbox locks).
 */
#define SINK_CLAIM_LOCK	"1835167608"

/* Most parameters one statement takes. */
#define SINK_MAXPARAMS	112

/* A PostgreSQL array literal (text[] etc.) can be as large as a field. */
#define SINK_ARRAY_MAX	(1024UL * 1024 * 1024)

/* Largest report_raw chunk (the table's CHECK says the same). */
#define SINK_RAW_CHUNK	(1024 * 1024)

/* Statements sent but not yet answered, at most (then sink_wait). */
#define SINK_PIPE_MAX	64

/* report_file ids reserved at a time (struct sink's pool). */
#define SINK_POOL	16

/*
 * The statements, one entry each in sink_stmts (sink.c).  A prepared one
 * is named "dmarc_<n>" on the server, n its value here.
 */
enum sink_stmt {
	/* Transactions. */
	SINK_ST_BEGIN,
	SINK_ST_COMMIT,
	SINK_ST_ROLLBACK,
	SINK_ST_SAVEPOINT_MSG,
	SINK_ST_RELEASE_MSG,
	SINK_ST_ROLLBACK_MSG,
	SINK_ST_SAVEPOINT_PAYLOAD,
	SINK_ST_ROLLBACK_PAYLOAD,
	/* The connection and the ledger. */
	SINK_ST_SEARCH_PATH,
	SINK_ST_LEDGER_LIST,
	SINK_ST_CLAIM,
	SINK_ST_AFTER_DONE,
	SINK_ST_LEDGER,
	SINK_ST_LEDGER_FILE,
	SINK_ST_POOL,
	SINK_ST_MSG_STATUS,
	SINK_ST_LEDGER_SET,
	SINK_ST_LEDGER_FACTS,
	/* The schema. */
	SINK_ST_SCHEMA_EXISTS,
	SINK_ST_SCHEMA_VERSION,
	SINK_ST_SCHEMA_RECORD,
	SINK_ST_MIGRATE_LOCK,
	SINK_ST_MIGRATE_UNLOCK,
	/* Payloads and aggregate reports. */
	SINK_ST_FILE,
	SINK_ST_FILE_END,
	SINK_ST_FILE_END_RAW,
	SINK_ST_FILE_ONCE,
	SINK_ST_FILE_ONCE_RAW,
	SINK_ST_HEAD,
	SINK_ST_DUP_LOCK,
	SINK_ST_DUP,
	SINK_ST_RECORDS,
	SINK_ST_END,
	SINK_ST_WHOLE,
	SINK_ST_WHOLE_PAYLOAD,
	SINK_ST_WHOLE_PAYLOAD_RAW,
	SINK_ST_SET,
	SINK_ST_REPARSE_LOCK,
	SINK_ST_REPARSE_DELIVERIES,
	SINK_ST_REPARSE_CLEAR,
	SINK_ST_REPARSE_HEAD,
	SINK_ST_REPARSE_LINK,
	/* The rollup tables. */
	SINK_ST_ROLLUP_FLUSH,
	SINK_ST_ROLLUP_SUB,
	SINK_ST_ROLLUP_CHECK,
	/* Raw payloads and reparse transactions. */
	SINK_ST_RAW_CHUNK,
	SINK_ST_RAW_READ,
	SINK_ST_RAW_LIST,
	SINK_ST_RAW_CHECK,
	SINK_ST_REPARSE_FILE,
	SINK_ST_FILE_ERROR,
	/* TLS and failure reports. */
	SINK_ST_TLS_HEAD,
	SINK_ST_TLS_BODY,
	SINK_ST_TLS_LOCK,
	SINK_ST_TLS_DUP,
	SINK_ST_FAILURE,
	SINK_ST_FAILURE_LOCK,
	SINK_ST_FAILURE_DUP,
	SINK_ST_TLS_REPARSE_LOCK,
	SINK_ST_TLS_REPARSE_HEAD,
	SINK_ST_TLS_REPARSE_DELIVERIES,
	SINK_ST_TLS_REPARSE_LINK,
	SINK_ST_FAILURE_REPARSE_LOCK,
	SINK_ST_FAILURE_REPARSE,
	SINK_ST_FAILURE_REPARSE_DELIVERIES,
	SINK_ST_FAILURE_REPARSE_LINK,
	/* Poll runs and mailbox locks. */
	SINK_ST_RUN_BEGIN,
	SINK_ST_RUN_END,
	SINK_ST_MAILBOX_LOCK,
	SINK_ST_MAILBOX_CLAIM_LOCK,
	SINK_ST_MAILBOX_CLAIM,
	/* A poll's history (sink.c) and retention (sink-prune.c). */
	SINK_ST_LEDGER_FIND,
	SINK_ST_LEDGER_UNFINISHED,
	SINK_ST_CLAIMED_IDS,
	SINK_ST_MARK_READ,
	SINK_ST_MARK_WRITE,
	SINK_ST_PRUNE_REPORTS,
	SINK_ST_PRUNE_TLS,
	SINK_ST_PRUNE_FAILURE,
	SINK_ST_PRUNE_RAW,
	SINK_ST_PRUNE_MAIL_RAW,
	SINK_ST_PRUNE_LEDGER,
	SINK_ST_PRUNE_RUNS,
	SINK_ST_COUNT_REPORTS,
	SINK_ST_COUNT_TLS,
	SINK_ST_COUNT_FAILURE,
	SINK_ST_COUNT_RAW,
	SINK_ST_COUNT_MAIL_RAW,
	SINK_ST_COUNT_LEDGER,
	SINK_ST_COUNT_RUNS,
	/* Enrichment. */
	SINK_ST_ENRICH_DISCOVER,
	SINK_ST_ENRICH_DUE,
	SINK_ST_ENRICH_STORE,
	/* Who sent a report mail (sink-auth.c). */
	SINK_ST_AUTH_CLEAR,
	SINK_ST_AUTH_STORE,
	SINK_ST_AUTH_CLEAR_SET,
	SINK_ST_AUTH_SET,
	SINK_ST_MSGRAW_CHUNK,
	SINK_ST_MSGRAW_READ,
	SINK_ST_AUTH_LIST,
	SINK_ST_AUTH_REPORTS,
	SINK_NSTMT
};

/* A statement's entry in the table. */
struct sink_stmt_def {
	const char	*what;		/* names it in a cause ("what: ...") */
	const char	*sql;
	ExecStatusType	 want;		/* the status of its result */
	int		 nparams;	/* it takes exactly $1 .. $nparams */
	int		 flags;
#define SINK_PREP	0x1		/* prepared once per connection */
#define SINK_BINARY	0x2		/* results in binary format */
#define SINK_LEDGER_READ 0x4		/* reads the open message's ledger
					   facts, or earlier ones': those kept
					   are written first (sink-set.c) */
};
extern const struct sink_stmt_def sink_stmts[SINK_NSTMT];

struct sink_rawout;
struct sink_defer;
struct sink_set;

/* What to check in a pipelined statement's result besides its status. */
enum sink_check {
	SINK_CHK_NONE,
	SINK_CHK_ROW,		/* exactly one row */
	SINK_CHK_COUNT		/* one row whose first value is expect */
};

/* A statement sent in pipeline mode whose result is not read yet. */
struct sink_pending {
	const char	*what;		/* static text, for the cause */
	ExecStatusType	 want;
	enum sink_check	 check;
	long long	 expect;
	int		 prep;		/* a PQsendPrepare of statement prep,
					   or -1 */
	int		 batch;		/* a failure fails the whole batch */
	int		 cmd;		/* sink_send_cmd's: fails only when
					   the transaction or the connection
					   already did */
	PGresult	**out;		/* keep the result here (or NULL) */
};

struct sink {
	PGconn		*conn;
	int		 in_msg;	/* inside sink_msg_begin ... commit, or
					   sink_reparse_begin ... commit */
	int		 reparse;	/* ... and it is a reparse */
	char		 message_pk[24];	/* current ledger row, text */
	char		 file_pk[24];	/* current report_file row, or "" */
	char		 report_pk[24];	/* current new report, or "" */
	enum sink_error	 err;		/* class of the last failure */
	int		 store_raw;	/* keep payloads in report_raw */
	struct sink_rawout *rawout;	/* payload being compressed, or NULL */
	int		 defer_on;	/* sink_set_defer */
	const char	*next_auth;	/* sink_set_authenticity, or NULL */
	struct sink_defer *defer;	/* the report held back, or NULL */
	struct sink_params *file_held;	/* report_file row not sent yet */
	int		 sets_on;	/* sink_set_sets */
	int		 sets_off;	/* a set failed: payload by payload
					   until a batch commits */
	struct sink_set	*set;		/* payloads kept for the batch */
	size_t		 set_mark;	/* ... before the open message's */
	uint8_t		 prepared[SINK_NSTMT];	/* statement n is prepared */

	int		 in_batch;	/* sink_batch_begin .. commit */
	char		*batch_cause;	/* the batch failed: why, or NULL */
	int		 commit_unknown;	/* the last sink_batch_commit
					   lost the connection after its
					   COMMIT went out */
	int		 fail_at;	/* sink_sync: pend index of the first
					   failure (npend: the sync point) */
	int		 fail_lost;	/* ... no reply came: the connection
					   was lost */
	int		 fail_conn;	/* ... or the reply was a connection
					   error (SQLSTATE 08, 57P) */
	void		(*commit_hook)(void *);	/* sink_set_commit_hook */
	void		*commit_arg;
	int		 pipeline;	/* libpq is in pipeline mode */
	struct sink_pending pend[SINK_PIPE_MAX];
	int		 npend;		/* statements sent */
	int		 nread;		/* ... whose results were read */
	int		 last_records;	/* pend index of the last record
					   batch sent, or -1 */
	int		 rollup_dirty;	/* records sent in this transaction:
					   rollup_flush() before COMMIT */
	long long	 pool[SINK_POOL];	/* reserved report_file ids */
	int		 npool;
	unsigned long	 waits;		/* round trips so far (tests) */
};

/* One migration step, from sink/migrations/NNN_name.sql. */
struct sink_migration {
	int		 version;
	const char	*name;
	const char	*sql;
};
extern const struct sink_migration sink_migrations[];
extern const size_t sink_nmigrations;

/*
 * Statement parameters: borrowed or owned text values, NULL for SQL NULL,
 * or borrowed binary values (bytea).
 */
struct sink_params {
	const char	*val[SINK_MAXPARAMS];
	char		*own[SINK_MAXPARAMS];
	int		 len[SINK_MAXPARAMS];
	int		 fmt[SINK_MAXPARAMS];	/* 0 text, 1 binary */
	int		 n;
	int		 binary;		/* any fmt 1 */
};
void	sink_params_init(struct sink_params *);
void	sink_params_free(struct sink_params *);
void	sink_param_str(struct sink_params *, const char *);
void	sink_param_own(struct sink_params *, char *);	/* takes it */
void	sink_param_int(struct sink_params *, long long);
void	sink_param_sha(struct sink_params *, const unsigned char *);
void	sink_param_bin(struct sink_params *, const void *, size_t);

/* A text array literal under construction. */
struct sink_array {
	struct buf	 b;
	size_t		 n;
	int		 overflow;
};
void	sink_array_init(struct sink_array *);
void	sink_array_add(struct sink_array *, const char *);	/* NULL ok */
void	sink_array_addint(struct sink_array *, long long);
/* Finish: the literal to sink_param_own, or NULL with *cause on overflow. */
char	*sink_array_end(struct sink_array *, char **);
void	sink_array_free(struct sink_array *);

/*
 * Run statement st with the parameters (p may be NULL; their number must
 * be the table's, else fatalx) and wait for its result, which must have
 * the table's status.  A prepared statement is prepared the first time it
 * is used on this connection.  On success returns 0 and the result in
 * *res (the caller PQclears it) or, when res is NULL, clears it.  On
 * failure returns -1 with *cause = "what: server message".
 */
int	sink_exec(struct sink *, enum sink_stmt, const struct sink_params *p,
	    PGresult **res, char **);
/* Run a statement without parameters and keep no result (BEGIN ...). */
int	sink_cmd(struct sink *, enum sink_stmt, char **);
/*
 * Run a statement without parameters for its effect alone, whatever comes
 * of it: no cause, and s->err is left alone (a ROLLBACK or an unlock on
 * the way out of a failure, which must keep the failure's cause).
 */
void	sink_cmd_quiet(struct sink *, enum sink_stmt);
/*
 * Pipeline mode.  sink_send sends statement st (prepared on the way when
 * the table says so and it is not yet) without waiting: -1 only when it
 * cannot be sent (or when SINK_PIPE_MAX statements are pending and one of
 * them failed).  Its result is read later: checked against the table's
 * status and check/expect, and kept in *out when out is not NULL (the
 * caller PQclears it after the sync that read it; NULL when the statement
 * failed or was skipped).  sink_send_cmd does the same for a statement
 * without parameters whose result is not kept (SAVEPOINT ...).  sink_sync
 * sends a sync point and reads every pending result: 0, or -1 with *cause
 * and s->err from the first failure (later statements were skipped by the
 * server; inside a transaction it is now aborted, as after sink_exec).
 * sink_wait reads the results up to pend index upto (excluded) without a
 * sync point; on a failure it syncs and returns -1 likewise.  A failure of
 * a statement marked batch (sink_batch_mark) fails the batch.
 */
int	sink_send(struct sink *, enum sink_stmt, const struct sink_params *,
	    enum sink_check, long long expect, PGresult **, char **);
int	sink_send_cmd(struct sink *, enum sink_stmt, char **);
int	sink_sync(struct sink *, char **);
int	sink_wait(struct sink *, int upto, char **);
/* Mark the statements pending now: their failure fails the batch. */
void	sink_batch_mark(struct sink *);
/*
 * Roll back with st (SINK_ST_ROLLBACK, or a ROLLBACK TO SAVEPOINT) after
 * reading what is pending (failures there ignored); one round trip.
 */
int	sink_rollback(struct sink *, enum sink_stmt, char **);
/*
 * Before COMMIT: when records were sent in the transaction, send
 * rollup_flush() (not waiting), which adds them to the rollup tables
 * (sink-report.c).
 */
int	sink_rollup_send(struct sink *, char **);
/* Take a reserved report_file id (reserving more when none is left). */
int	sink_pool_take(struct sink *, char *, size_t, char **);
/*
 * Set *cause from a failed result (or the connection when res is NULL) and
 * classify the failure by its SQLSTATE (s->err).
 */
void	sink_error(struct sink *, PGresult *, const char *, char **);
/* len bytes as bytea's text form, \\x and hex digits (malloc'd). */
char	*sink_bytea_text(const void *, size_t);
/*
 * Send (not waiting) the lock and the count of a duplicate report, key
 * its natural key (reporter_key, report_id, policy_domain, date_begin as
 * epoch text), delivered by payload file_pk of message message_pk
 * (sink-report.c): seen_count goes up when the message differs from
 * every message that delivered the report before.
 */
int	sink_dup_send(struct sink *, const char *const [4], const char *,
	    const char *, char **);
/* Record a failure found by the sink itself (not the server): SINK_ERR_DATA. */
void	sink_fail_data(struct sink *);

/*
 * sink_set_defer holds back the report and the payload's report_file row
 * (sink-report.c).  sink_file_flush sends the row now (before any
 * statement that refers to it; no wait); sink_defer_free drops both.
 */
int	sink_file_flush(struct sink *, char **);
void	sink_defer_free(struct sink *);
/* fatalx (naming fn) when a payload's rows are still held back. */
void	sink_payload_closed(struct sink *, const char *);

/*
 * A batch's payloads in one statement (sink-set.c, sink_set_sets).
 * sink_set_active: whether the payload ending now, whose parameters are
 * those of a and then b, is kept rather than sent (never past
 * SINK_SET_MAX bytes kept: then it is sent as without sets).  sink_set_hold keeps sink_sql_whole_payload[_raw]'s parameters (a
 * copy) and the number of records; sink_set_flush sends what is kept and
 * waits, between messages (any failure fails the batch and turns sets
 * off until a batch commits).  sink_set_msg_mark notes where the open
 * message's payloads begin, sink_set_msg_drop drops them (the message
 * rolled back), sink_set_free drops all.
 */
#define SINK_SET_MAX	(2UL * 1024 * 1024)
int	sink_set_active(struct sink *, const struct sink_params *,
	    const struct sink_params *);
int	sink_set_hold(struct sink *, const struct sink_params *, size_t);
size_t	sink_set_bytes(struct sink *);
int	sink_set_flush(struct sink *, char **);
void	sink_set_msg_mark(struct sink *);
void	sink_set_msg_drop(struct sink *);
void	sink_set_payload_mark(struct sink *);
void	sink_set_payload_drop(struct sink *);
void	sink_set_free(struct sink *);

/*
 * The batch's ledger rows (sink-set.c).  sink_led_hold: whether the
 * message beginning keeps its row (facts copied) for the batch's UPDATE
 * instead of writing it now; sink_led_open: whether the open message's
 * row is kept; sink_led_status gives it its final status (detail, malloc'd
 * or NULL, is taken).  sink_led_unsent: whether rows kept have facts not
 * written yet; sink_led_facts writes them (not waiting), for a statement
 * that reads them (SINK_LEDGER_READ).  sink_set_flush writes the rows
 * with their status, before the payloads.  sink_set_payload_mark and
 * sink_set_payload_drop follow a payload savepoint and its rollback, so
 * that facts written and then undone are written again when needed.
 */
int	sink_led_hold(struct sink *, const struct sink_msg_info *);
int	sink_led_open(struct sink *);
void	sink_led_status(struct sink *, enum sink_status, char *);
int	sink_led_unsent(struct sink *);
int	sink_led_facts(struct sink *, char **);
/*
 * Keep the open message's verdict, whose row is kept (sink_led_open):
 * p holds sink_sql_auth_store's parameters, as text; sink_set_flush
 * writes it after the payloads.
 */
void	sink_set_auth_hold(struct sink *, const struct sink_params *);

/* The raw payload writer (sink-raw.c). */
int	sink_rawout_finish(struct sink *, char **);
int	sink_rawout_last(struct sink *, const unsigned char **, size_t *,
	    long long *);
void	sink_rawout_discard(struct sink *);

#endif
