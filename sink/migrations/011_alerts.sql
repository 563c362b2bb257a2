-- 011_alerts.sql: the dmarc schema, version 11.
--
-- Approved senders, alerts and the summary mail's schedule: the senders a
-- domain's owner recognises (approved_sender), the alerts the rules of
-- "dmarc-agent alerts" raised (alert), their delivery by mail and webhook
-- (notification) and the periodic summaries sent (summary_sent), with the
-- views that say who sent each record (v_sender_record) and how each
-- sender did per day (v_senders_daily).  Run by "dmarc-agent migrate" in
-- one transaction; by hand: psql -1 -f 011_alerts.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (11, '011_alerts').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

-- The registrable part of a domain name ----------------------------------------
CREATE FUNCTION base_domain(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT CASE
    WHEN n <= 2 THEN d
    WHEN length(l[n]) = 2 AND l[n - 1] IN ('ac', 'co', 'com', 'edu', 'gob',
         'gov', 'go', 'ltd', 'mil', 'ne', 'net', 'nic', 'or', 'org', 'plc',
         'sch')
        THEN array_to_string(l[n - 2:n], '.')
    ELSE array_to_string(l[n - 1:n], '.')
END
FROM (SELECT lower(trim(BOTH '.' FROM name)) AS d) x,
     LATERAL (SELECT string_to_array(x.d, '.') AS l) y,
     LATERAL (SELECT cardinality(y.l) AS n) z
$$;
COMMENT ON FUNCTION base_domain(text) IS
'The registrable domain of a name, by a small built-in rule: the last two labels, or three under a two-letter country code whose second level is a common public one (co.uk, com.au, ac.jp ...). Good enough to group the domains DKIM and SPF authenticated (mg.mailgun.org gives mailgun.org); the enrichment computes ip_info.base_domain from the whole Public Suffix List instead.';

-- Approved senders ----------------------------------------------------------------
CREATE TABLE approved_sender (
    id            bigserial PRIMARY KEY,
    policy_domain text NOT NULL CHECK (policy_domain = lower(policy_domain)
                  AND policy_domain <> ''),
    kind          text NOT NULL CHECK (kind IN ('domain','ptr','name','asn','cidr')),
    value         text NOT NULL CHECK (value <> ''),
    note          text,
    approved_at   timestamptz NOT NULL DEFAULT now(),
    approved_by   text NOT NULL DEFAULT current_user,
    UNIQUE (policy_domain, kind, value),
    CONSTRAINT approved_sender_value_form CHECK (CASE kind
        WHEN 'domain' THEN value = lower(value) AND value !~ '^\.|\.$|[[:space:]]'
        WHEN 'ptr' THEN value = lower(value) AND value !~ '^\.|\.$|[[:space:]]'
        WHEN 'asn' THEN value ~ '^[0-9]{1,10}$'
        WHEN 'cidr' THEN value::cidr::text = value
        ELSE true END)
);
COMMENT ON TABLE approved_sender IS
'The senders the owner of a policy domain recognises as their own or as services they use: mail from them that fails DMARC is their configuration to fix, not spoofing. A record is from an approved sender when any of its identities matches a row of its policy domain: kind domain (a domain that DKIM or SPF authenticated with a pass equals value or is a subdomain of it), ptr (the base domain of the source''s forward-confirmed reverse DNS name, ip_info.base_domain), name (the source_map name of that base domain), asn (ip_info.asn) or cidr (the source address is in the range). Edit with "dmarc-agent senders approve|unapprove" or plain SQL.';
COMMENT ON COLUMN approved_sender.id IS 'Surrogate key.';
COMMENT ON COLUMN approved_sender.policy_domain IS 'The policy domain (report.policy_domain) the approval is for, lower-case.';
COMMENT ON COLUMN approved_sender.kind IS 'What identifies the sender: domain, ptr, name, asn or cidr (see the table).';
COMMENT ON COLUMN approved_sender.value IS 'domain and ptr: a lower-case domain name without dots at either end; name: a source_map.sender_name as written there; asn: the number without "AS"; cidr: an address range in PostgreSQL''s canonical cidr form (192.0.2.0/24, 192.0.2.7/32).';
COMMENT ON COLUMN approved_sender.note IS 'Free text: what the sender is, who asked for it.';
COMMENT ON COLUMN approved_sender.approved_at IS 'When the row was written.';
COMMENT ON COLUMN approved_sender.approved_by IS 'Who approved it: the login of whoever ran dmarc-agent senders approve, else the database role.';

-- Who sent each record ----------------------------------------------------------
CREATE VIEW v_sender_record AS
SELECT r.id AS record_pk, r.report_pk, r.report_day, r.policy_domain,
       rp.reporter_key, rp.policy_p, rp.first_seen AS report_stored,
       r.source_ip, r.header_from, r.disposition, r.dkim_aligned,
       r.spf_aligned, r.dmarc_pass, r.message_count,
       au.domains AS auth_domains,
       i.status AS lookup_status,
       CASE WHEN i.ptr_confirmed THEN i.base_domain END AS ptr_domain,
       m.sender_name, i.asn, i.as_org,
       a.id AS approved_pk,
       coalesce(a.kind, CASE
           WHEN au.domains IS NOT NULL THEN 'domain'
           WHEN m.sender_name IS NOT NULL THEN 'name'
           WHEN i.ptr_confirmed AND i.base_domain IS NOT NULL THEN 'ptr'
           WHEN i.asn IS NOT NULL THEN 'asn'
           ELSE 'cidr' END) AS sender_kind,
       coalesce(a.value, base_domain(coalesce(au.other, au.domains[1])),
           m.sender_name,
           CASE WHEN i.ptr_confirmed THEN i.base_domain END, i.asn::text,
           r.source_ip::cidr::text, '(unreadable)') AS sender_value
FROM record r
JOIN report rp ON rp.id = r.report_pk
LEFT JOIN ip_info i ON i.ip = r.source_ip
LEFT JOIN source_map m ON m.base_domain = i.base_domain AND i.ptr_confirmed
LEFT JOIN LATERAL (
    SELECT array_agg(x.d ORDER BY x.o) AS domains,
           (array_agg(x.d ORDER BY x.o) FILTER (WHERE base_domain(x.d) <>
               base_domain(r.policy_domain)))[1] AS other FROM (
        SELECT lower(k.domain) AS d, k.ord AS o FROM record_dkim k
         WHERE k.record_pk = r.id AND k.result = 'pass' AND k.domain <> ''
        UNION ALL
        SELECT lower(s.domain), 1000 + s.ord FROM record_spf s
         WHERE s.record_pk = r.id AND s.result = 'pass' AND s.domain <> ''
           AND coalesce(s.scope, 'mfrom') = 'mfrom') x) au ON true
LEFT JOIN LATERAL (
    SELECT p.id, p.kind, p.value FROM approved_sender p
     WHERE p.policy_domain = r.policy_domain AND CASE p.kind
        WHEN 'domain' THEN EXISTS (SELECT 1 FROM unnest(au.domains) d
             WHERE d = p.value OR right(d, length(p.value) + 1) = '.' || p.value)
        WHEN 'ptr' THEN coalesce(i.ptr_confirmed AND i.base_domain = p.value, false)
        WHEN 'name' THEN m.sender_name = p.value
        WHEN 'asn' THEN i.asn::text = p.value
        WHEN 'cidr' THEN r.source_ip <<= p.value::cidr
        ELSE false END
     ORDER BY array_position(ARRAY['domain','name','ptr','asn','cidr'], p.kind),
              p.kind = 'domain' AND base_domain(p.value) = base_domain(r.policy_domain),
              p.value
     LIMIT 1) a ON true;
COMMENT ON VIEW v_sender_record IS
'One line per record with the sender it came from: the approved sender it matches (approved_sender, the first by kind in the order domain, name, ptr, asn, cidr; among domains, those of the policy domain''s own base domain last, so that a service signing with its own domain as well as yours counts as that service), else its best identity: the base domain of the first domain DKIM or SPF (MAIL FROM) authenticated with a pass (one outside the policy domain''s base domain when there is one: a service that signs with its own domain as well), else the source_map name of its confirmed reverse DNS, else that name''s base domain, else its AS number, else its address.';
COMMENT ON COLUMN v_sender_record.record_pk IS 'The record (record.id).';
COMMENT ON COLUMN v_sender_record.report_pk IS 'The report (report.id).';
COMMENT ON COLUMN v_sender_record.report_day IS 'UTC day of the report period start.';
COMMENT ON COLUMN v_sender_record.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN v_sender_record.reporter_key IS 'Who reported (report.reporter_key).';
COMMENT ON COLUMN v_sender_record.policy_p IS 'The policy published (report.policy_p).';
COMMENT ON COLUMN v_sender_record.report_stored IS 'When the report was first stored (report.first_seen).';
COMMENT ON COLUMN v_sender_record.source_ip IS 'Sending IP address.';
COMMENT ON COLUMN v_sender_record.header_from IS 'RFC5322.From domain.';
COMMENT ON COLUMN v_sender_record.disposition IS 'What the receiver did.';
COMMENT ON COLUMN v_sender_record.dkim_aligned IS 'DMARC DKIM result (aligned).';
COMMENT ON COLUMN v_sender_record.spf_aligned IS 'DMARC SPF result (aligned).';
COMMENT ON COLUMN v_sender_record.dmarc_pass IS 'true when the messages passed DMARC.';
COMMENT ON COLUMN v_sender_record.message_count IS 'Messages the record stands for.';
COMMENT ON COLUMN v_sender_record.auth_domains IS 'Domains DKIM (first, in document order) and SPF for MAIL FROM authenticated with a pass, lower-case; NULL when none did.';
COMMENT ON COLUMN v_sender_record.lookup_status IS 'ip_info.status of the address; NULL when it was not discovered yet.';
COMMENT ON COLUMN v_sender_record.ptr_domain IS 'Base domain of the forward-confirmed reverse DNS name, NULL when unconfirmed or unknown.';
COMMENT ON COLUMN v_sender_record.sender_name IS 'source_map name of ptr_domain.';
COMMENT ON COLUMN v_sender_record.asn IS 'Autonomous system number of the address.';
COMMENT ON COLUMN v_sender_record.as_org IS 'Organisation of the autonomous system.';
COMMENT ON COLUMN v_sender_record.approved_pk IS 'The approved sender the record matches (approved_sender.id), NULL when none.';
COMMENT ON COLUMN v_sender_record.sender_kind IS 'What identifies the sender: domain, name, ptr, asn or cidr.';
COMMENT ON COLUMN v_sender_record.sender_value IS 'The identity, in the form approved_sender.value takes (so that it can be approved as shown).';

CREATE VIEW v_senders_daily AS
SELECT report_day AS day, policy_domain, sender_kind, sender_value,
       approved_pk IS NOT NULL AS approved,
       sum(message_count) AS messages,
       coalesce(sum(message_count) FILTER (WHERE dmarc_pass), 0) AS dmarc_pass,
       coalesce(sum(message_count) FILTER (WHERE NOT dmarc_pass), 0) AS dmarc_fail,
       count(DISTINCT source_ip) AS sources
FROM v_sender_record
GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW v_senders_daily IS 'Daily volume per policy domain and sender (v_sender_record), approved or not. For an approved sender dmarc_fail is what p=reject would have refused.';
COMMENT ON COLUMN v_senders_daily.day IS 'UTC day of the report period start.';
COMMENT ON COLUMN v_senders_daily.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN v_senders_daily.sender_kind IS 'domain, name, ptr, asn or cidr.';
COMMENT ON COLUMN v_senders_daily.sender_value IS 'The sender''s identity.';
COMMENT ON COLUMN v_senders_daily.approved IS 'true when the sender is approved for the policy domain.';
COMMENT ON COLUMN v_senders_daily.messages IS 'Messages reported.';
COMMENT ON COLUMN v_senders_daily.dmarc_pass IS 'Messages that passed DMARC.';
COMMENT ON COLUMN v_senders_daily.dmarc_fail IS 'Messages that failed DMARC.';
COMMENT ON COLUMN v_senders_daily.sources IS 'Distinct source addresses.';

-- Alerts ---------------------------------------------------------------------------
CREATE TABLE alert (
    id            bigserial PRIMARY KEY,
    rule          text NOT NULL CHECK (rule IN ('new_failing_source',
                  'approved_sender_failing', 'pass_rate_drop',
                  'silent_reporter', 'mailbox_failing')),
    policy_domain text NOT NULL,
    subject       text NOT NULL,
    day           date NOT NULL,
    figures       jsonb NOT NULL DEFAULT '{}',
    first_seen    timestamptz NOT NULL DEFAULT now(),
    last_seen     timestamptz NOT NULL DEFAULT now(),
    notified_at   timestamptz,
    resolved_at   timestamptz,
    UNIQUE (rule, policy_domain, subject, day)
);
CREATE INDEX alert_open_idx ON alert (rule, policy_domain, subject, day)
    WHERE resolved_at IS NULL;
COMMENT ON TABLE alert IS
'One row per alert that a rule of "dmarc-agent alerts" raised, once per (rule, policy domain, subject, day); evaluating again updates figures and last_seen. Rows of one (rule, policy_domain, subject) on consecutive days while the first is open are one episode: only its first row is notified. A row resolves when its rule no longer fires for its subject on its day or later.';
COMMENT ON COLUMN alert.id IS 'Surrogate key.';
COMMENT ON COLUMN alert.rule IS 'new_failing_source: an unapproved sender failed DMARC for the domain; approved_sender_failing: an approved sender''s pass rate fell under the threshold; pass_rate_drop: the domain''s daily pass rate fell under the median of the days before; silent_reporter: a reporter that sent daily stopped; mailbox_failing: polls of a mailbox failed in a row.';
COMMENT ON COLUMN alert.policy_domain IS 'The policy domain; empty for mailbox_failing.';
COMMENT ON COLUMN alert.subject IS 'What the alert is about: KIND:VALUE of the sender (new_failing_source, approved_sender_failing), the reporter_key (silent_reporter), the mailbox (mailbox_failing); empty for pass_rate_drop.';
COMMENT ON COLUMN alert.day IS 'The UTC day it is about: the report day, the first day a reporter missed, the day a mailbox started failing.';
COMMENT ON COLUMN alert.figures IS 'The figures that made the rule fire (messages, pass rate, threshold ...), as of last_seen.';
COMMENT ON COLUMN alert.first_seen IS 'When an evaluation first raised it.';
COMMENT ON COLUMN alert.last_seen IS 'When an evaluation last found it still true.';
COMMENT ON COLUMN alert.notified_at IS 'When every configured channel delivered it; NULL before, and for the later rows of an episode (its first row was notified).';
COMMENT ON COLUMN alert.resolved_at IS 'When an evaluation found it no longer true; NULL while open.';

CREATE TABLE notification (
    alert_pk      bigint NOT NULL REFERENCES alert(id) ON DELETE CASCADE,
    channel       text NOT NULL CHECK (channel IN ('mail','webhook')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt  timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz,
    last_error    text,
    PRIMARY KEY (alert_pk, channel)
);
CREATE INDEX notification_due_idx ON notification (channel, next_attempt)
    WHERE delivered_at IS NULL;
COMMENT ON TABLE notification IS
'The delivery of an alert on one channel (the mail or the webhook of the notify configuration). A failed delivery is tried again after a backoff that doubles with each attempt, until it succeeds: an alert is never lost, across restarts too, and never delivered twice by one channel once it was acknowledged.';
COMMENT ON COLUMN notification.alert_pk IS 'The alert.';
COMMENT ON COLUMN notification.channel IS 'mail or webhook.';
COMMENT ON COLUMN notification.created_at IS 'When the delivery was first due.';
COMMENT ON COLUMN notification.attempts IS 'Failed attempts so far.';
COMMENT ON COLUMN notification.next_attempt IS 'Not tried again before this time.';
COMMENT ON COLUMN notification.delivered_at IS 'When the mail server or the webhook accepted it; NULL until then.';
COMMENT ON COLUMN notification.last_error IS 'Why the last attempt failed.';

CREATE TABLE summary_sent (
    every         text NOT NULL CHECK (every IN ('daily','weekly','monthly')),
    period_start  date NOT NULL,
    first_day     date NOT NULL,
    last_day      date NOT NULL CHECK (last_day >= first_day),
    recipients    text[] NOT NULL,
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt  timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    last_error    text,
    PRIMARY KEY (every, period_start)
);
COMMENT ON TABLE summary_sent IS
'The summary mails of the summary configuration, one row per period (a day, an ISO week from Monday, a month, in UTC): run sends the period''s summary once, as soon as it runs in that period, and records it here, so that a restart neither skips nor repeats one.';
COMMENT ON COLUMN summary_sent.every IS 'daily, weekly or monthly.';
COMMENT ON COLUMN summary_sent.period_start IS 'First UTC day of the period.';
COMMENT ON COLUMN summary_sent.first_day IS 'First day the summary covers.';
COMMENT ON COLUMN summary_sent.last_day IS 'Last day it covers (the day before the period began).';
COMMENT ON COLUMN summary_sent.recipients IS 'Who it was sent to.';
COMMENT ON COLUMN summary_sent.attempts IS 'Failed attempts so far.';
COMMENT ON COLUMN summary_sent.next_attempt IS 'Not tried again before this time.';
COMMENT ON COLUMN summary_sent.sent_at IS 'When the mail server accepted it; NULL until then.';
COMMENT ON COLUMN summary_sent.last_error IS 'Why the last attempt failed.';
