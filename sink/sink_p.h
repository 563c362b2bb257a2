/*
 * sink_p.h: what the sink's files share (sink.c, sink-report.c,
 * sink-schema.c and the generated sink-migrations.c), and tests/server/tst_sink.c.
 *
 * Every statement goes through sink_exec (PQexecParams, for one-off and
 * administrative statements), sink_exec_prep (prepared once per
 * connection with PQprepare, then PQexecPrepared) or, for the
 * per-message statements, sink_send (libpq pipeline mode: sent at once,
 * its result read at the next sink_sync or sink_wait).  All of them check
 * the result status, turn a failure into a malloc'd cause and classify it
 * (struct sink's err, see sink_last_error).  sink_exec and sink_exec_prep
 * first read every result still pending (a failure there is theirs) and
 * leave pipeline mode, so they may be called at any point.  Data never
 * becomes part of an SQL string: arrays travel as text array literals
 * built by sink_array_* (parameter values, not SQL), bytea as binary
 * parameters.
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

/* The prepared statements, one name each ("dmarc_<n>"). */
enum sink_stmt {
	SINK_ST_LEDGER,
	SINK_ST_LEDGER_FILE,
	SINK_ST_POOL,
	SINK_ST_MSG_STATUS,
	SINK_ST_FILE,
	SINK_ST_FILE_END,
	SINK_ST_FILE_END_RAW,
	SINK_ST_HEAD,
	SINK_ST_DUP_LOCK,
	SINK_ST_DUP,
	SINK_ST_RECORDS,
	SINK_ST_END,
	SINK_ST_RAW_CHUNK,
	SINK_ST_RAW_READ,
	SINK_ST_REPARSE_LOCK,
	SINK_ST_REPARSE_CLEAR,
	SINK_ST_REPARSE_HEAD,
	SINK_ST_REPARSE_LINK,
	SINK_ST_WHOLE,
	SINK_ST_WHOLE_PAYLOAD,
	SINK_ST_WHOLE_PAYLOAD_RAW,
	SINK_ST_FILE_ONCE,
	SINK_ST_FILE_ONCE_RAW,
	SINK_NSTMT
};

struct sink_rawout;
struct sink_defer;

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
	struct sink_defer *defer;	/* the report held back, or NULL */
	struct sink_params *file_held;	/* report_file row not sent yet */
	uint32_t	 prepared;	/* bit n: statement n is prepared */

	int		 in_batch;	/* sink_batch_begin .. commit */
	char		*batch_cause;	/* the batch failed: why, or NULL */
	int		 pipeline;	/* libpq is in pipeline mode */
	struct sink_pending pend[SINK_PIPE_MAX];
	int		 npend;		/* statements sent */
	int		 nread;		/* ... whose results were read */
	int		 last_records;	/* pend index of the last record
					   batch sent, or -1 */
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
 * Run sql with the parameters (p may be NULL); want is PGRES_COMMAND_OK or
 * PGRES_TUPLES_OK.  On success returns 0 and the result in *res (the caller
 * PQclears it) or, when res is NULL, clears it.  On failure returns -1 with
 * *cause = "what: server message".
 */
int	sink_exec(struct sink *, const char *what, const char *sql,
	    const struct sink_params *p, ExecStatusType want, PGresult **res,
	    char **);
/*
 * The same with a prepared statement: sql is prepared under st's name the
 * first time st is used on this connection.  resfmt 1 asks for binary
 * results.
 */
int	sink_exec_prep(struct sink *, enum sink_stmt, const char *what,
	    const char *sql, const struct sink_params *, ExecStatusType want,
	    int resfmt, PGresult **, char **);
/* Run a statement without parameters and without result rows. */
int	sink_cmd(struct sink *, const char *, char **);
/*
 * Pipeline mode.  sink_send sends prepared statement st (prepared on the
 * way when needed) without waiting: -1 only when it cannot be sent (or
 * when SINK_PIPE_MAX statements are pending and one of them failed).  Its
 * result is read later: checked against want and check/expect, and kept in
 * *out when out is not NULL (the caller PQclears it after the sync that
 * read it; NULL when the statement failed or was skipped).  sink_send_cmd
 * does the same for a fixed command (BEGIN, SAVEPOINT ...).  sink_sync
 * sends a sync point and reads every pending result: 0, or -1 with *cause
 * and s->err from the first failure (later statements were skipped by the
 * server; inside a transaction it is now aborted, as after sink_exec).
 * sink_wait reads the results up to pend index upto (excluded) without a
 * sync point; on a failure it syncs and returns -1 likewise.  A failure of
 * a statement marked batch (sink_batch_mark) fails the batch.
 */
int	sink_send(struct sink *, enum sink_stmt, const char *what,
	    const char *sql, const struct sink_params *, ExecStatusType want,
	    enum sink_check, long long expect, PGresult **, char **);
int	sink_send_cmd(struct sink *, const char *, char **);
int	sink_sync(struct sink *, char **);
int	sink_wait(struct sink *, int upto, char **);
/* Mark the statements pending now: their failure fails the batch. */
void	sink_batch_mark(struct sink *);
/*
 * Roll back to savepoint (NULL: ROLLBACK the transaction) after reading
 * what is pending (failures there ignored); one round trip.
 */
int	sink_rollback(struct sink *, const char *savepoint, char **);
/* Take a reserved report_file id (reserving more when none is left). */
int	sink_pool_take(struct sink *, char *, size_t, char **);
/*
 * Set *cause from a failed result (or the connection when res is NULL) and
 * classify the failure by its SQLSTATE (s->err).
 */
void	sink_error(struct sink *, PGresult *, const char *, char **);
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

/* The raw payload writer (sink-raw.c). */
int	sink_rawout_finish(struct sink *, char **);
int	sink_rawout_last(struct sink *, const unsigned char **, size_t *,
	    long long *);
void	sink_rawout_discard(struct sink *);

#endif
