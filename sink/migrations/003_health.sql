-- 003_health: one row per mailbox poll, and the views users alert on.
SET search_path = dmarc;

CREATE TABLE ingest_run (
    id           bigserial PRIMARY KEY,
    mailbox      text        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    ended_at     timestamptz,
    fetched      integer     NOT NULL DEFAULT 0 CHECK (fetched >= 0),
    stored       integer     NOT NULL DEFAULT 0 CHECK (stored >= 0),
    duplicates   integer     NOT NULL DEFAULT 0 CHECK (duplicates >= 0),
    invalid      integer     NOT NULL DEFAULT 0 CHECK (invalid >= 0),
    ignored      integer     NOT NULL DEFAULT 0 CHECK (ignored >= 0),
    bytes        bigint      NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    ok           boolean,
    error        text,
    host         text,
    pid          integer
);
CREATE INDEX ingest_run_mailbox_started_idx ON ingest_run (mailbox, started_at);

COMMENT ON TABLE ingest_run IS
'One row per poll of one mailbox by dmarc-agent (poll or run): when it ran, what it did, and why it failed. A row with ended_at NULL is a poll in progress, or one whose agent was killed. Alert on v_mailbox_health rather than on this table.';
COMMENT ON COLUMN ingest_run.id IS 'Surrogate key.';
COMMENT ON COLUMN ingest_run.mailbox IS 'The mailbox''s name in the configuration (mail_message.mailbox).';
COMMENT ON COLUMN ingest_run.started_at IS 'When the poll started.';
COMMENT ON COLUMN ingest_run.ended_at IS 'When the poll ended; NULL while it runs, or when the agent died during it.';
COMMENT ON COLUMN ingest_run.fetched IS 'Messages examined in this poll (every final status, too_large included).';
COMMENT ON COLUMN ingest_run.stored IS 'Messages that stored at least one new report.';
COMMENT ON COLUMN ingest_run.duplicates IS 'Messages whose reports were all stored before.';
COMMENT ON COLUMN ingest_run.invalid IS 'Messages that could not be used (invalid or too_large); see v_ingest_errors.';
COMMENT ON COLUMN ingest_run.ignored IS 'Messages that held no DMARC aggregate report (other mail, or reports of kinds not stored).';
COMMENT ON COLUMN ingest_run.bytes IS 'Bytes of mail fetched in this poll.';
COMMENT ON COLUMN ingest_run.ok IS 'true: the poll completed; false: it failed (see error); NULL: unfinished.';
COMMENT ON COLUMN ingest_run.error IS 'Why the poll failed (server unreachable, login refused, database error), NULL when it completed.';
COMMENT ON COLUMN ingest_run.host IS 'Host name of the agent that polled (several agents may share a database).';
COMMENT ON COLUMN ingest_run.pid IS 'Process id of that agent.';

CREATE VIEW v_mailbox_health AS
WITH last AS (
    SELECT DISTINCT ON (mailbox) mailbox, started_at, ended_at, ok, error, host
      FROM ingest_run WHERE ended_at IS NOT NULL
     ORDER BY mailbox, started_at DESC),
success AS (
    SELECT mailbox, max(started_at) AS last_success
      FROM ingest_run WHERE ok GROUP BY mailbox),
failing AS (
    SELECT r.mailbox, count(*) AS failing_in_row
      FROM ingest_run r LEFT JOIN success s USING (mailbox)
     WHERE r.ok = false AND r.started_at > coalesce(s.last_success, '-infinity')
     GROUP BY r.mailbox),
day AS (
    SELECT mailbox, sum(fetched) AS fetched_24h, sum(stored) AS stored_24h,
           sum(invalid) AS invalid_24h, count(*) AS polls_24h
      FROM ingest_run WHERE started_at > now() - interval '24 hours'
     GROUP BY mailbox)
SELECT l.mailbox,
       l.started_at AS last_poll,
       l.ok AS last_poll_ok,
       s.last_success,
       coalesce(f.failing_in_row, 0) AS polls_failing_in_row,
       CASE WHEN l.ok THEN NULL ELSE l.error END AS last_error,
       l.host AS last_host,
       coalesce(d.polls_24h, 0) AS polls_24h,
       coalesce(d.fetched_24h, 0) AS fetched_24h,
       coalesce(d.stored_24h, 0) AS stored_24h,
       coalesce(d.invalid_24h, 0) AS invalid_24h
  FROM last l
  LEFT JOIN success s USING (mailbox)
  LEFT JOIN failing f USING (mailbox)
  LEFT JOIN day d USING (mailbox);

COMMENT ON VIEW v_mailbox_health IS
'One row per mailbox: its last poll, its last successful poll, and how many polls in a row have failed since. Alert when polls_failing_in_row > 0 for a while, or when last_success is older than a few intervals.';
COMMENT ON COLUMN v_mailbox_health.mailbox IS 'The mailbox''s name in the configuration.';
COMMENT ON COLUMN v_mailbox_health.last_poll IS 'Start of the last finished poll.';
COMMENT ON COLUMN v_mailbox_health.last_poll_ok IS 'Whether the last finished poll completed.';
COMMENT ON COLUMN v_mailbox_health.last_success IS 'Start of the last poll that completed; NULL if none ever did.';
COMMENT ON COLUMN v_mailbox_health.polls_failing_in_row IS 'Failed polls since the last successful one (0 when the last poll completed).';
COMMENT ON COLUMN v_mailbox_health.last_error IS 'Why the last poll failed, NULL when it completed.';
COMMENT ON COLUMN v_mailbox_health.last_host IS 'Host of the agent that made the last poll.';
COMMENT ON COLUMN v_mailbox_health.polls_24h IS 'Polls started in the last 24 hours.';
COMMENT ON COLUMN v_mailbox_health.fetched_24h IS 'Messages examined in the last 24 hours.';
COMMENT ON COLUMN v_mailbox_health.stored_24h IS 'Messages that stored new reports in the last 24 hours.';
COMMENT ON COLUMN v_mailbox_health.invalid_24h IS 'Messages that could not be used in the last 24 hours.';

CREATE VIEW v_silent_reporters AS
SELECT reporter_key, policy_domain,
       count(*) AS reports,
       max(date_end) AS last_period_end,
       max(first_seen) AS last_received,
       now() - max(first_seen) AS silent_for
  FROM report
 GROUP BY reporter_key, policy_domain
HAVING max(first_seen) < now() - interval '3 days';

COMMENT ON VIEW v_silent_reporters IS
'Reporters that sent aggregate reports for a domain before but none in the last 3 days (the threshold is 3 days, measured on when reports arrived, report.first_seen). A big provider going silent usually means the rua= address or the mailbox broke.';
COMMENT ON COLUMN v_silent_reporters.reporter_key IS 'The reporter (report.reporter_key).';
COMMENT ON COLUMN v_silent_reporters.policy_domain IS 'The domain it reported on.';
COMMENT ON COLUMN v_silent_reporters.reports IS 'Reports received from it for the domain, ever.';
COMMENT ON COLUMN v_silent_reporters.last_period_end IS 'End of the last period it reported on.';
COMMENT ON COLUMN v_silent_reporters.last_received IS 'When its last report was stored.';
COMMENT ON COLUMN v_silent_reporters.silent_for IS 'How long since then.';
