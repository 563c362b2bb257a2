-- 005_tlsrpt_failure.sql: the dmarc schema, version 5.
--
-- SMTP TLS reports (RFC 8460) and DMARC failure reports (RFC 6591 ARF,
-- updated by RFC 9991): tables tlsrpt_report, tlsrpt_policy,
-- tlsrpt_failure, tlsrpt_delivery, failure_report, failure_delivery and
-- views v_tlsrpt_daily, v_tlsrpt_failures, v_failure_reports.  Run by
-- "dmarc-agent migrate" in one transaction; by hand:
-- psql -1 -f 005_tlsrpt_failure.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (5, '005_tlsrpt_failure').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

-- SMTP TLS reports ------------------------------------------------------------
CREATE TABLE tlsrpt_report (
    id                 bigserial PRIMARY KEY,
    file_pk            bigint REFERENCES report_file(id) ON DELETE SET NULL,
    organization_name  text NOT NULL,
    contact_info       text,
    report_id          text NOT NULL CHECK (report_id <> ''),
    date_begin         timestamptz NOT NULL,
    date_end           timestamptz NOT NULL,
    begin_raw          text,
    end_raw            text,
    policy_count       integer NOT NULL DEFAULT 0 CHECK (policy_count >= 0),
    successful_total   bigint NOT NULL DEFAULT 0 CHECK (successful_total >= 0),
    failed_total       bigint NOT NULL DEFAULT 0 CHECK (failed_total >= 0),
    extra              jsonb,
    parse_warnings     text[] NOT NULL DEFAULT '{}',
    first_seen         timestamptz NOT NULL DEFAULT now(),
    last_seen          timestamptz NOT NULL DEFAULT now(),
    seen_count         integer NOT NULL DEFAULT 1 CHECK (seen_count >= 1),
    UNIQUE (organization_name, report_id)
);
CREATE INDEX tlsrpt_report_file_idx ON tlsrpt_report (file_pk);
CREATE INDEX tlsrpt_report_date_idx ON tlsrpt_report (date_begin);
COMMENT ON TABLE tlsrpt_report IS
'One row per distinct SMTP TLS report (RFC 8460): who tried to deliver mail to our domains over TLS, and how it went. Deduplicated on (organization_name, report_id); a report delivered again only raises seen_count (see tlsrpt_delivery). Departures from the proposal in standards.md 6.2: the raw texts of non-canonical times, totals, unknown JSON members (extra), parse warnings and the seen_count bookkeeping of the aggregate reports.';
COMMENT ON COLUMN tlsrpt_report.id IS 'Surrogate key.';
COMMENT ON COLUMN tlsrpt_report.file_pk IS 'The payload this report was first stored from (later deliveries: tlsrpt_delivery).';
COMMENT ON COLUMN tlsrpt_report.organization_name IS 'organization-name: the reporting organisation, trimmed, case kept; '''' when absent (with a warning). Half of the deduplication key.';
COMMENT ON COLUMN tlsrpt_report.contact_info IS 'contact-info as sent (an address or URI), NULL when absent.';
COMMENT ON COLUMN tlsrpt_report.report_id IS 'report-id, trimmed. The other half of the deduplication key; a report without one is not stored.';
COMMENT ON COLUMN tlsrpt_report.date_begin IS 'date-range start-datetime. A time without a time zone (Microsoft sent 2023-01-10T00:00:00) is read as UTC, with a warning in parse_warnings.';
COMMENT ON COLUMN tlsrpt_report.date_end IS 'date-range end-datetime (same rules as date_begin).';
COMMENT ON COLUMN tlsrpt_report.begin_raw IS 'start-datetime as sent when it was not exactly YYYY-MM-DDTHH:MM:SSZ (an offset, a fraction, no zone); NULL otherwise.';
COMMENT ON COLUMN tlsrpt_report.end_raw IS 'end-datetime as sent when it was not exactly YYYY-MM-DDTHH:MM:SSZ; NULL otherwise.';
COMMENT ON COLUMN tlsrpt_report.policy_count IS 'Number of policies (tlsrpt_policy rows).';
COMMENT ON COLUMN tlsrpt_report.successful_total IS 'Sum of total-successful-session-count over the policies.';
COMMENT ON COLUMN tlsrpt_report.failed_total IS 'Sum of total-failure-session-count over the policies (reporters do not always make it equal to the sum of the failure details: mail.ru).';
COMMENT ON COLUMN tlsrpt_report.extra IS 'Top-level JSON members RFC 8460 does not define (and unknown members of date-range, named date-range.<name>), as a JSON object; NULL when none. Keeps the report lossless.';
COMMENT ON COLUMN tlsrpt_report.parse_warnings IS 'What was odd about the report: a time without a zone read as UTC, counts written as strings, unknown result types, a missing field ...';
COMMENT ON COLUMN tlsrpt_report.first_seen IS 'When the report was first stored.';
COMMENT ON COLUMN tlsrpt_report.last_seen IS 'When another message last delivered it.';
COMMENT ON COLUMN tlsrpt_report.seen_count IS 'How many different messages delivered this report (1 = no duplicate). Re-reading the same message (same ledger row, Message-ID or SHA-256) does not count.';

CREATE TABLE tlsrpt_delivery (
    report_pk     bigint NOT NULL REFERENCES tlsrpt_report(id) ON DELETE CASCADE,
    file_pk       bigint NOT NULL REFERENCES report_file(id) ON DELETE CASCADE,
    counted       boolean NOT NULL,
    delivered_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (report_pk, file_pk)
);
CREATE INDEX tlsrpt_delivery_file_idx ON tlsrpt_delivery (file_pk);
COMMENT ON TABLE tlsrpt_delivery IS
'Every payload that delivered a TLS report, the first one included, as report_delivery does for aggregate reports: a delivery is counted in tlsrpt_report.seen_count when its message differs from the messages of every earlier delivery (another ledger row, another Message-ID and another SHA-256).';
COMMENT ON COLUMN tlsrpt_delivery.report_pk IS 'The TLS report delivered.';
COMMENT ON COLUMN tlsrpt_delivery.file_pk IS 'The payload (report_file) that delivered it.';
COMMENT ON COLUMN tlsrpt_delivery.counted IS 'true when this delivery raised seen_count (always true for the first).';
COMMENT ON COLUMN tlsrpt_delivery.delivered_at IS 'When the delivery was stored.';

CREATE TABLE tlsrpt_policy (
    id                   bigserial PRIMARY KEY,
    report_pk            bigint NOT NULL REFERENCES tlsrpt_report(id) ON DELETE CASCADE,
    ord                  integer NOT NULL CHECK (ord >= 1),
    policy_type          text CHECK (policy_type IN ('sts','tlsa','no-policy-found')),
    policy_type_raw      text,
    policy_domain        text NOT NULL,
    policy_string        text[],
    mx_host              text[],
    mx_host_was_string   boolean NOT NULL DEFAULT false,
    successful_sessions  bigint NOT NULL CHECK (successful_sessions >= 0),
    successful_raw       text,
    failed_sessions      bigint NOT NULL CHECK (failed_sessions >= 0),
    failed_raw           text,
    extra                jsonb,
    UNIQUE (report_pk, ord)
);
CREATE INDEX tlsrpt_policy_domain_idx ON tlsrpt_policy (policy_domain);
COMMENT ON TABLE tlsrpt_policy IS
'One row per entry of a TLS report''s policies list: the policy the sender applied to one of our domains, and its session counts. policy_type is nullable (the proposal had NOT NULL) so that an unknown type is kept in policy_type_raw.';
COMMENT ON COLUMN tlsrpt_policy.id IS 'Surrogate key.';
COMMENT ON COLUMN tlsrpt_policy.report_pk IS 'The TLS report.';
COMMENT ON COLUMN tlsrpt_policy.ord IS '1-based position in the report''s policies list.';
COMMENT ON COLUMN tlsrpt_policy.policy_type IS 'policy-type: sts (MTA-STS), tlsa (DANE) or no-policy-found, lower-cased; NULL when absent or unknown.';
COMMENT ON COLUMN tlsrpt_policy.policy_type_raw IS 'policy-type as sent when it was not canonical (STS, an unknown word); NULL otherwise.';
COMMENT ON COLUMN tlsrpt_policy.policy_domain IS 'policy-domain, trimmed, lower-cased, without a trailing dot; IDNs stay in the punycode form sent (xn--...). '''' when absent (with a warning).';
COMMENT ON COLUMN tlsrpt_policy.policy_string IS 'policy-string: the lines of the MTA-STS policy or the TLSA records, as sent; NULL when absent.';
COMMENT ON COLUMN tlsrpt_policy.mx_host IS 'mx-host: the MX patterns of the policy, trimmed; NULL when absent.';
COMMENT ON COLUMN tlsrpt_policy.mx_host_was_string IS 'true when mx-host was a string rather than the list RFC 8460 defines (the RFC''s own example does this).';
COMMENT ON COLUMN tlsrpt_policy.successful_sessions IS 'summary total-successful-session-count; 0 when absent or unreadable (then see successful_raw and the warnings).';
COMMENT ON COLUMN tlsrpt_policy.successful_raw IS 'The count as sent when it was not a JSON integer (a string such as "42", 1e400, a number out of range); NULL otherwise.';
COMMENT ON COLUMN tlsrpt_policy.failed_sessions IS 'summary total-failure-session-count (same rules as successful_sessions).';
COMMENT ON COLUMN tlsrpt_policy.failed_raw IS 'The failure count as sent when it was not a JSON integer; NULL otherwise.';
COMMENT ON COLUMN tlsrpt_policy.extra IS 'Unknown members of the policies entry, of its policy (named policy.<name>) and of its summary (summary.<name>), as a JSON object; NULL when none.';

