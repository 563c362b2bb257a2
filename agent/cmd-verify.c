/*
 * cmd-verify.c: `dmarc-agent verify [--since YYYY-MM-DD]`, check again
 * who sent the report mail kept whole (message_raw): keys rotate, a key
 * that timed out may answer now, and the trusted authserv-ids may have
 * changed.  Each message's verdict is replaced in a transaction of its
 * own, with the time it was made and the keys it was made with; its
 * reports' authenticity follows.  One exception: when a message that was
 * found verified or forged can no longer be checked at all (its keys are
 * gone from the DNS, or do not answer), the earlier verdict is kept,
 * since a key withdrawn after a rotation says nothing about the mail
 * signed with it before.
 * `reparse` calls verify_payload for each payload it re-derives, so the
 * reports it rewrites get their authenticity again.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "agent/agent.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "agent/pipeline.h"
#include "sink/sink.h"
#include "verify/verify.h"

static int	vf_args(int, char **, time_t *);
static int	vf_reports(struct verify *, const struct verify_result *,
		    struct sink_auth_report *, size_t, struct sink_auth_info *);

/* Options into a date; -1 on a usage error (logged). */
static int
vf_args(int argc, char **argv, time_t *since)
{
	struct tm	 tm;
	const char	*end;

	*since = -1;
	if (argc == 0)
		return (0);
	if (argc == 2 && strcmp(argv[0], "--since") == 0) {
		memset(&tm, 0, sizeof tm);
		end = strptime(argv[1], "%Y-%m-%d", &tm);
		if (end != NULL && *end == '\0') {
			*since = timegm(&tm);
			return (0);
		}
		log_warnx("verify: --since wants YYYY-MM-DD, not \"%s\"",
		    argv[1]);
		return (-1);
	}
	log_warnx("usage: dmarc-agent verify [--since YYYY-MM-DD]");
	return (-1);
}

/*
 * The reports' verdicts into ai (arrays allocated: the caller frees
 * ai->report_ids, ai->report_auth and ai->reporter_domain).  Returns
 * whether the earlier verdict should be kept (see above).
 */
static int
vf_reports(struct verify *v, const struct verify_result *vr,
    struct sink_auth_report *reps, size_t n, struct sink_auth_info *ai)
{
	enum verify_authenticity	 a;
	const char			**ids, **auth;
	char				*rep;
	size_t				 i;
	int				 was_checked = 0;

	ids = xcalloc(n + 1, sizeof *ids);
	auth = xcalloc(n + 1, sizeof *auth);
	for (i = 0; i < n; i++) {
		a = verify_reporter(v, vr, reps[i].org_email, reps[i].org_name,
		    &rep);
		ids[i] = reps[i].report_id;
		auth[i] = verify_authenticity_name(a);
		if (strcmp(reps[i].authenticity, "unverified") != 0)
			was_checked = 1;
		if (i == 0) {
			ai->reporter_domain = rep;
			ai->reporter_matched = a == VERIFY_VERIFIED;
			ai->authenticity = auth[0];
		} else
			free(rep);
	}
	ai->report_ids = ids;
	ai->report_auth = auth;
	ai->nreports = n;
	return (was_checked && !vr->any_usable);
}

/*
 * Check one kept message again and store the verdict.  *what is set to
 * "verified", "unverified", "forged", "kept" (the earlier verdict stays)
 * or "none" (nothing kept, or no report).  -1 with *cause when the
 * database failed.
 */
int
verify_stored(struct sink *sink, const struct conf *conf, int64_t pk,
    const char **what, char **cause)
{
	struct verify		*v = pipeline_verifier();
	struct verify_result	 vr;
	struct sink_auth_info	 ai;
	struct sink_auth_report	*reps = NULL;
	size_t			 len, n = 0;
	char			*buf;
	int			 rc, keep;

	*what = "none";
	if (v == NULL)
		return (0);
	rc = sink_msg_raw_read(sink, pk, conf->limits.max_message_size, &buf,
	    &len, cause);
	if (rc <= 0)
		return (rc);
	if (sink_auth_reports(sink, pk, &reps, &n, cause) != 0) {
		free(buf);
		return (-1);
	}
	verify_message(v, buf, len, &vr);
	free(buf);
	pipeline_auth_info(&vr, &ai);
	keep = vf_reports(v, &vr, reps, n, &ai);
	rc = 0;
	if (keep)
		*what = "kept";
	else {
		rc = sink_auth_store(sink, pk, &ai, cause);
		if (ai.authenticity != NULL)
			*what = ai.authenticity;
	}
	free((void *)ai.reporter_domain);
	free((void *)ai.report_ids);
	free((void *)ai.report_auth);
	pipeline_auth_info_free(&ai);
	verify_result_free(&vr);
	sink_auth_reports_free(reps, n);
	return (rc);
}

/* The message that delivered payload file_pk, checked again (reparse). */
int
verify_payload(struct sink *sink, const struct conf *conf, int64_t file_pk,
    char **cause)
{
	const char	*what;
	int64_t		*pks = NULL;
	size_t		 n = 0, i;
	int		 rc;

	rc = sink_auth_list(sink, -1, file_pk, &pks, &n, cause);
	for (i = 0; i < n && rc == 0; i++)
		rc = verify_stored(sink, conf, pks[i], &what, cause);
	free(pks);
	return (rc);
}

int
cmd_verify(struct cmd_env *env, int argc, char **argv)
{
	struct sink	*sink;
	const char	*what;
	int64_t		*pks = NULL;
	time_t		 since;
	size_t		 n = 0, i;
	unsigned	 verified = 0, unverified = 0, forged = 0, kept = 0;
	char		*cause = NULL;
	int		 rc = 0;

	if (vf_args(argc, argv, &since) != 0)
		return (EXIT_USAGE);
	if ((sink = agent_sink_connect(env->conf, env->conf->auto_migrate)) ==
	    NULL)
		return (EXIT_OPFAIL);
	pipeline_init();
	pipeline_verify_setup(env->conf);
	if (pipeline_verifier() == NULL) {
		log_warnx("verify: verification is off or cannot start");
		rc = EXIT_OPFAIL;
	} else if (sink_auth_list(sink, since, 0, &pks, &n, &cause) != 0) {
		log_warnx("verify: %s", cause);
		rc = EXIT_OPFAIL;
	}
	for (i = 0; i < n && rc == 0 && !agent_quitting(); i++) {
		if (verify_stored(sink, env->conf, pks[i], &what,
		    &cause) != 0) {
			log_warnx("verify: message %lld: %s",
			    (long long)pks[i], cause);
			rc = EXIT_OPFAIL;
			break;
		}
		if (strcmp(what, "verified") == 0)
			verified++;
		else if (strcmp(what, "forged") == 0)
			forged++;
		else if (strcmp(what, "kept") == 0)
			kept++;
		else
			unverified++;
	}
	free(cause);
	free(pks);
	printf("verify: %zu messages, %u verified, %u unverified, %u forged, "
	    "%u kept (keys gone)\n", n, verified, unverified, forged, kept);
	pipeline_shutdown();
	sink_close(sink);
	return (rc);
}