CREATE TABLE tlsrpt_failure (
    policy_pk                 bigint NOT NULL REFERENCES tlsrpt_policy(id) ON DELETE CASCADE,
    ord                       integer NOT NULL CHECK (ord >= 1),
    result_type               text CHECK (result_type IN ('starttls-not-supported',
                              'certificate-host-mismatch','certificate-expired',
                              'certificate-not-trusted','validation-failure',
                              'tlsa-invalid','dnssec-invalid','dane-required',
                              'sts-policy-fetch-error','sts-policy-invalid',
                              'sts-webpki-invalid')),
    result_type_raw           text,
    sending_mta_ip            inet,
    sending_mta_ip_raw        text,
    receiving_mx_hostname     text,
    receiving_mx_helo         text,
    receiving_ip              inet,
    receiving_ip_raw          text,
    failed_session_count      bigint NOT NULL CHECK (failed_session_count >= 0),
    failed_session_count_raw  text,
    additional_information    text,
    failure_reason_code       text,
    extra                     jsonb,
    PRIMARY KEY (policy_pk, ord)
);
CREATE INDEX tlsrpt_failure_type_idx ON tlsrpt_failure (result_type);
COMMENT ON TABLE tlsrpt_failure IS
'One row per failure-details entry of a policy: a kind of TLS failure, seen by one sending MTA towards one of our MX hosts, and how many sessions failed so. result_type is nullable (the proposal had NOT NULL) so that an unknown result type is kept in result_type_raw.';
COMMENT ON COLUMN tlsrpt_failure.policy_pk IS 'The policy (tlsrpt_policy) the failures were counted under.';
COMMENT ON COLUMN tlsrpt_failure.ord IS '1-based position in the policy''s failure-details list.';
COMMENT ON COLUMN tlsrpt_failure.result_type IS 'result-type from the IANA registry of STARTTLS validation result types, lower-cased; NULL when absent or unknown.';
COMMENT ON COLUMN tlsrpt_failure.result_type_raw IS 'result-type as sent when it was not a registered word (kept raw) or not in its canonical form; NULL otherwise.';
COMMENT ON COLUMN tlsrpt_failure.sending_mta_ip IS 'sending-mta-ip: the reporter''s MTA that tried to deliver; NULL when absent or not an address.';
COMMENT ON COLUMN tlsrpt_failure.sending_mta_ip_raw IS 'sending-mta-ip as sent when it was not in canonical form (2001:db8:abcd:0012::1) or not an address; NULL otherwise.';
COMMENT ON COLUMN tlsrpt_failure.receiving_mx_hostname IS 'receiving-mx-hostname: our MX host, lower-cased, without a trailing dot.';
COMMENT ON COLUMN tlsrpt_failure.receiving_mx_helo IS 'receiving-mx-helo: the name our MX greeted with, trimmed.';
COMMENT ON COLUMN tlsrpt_failure.receiving_ip IS 'receiving-ip: the address of our MX; NULL when absent or not an address.';
COMMENT ON COLUMN tlsrpt_failure.receiving_ip_raw IS 'receiving-ip as sent when it was not in canonical form or not an address; NULL otherwise.';
COMMENT ON COLUMN tlsrpt_failure.failed_session_count IS 'failed-session-count; 0 when absent or unreadable (see failed_session_count_raw and the report''s warnings).';
COMMENT ON COLUMN tlsrpt_failure.failed_session_count_raw IS 'The count as sent when it was not a JSON integer; NULL otherwise.';
COMMENT ON COLUMN tlsrpt_failure.additional_information IS 'additional-information: a URI with more details, as sent.';
COMMENT ON COLUMN tlsrpt_failure.failure_reason_code IS 'failure-reason-code: the reporter''s own code or text (an OpenSSL error name, an HTTP status ...), as sent.';
COMMENT ON COLUMN tlsrpt_failure.extra IS 'Unknown members of the failure-details entry (parsedmarc''s additional-info-uri, for instance) as a JSON object; NULL when none.';

-- Failure reports ---------------------------------------------------------------
CREATE TABLE failure_report (
    id                         bigserial PRIMARY KEY,
    file_pk                    bigint REFERENCES report_file(id) ON DELETE SET NULL,
    message_pk                 bigint REFERENCES mail_message(id) ON DELETE SET NULL,
    feedback_sha256            bytea NOT NULL UNIQUE CHECK (octet_length(feedback_sha256) = 32),
    format                     text NOT NULL CHECK (format IN ('arf','plain')),
    reason                     text,
    feedback_type              text CHECK (feedback_type IN ('auth-failure','abuse',
                               'fraud','virus','not-spam','other')),
    feedback_type_raw          text,
    version                    text,
    user_agent                 text,
    auth_failure               text[],
    auth_failure_raw           text,
    identity_alignment         text[],
    identity_alignment_raw     text,
    delivery_result            text CHECK (delivery_result IN ('delivered','spam',
                               'policy','reject','other')),
    delivery_result_raw        text,
    arrival_date               timestamptz,
    arrival_date_raw           text,
    source_ip                  inet,
    source_ip_raw              text,
    source_port                integer CHECK (source_port BETWEEN 0 AND 65535),
    reported_domain            text[],
    reported_uri               text[],
    original_mail_from         text,
    original_rcpt_to           text[],
    original_envelope_id       text,
    authentication_results     text,
    dkim_domain                text,
    dkim_identity              text,
    dkim_selector              text,
    dkim_canonicalized_header  text,
    dkim_canonicalized_body    text,
    spf_dns                    text,
    incidents                  text,
    raw_fields                 jsonb NOT NULL,
    feedback_raw               text NOT NULL,
    sample_headers             text,
    sample_is_headers_only     boolean,
    sample_body                text,
    original_from              text,
    original_subject           text,
    original_message_id        text,
    parse_warnings             text[] NOT NULL DEFAULT '{}',
    first_seen                 timestamptz NOT NULL DEFAULT now(),
    last_seen                  timestamptz NOT NULL DEFAULT now(),
    seen_count                 integer NOT NULL DEFAULT 1 CHECK (seen_count >= 1)
);
CREATE INDEX failure_report_file_idx ON failure_report (file_pk);
CREATE INDEX failure_report_arrival_idx ON failure_report (arrival_date);
CREATE INDEX failure_report_domain_idx ON failure_report USING gin (reported_domain);
COMMENT ON TABLE failure_report IS
'One row per distinct DMARC failure (forensic) report: one message that failed authentication, as a receiver described it (RFC 6591 ARF, updated by RFC 9991). Deduplicated on feedback_sha256 (ARF has no report ID), with the seen_count rule of the aggregate reports (failure_delivery). Reports without a message/feedback-report part (Exim''s plain text) are kept with what could be read (format plain, reason). Holds personal data (addresses, sample headers): sample_body is only filled when failure_reports.store_body is set in the configuration. Departures from the proposal in standards.md 6.2: file_pk, the *_raw columns, reported_domain and reported_uri as lists, the DKIM canonicalised fields, Incidents, the feedback part itself, the sample''s From, Subject and Message-ID, and the dedup bookkeeping.';
COMMENT ON COLUMN failure_report.id IS 'Surrogate key.';
COMMENT ON COLUMN failure_report.file_pk IS 'The payload this report was first stored from (report_file, kind arf).';
COMMENT ON COLUMN failure_report.message_pk IS 'The message (ledger row) that first delivered the report.';
COMMENT ON COLUMN failure_report.feedback_sha256 IS 'SHA-256 of feedback_raw (UTF-8): the report''s identity. The same feedback part with CR LF or LF line ends is the same report.';
COMMENT ON COLUMN failure_report.format IS 'arf: read from a message/feedback-report part; plain: a report without one, read from its text by pattern (see reason).';
COMMENT ON COLUMN failure_report.reason IS 'Why the report is not a complete ARF report (no feedback part, ...); NULL for ARF.';
COMMENT ON COLUMN failure_report.feedback_type IS 'Feedback-Type, lower-cased: auth-failure for DMARC failure reports; abuse, fraud, virus, not-spam or other for generic ARF; NULL when absent or unknown.';
COMMENT ON COLUMN failure_report.feedback_type_raw IS 'Feedback-Type as sent when it was not canonical; NULL otherwise.';
COMMENT ON COLUMN failure_report.version IS 'Version field as sent (1; some send 1.0).';
COMMENT ON COLUMN failure_report.user_agent IS 'User-Agent: the software that wrote the report.';
COMMENT ON COLUMN failure_report.auth_failure IS 'Auth-Failure words, lower-cased: dmarc, spf, signature, bodyhash, revoked, adsp; NULL when absent.';
COMMENT ON COLUMN failure_report.auth_failure_raw IS 'Auth-Failure as sent when a word was unknown or not canonical; NULL otherwise.';
COMMENT ON COLUMN failure_report.identity_alignment IS 'Identity-Alignment words (RFC 9991, required there): dkim, spf or none; NULL when absent.';
COMMENT ON COLUMN failure_report.identity_alignment_raw IS 'Identity-Alignment as sent when a word was unknown or not canonical; NULL otherwise.';
COMMENT ON COLUMN failure_report.delivery_result IS 'Delivery-Result: delivered, spam, policy, reject or other; NULL when absent or a vendor word.';
COMMENT ON COLUMN failure_report.delivery_result_raw IS 'Delivery-Result as sent when it was not canonical (Symantec''s smg-policy-action); NULL otherwise.';
COMMENT ON COLUMN failure_report.arrival_date IS 'Arrival-Date (RFC 5322 date; Received-Date when there is no Arrival-Date; a plain report''s "Received date"); NULL when absent or unreadable.';
COMMENT ON COLUMN failure_report.arrival_date_raw IS 'The date field as sent; NULL when absent.';
COMMENT ON COLUMN failure_report.source_ip IS 'Source-IP: the address that sent the failed message; NULL when absent or not an address.';
COMMENT ON COLUMN failure_report.source_ip_raw IS 'Source-IP as sent when it was not just a canonical address (OpenDMARC adds the host name in parentheses); NULL otherwise.';
COMMENT ON COLUMN failure_report.source_port IS 'Source-Port (RFC 6692); NULL when absent or invalid.';
COMMENT ON COLUMN failure_report.reported_domain IS 'Reported-Domain values (usually one), lower-cased, without a trailing dot.';
COMMENT ON COLUMN failure_report.reported_uri IS 'Reported-URI values, as sent.';
COMMENT ON COLUMN failure_report.original_mail_from IS 'Original-Mail-From: the envelope sender of the failed message.';
COMMENT ON COLUMN failure_report.original_rcpt_to IS 'Original-Rcpt-To values: its envelope recipients.';
COMMENT ON COLUMN failure_report.original_envelope_id IS 'Original-Envelope-Id: the receiver''s queue ID of the failed message.';
COMMENT ON COLUMN failure_report.authentication_results IS 'Authentication-Results field of the report (the receiver''s verdict), unfolded.';
COMMENT ON COLUMN failure_report.dkim_domain IS 'DKIM-Domain: d= of the failed signature, lower-cased.';
COMMENT ON COLUMN failure_report.dkim_identity IS 'DKIM-Identity: i= of the failed signature.';
COMMENT ON COLUMN failure_report.dkim_selector IS 'DKIM-Selector: s= of the failed signature.';
COMMENT ON COLUMN failure_report.dkim_canonicalized_header IS 'DKIM-Canonicalized-Header (base64), as sent.';
COMMENT ON COLUMN failure_report.dkim_canonicalized_body IS 'DKIM-Canonicalized-Body (base64), as sent.';
COMMENT ON COLUMN failure_report.spf_dns IS 'SPF-DNS: the SPF record(s) the receiver evaluated.';
COMMENT ON COLUMN failure_report.incidents IS 'Incidents: how many messages this report stands for (RFC 5965), as sent.';
COMMENT ON COLUMN failure_report.raw_fields IS 'Every field of the feedback part verbatim, in order, repeats included (folded lines keep their line breaks), as a JSON array of [name, value] pairs; for a plain report the "Name: value" lines of its text.';
COMMENT ON COLUMN failure_report.feedback_raw IS 'The feedback part itself (plain reports: their text), made valid UTF-8 with LF line ends; feedback_sha256 is its digest.';
COMMENT ON COLUMN failure_report.sample_headers IS 'The header block of the failed message as returned in the report (message/rfc822 or text/rfc822-headers; a plain report''s header copy). Personal data.';
COMMENT ON COLUMN failure_report.sample_is_headers_only IS 'true when the report returned only the headers (text/rfc822-headers, or a plain report''s copy); NULL when nothing was returned.';
COMMENT ON COLUMN failure_report.sample_body IS 'The body of the failed message: only stored when failure_reports.store_body is set (off by default, for privacy); NULL otherwise.';
COMMENT ON COLUMN failure_report.original_from IS 'From field of the failed message (from sample_headers, unfolded, not decoded).';
COMMENT ON COLUMN failure_report.original_subject IS 'Subject field of the failed message (from sample_headers, unfolded, not decoded).';
COMMENT ON COLUMN failure_report.original_message_id IS 'Message-ID field of the failed message (from sample_headers).';
COMMENT ON COLUMN failure_report.parse_warnings IS 'What was odd about the report: lines that are not fields, an unreadable date, a missing Feedback-Type, no copy of the original ...';
COMMENT ON COLUMN failure_report.first_seen IS 'When the report was first stored.';
COMMENT ON COLUMN failure_report.last_seen IS 'When another message last delivered it.';
COMMENT ON COLUMN failure_report.seen_count IS 'How many different messages delivered this report (1 = no duplicate). Re-reading the same message (same ledger row, Message-ID or SHA-256) does not count.';

CREATE TABLE failure_delivery (
    failure_pk    bigint NOT NULL REFERENCES failure_report(id) ON DELETE CASCADE,
    file_pk       bigint NOT NULL REFERENCES report_file(id) ON DELETE CASCADE,
    counted       boolean NOT NULL,
    delivered_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (failure_pk, file_pk)
);
CREATE INDEX failure_delivery_file_idx ON failure_delivery (file_pk);
COMMENT ON TABLE failure_delivery IS
'Every payload that delivered a failure report, the first one included; a delivery is counted in failure_report.seen_count when its message differs from the messages of every earlier delivery (another ledger row, another Message-ID and another SHA-256).';
COMMENT ON COLUMN failure_delivery.failure_pk IS 'The failure report delivered.';
COMMENT ON COLUMN failure_delivery.file_pk IS 'The payload (report_file) that delivered it.';
COMMENT ON COLUMN failure_delivery.counted IS 'true when this delivery raised seen_count (always true for the first).';
COMMENT ON COLUMN failure_delivery.delivered_at IS 'When the delivery was stored.';

-- Views -------------------------------------------------------------------------
CREATE VIEW v_tlsrpt_daily AS
SELECT (r.date_begin AT TIME ZONE 'UTC')::date AS day, p.policy_domain,
       sum(p.successful_sessions) AS successful_sessions,
       sum(p.failed_sessions)     AS failed_sessions,
       count(DISTINCT r.id)       AS reports,
       count(DISTINCT r.organization_name) AS reporters
FROM tlsrpt_policy p JOIN tlsrpt_report r ON r.id = p.report_pk
GROUP BY 1, 2;
COMMENT ON VIEW v_tlsrpt_daily IS 'SMTP TLS sessions per policy domain and UTC day the report period starts: how many succeeded and failed, over how many reports and reporters.';
COMMENT ON COLUMN v_tlsrpt_daily.day IS 'UTC day of the report''s date_begin.';
COMMENT ON COLUMN v_tlsrpt_daily.policy_domain IS 'The policy domain (one of ours).';
COMMENT ON COLUMN v_tlsrpt_daily.successful_sessions IS 'Sum of total-successful-session-count.';
COMMENT ON COLUMN v_tlsrpt_daily.failed_sessions IS 'Sum of total-failure-session-count.';
COMMENT ON COLUMN v_tlsrpt_daily.reports IS 'Number of TLS reports counted.';
COMMENT ON COLUMN v_tlsrpt_daily.reporters IS 'Number of distinct reporting organisations.';

CREATE VIEW v_tlsrpt_failures AS
SELECT coalesce(f.result_type, f.result_type_raw, '') AS result_type,
       f.result_type IS NULL AND f.result_type_raw IS NOT NULL AS unknown_type,
       f.sending_mta_ip, p.policy_domain, f.receiving_mx_hostname,
       sum(f.failed_session_count) AS failed_sessions,
       count(DISTINCT r.id) AS reports,
       min(r.date_begin) AS first_begin, max(r.date_end) AS last_end
FROM tlsrpt_failure f
JOIN tlsrpt_policy p ON p.id = f.policy_pk
JOIN tlsrpt_report r ON r.id = p.report_pk
GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW v_tlsrpt_failures IS 'TLS failures by result type and sending MTA (and the policy domain and MX they concerned): how many sessions failed, in how many reports, over which period.';
COMMENT ON COLUMN v_tlsrpt_failures.result_type IS 'The registered result type, or the raw text of an unknown one ('''' when absent).';
COMMENT ON COLUMN v_tlsrpt_failures.unknown_type IS 'true when result_type is not a registered word (kept raw).';
COMMENT ON COLUMN v_tlsrpt_failures.sending_mta_ip IS 'The reporter''s sending MTA (NULL when not given).';
COMMENT ON COLUMN v_tlsrpt_failures.policy_domain IS 'The policy domain the failures were counted under.';
COMMENT ON COLUMN v_tlsrpt_failures.receiving_mx_hostname IS 'Our MX host, when given.';
COMMENT ON COLUMN v_tlsrpt_failures.failed_sessions IS 'Sum of failed-session-count.';
COMMENT ON COLUMN v_tlsrpt_failures.reports IS 'Number of TLS reports with such failures.';
COMMENT ON COLUMN v_tlsrpt_failures.first_begin IS 'Start of the earliest report period.';
COMMENT ON COLUMN v_tlsrpt_failures.last_end IS 'End of the latest report period.';

CREATE VIEW v_failure_reports AS
SELECT (coalesce(f.arrival_date, f.first_seen) AT TIME ZONE 'UTC')::date AS day,
       coalesce(d.domain, '') AS reported_domain, f.source_ip,
       count(*) AS reports, sum(f.seen_count) AS deliveries,
       count(*) FILTER (WHERE f.feedback_type = 'auth-failure') AS auth_failure_reports,
       count(*) FILTER (WHERE 'dmarc' = ANY (f.auth_failure)) AS dmarc_failures,
       count(*) FILTER (WHERE f.format = 'plain') AS plain_reports
FROM failure_report f
LEFT JOIN LATERAL unnest(f.reported_domain) AS d(domain) ON true
GROUP BY 1, 2, 3;
COMMENT ON VIEW v_failure_reports IS 'Failure reports per UTC day (of Arrival-Date, or of first_seen when unknown), reported domain and source address. A report naming two domains counts under each.';
COMMENT ON COLUMN v_failure_reports.day IS 'UTC day the failed message arrived (first_seen when the report gives no date).';
COMMENT ON COLUMN v_failure_reports.reported_domain IS 'A Reported-Domain of the report ('''' when none).';
COMMENT ON COLUMN v_failure_reports.source_ip IS 'Source-IP of the failed message (NULL when unknown).';
COMMENT ON COLUMN v_failure_reports.reports IS 'Number of distinct failure reports.';
COMMENT ON COLUMN v_failure_reports.deliveries IS 'Sum of their seen_count.';
COMMENT ON COLUMN v_failure_reports.auth_failure_reports IS 'Reports with Feedback-Type auth-failure (the others are generic ARF: abuse, fraud ...).';
COMMENT ON COLUMN v_failure_reports.dmarc_failures IS 'Reports whose Auth-Failure includes dmarc.';
COMMENT ON COLUMN v_failure_reports.plain_reports IS 'Reports read from plain text (format plain).';
