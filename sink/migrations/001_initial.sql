-- 001_initial.sql: the dmarc schema, version 1.
--
-- dmarc-agent embeds this file at build time and runs it with
-- "dmarc-agent migrate" in one transaction, under an advisory lock, then
-- records version 1 in dmarc.schema_version.  It contains no BEGIN/COMMIT
-- and no version row: to apply it by hand use
--   psql -1 -f 001_initial.sql
-- and INSERT INTO dmarc.schema_version (version, name) VALUES (1, '001_initial').
--
-- Where a column departs from what RFC 7489 and RFC 9990 name, the COMMENT
-- ON of the object concerned says why.
-- Rule for enumerated values taken from a report: the typed column holds the
-- canonical word or NULL (with a CHECK), the matching *_raw column holds the
-- original text when it was not canonical, and is NULL otherwise.

CREATE SCHEMA IF NOT EXISTS dmarc;
SET LOCAL search_path = dmarc;

COMMENT ON SCHEMA dmarc IS
'DMARC aggregate reports stored by dmarc-agent: the mail ledger (mail_message), report payloads (report_file), reports and their records. Start with the v_* views.';

-- Schema version ------------------------------------------------------------
CREATE TABLE schema_version (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    applied_by  text
);
COMMENT ON TABLE schema_version IS
'One row per applied schema migration; the highest version is the schema''s version. dmarc-agent refuses to run against a schema newer than itself.';
COMMENT ON COLUMN schema_version.version IS 'Migration number (the NNN of sink/migrations/NNN_name.sql).';
COMMENT ON COLUMN schema_version.name IS 'Migration file name without .sql, for example 001_initial.';
COMMENT ON COLUMN schema_version.applied_at IS 'When the migration was applied.';
COMMENT ON COLUMN schema_version.applied_by IS 'Program and version that applied it, for example dmarc-agent 0.1.0.';

-- Provenance: the mail ledger -----------------------------------------------
CREATE TABLE mail_message (
    id            bigserial PRIMARY KEY,
    mailbox       text   NOT NULL,
    uidvalidity   bigint NOT NULL CHECK (uidvalidity BETWEEN 0 AND 4294967295),
    uid           bigint CHECK (uid BETWEEN 1 AND 4294967295),
    path          text,
    message_id    text,
    from_addr     text,
    subject       text,
    date_hdr      timestamptz,
    size_bytes    bigint CHECK (size_bytes >= 0),
    sha256        bytea CHECK (octet_length(sha256) = 32),
    auth_results  text,
    fetched_at    timestamptz NOT NULL DEFAULT now(),
    status        text NOT NULL DEFAULT 'claimed' CHECK (status IN
                  ('claimed','stored','duplicate','ignored','invalid','too_large')),
    status_detail text,
    status_at     timestamptz NOT NULL DEFAULT now(),
    after_action  text NOT NULL DEFAULT 'pending' CHECK (after_action IN ('pending','done')),
    UNIQUE (mailbox, uidvalidity, uid),
    CONSTRAINT mail_message_imap_has_uid CHECK (uid IS NOT NULL OR mailbox = 'file'),
    CONSTRAINT mail_message_file_has_sha256 CHECK (uid IS NOT NULL OR sha256 IS NOT NULL)
);
CREATE UNIQUE INDEX mail_message_file_sha256_key ON mail_message (sha256)
    WHERE mailbox = 'file' AND uid IS NULL;
CREATE INDEX mail_message_message_id_idx ON mail_message (message_id);
CREATE INDEX mail_message_sha256_idx ON mail_message (sha256);

COMMENT ON TABLE mail_message IS
'The ledger: one row per examined mail message (IMAP) or file (the ingest command), with what became of it. IMAP messages are keyed by (mailbox, uidvalidity, uid); files have mailbox ''file'', uidvalidity 0, uid NULL and are keyed by their content SHA-256 (partial unique index mail_message_file_sha256_key). Departure from the proposal: uid is nullable for files, so that a file needs no invented uid. Columns status and after_action hold dmarc-agent''s own vocabulary, never text from a report, so they have no *_raw column.';
COMMENT ON COLUMN mail_message.id IS 'Surrogate key.';
COMMENT ON COLUMN mail_message.mailbox IS 'IMAP mailbox the message was read from, or ''file'' for a file given to the ingest command.';
COMMENT ON COLUMN mail_message.uidvalidity IS 'IMAP UIDVALIDITY of the mailbox when the message was read; 0 for files. A new UIDVALIDITY gives the same mail new ledger rows.';
COMMENT ON COLUMN mail_message.uid IS 'IMAP UID within (mailbox, uidvalidity); NULL for files (constraint mail_message_imap_has_uid).';
COMMENT ON COLUMN mail_message.path IS 'Files: the path given to the ingest command, for information only (the key is sha256). NULL for IMAP.';
COMMENT ON COLUMN mail_message.message_id IS 'Message-ID header as sent, NULL when absent.';
COMMENT ON COLUMN mail_message.from_addr IS 'From header (the reporter''s address).';
COMMENT ON COLUMN mail_message.subject IS 'Subject header, RFC 2047-decoded and unfolded.';
COMMENT ON COLUMN mail_message.date_hdr IS 'Date header; NULL when absent or unparsable.';
COMMENT ON COLUMN mail_message.size_bytes IS 'Size of the whole message (or file) in bytes.';
COMMENT ON COLUMN mail_message.sha256 IS 'SHA-256 of the whole message (or file) as read. The key of file rows; for IMAP rows it tells a re-read of the same mail from a resend.';
COMMENT ON COLUMN mail_message.auth_results IS 'Authentication-Results header(s) of the report mail itself.';
COMMENT ON COLUMN mail_message.fetched_at IS 'When dmarc-agent last read the message.';
COMMENT ON COLUMN mail_message.status IS 'claimed: seen but not yet processed (or processing was interrupted); stored: at least one report stored; duplicate: only reports already stored; ignored: no report in it; invalid: a report that could not be parsed; too_large: over the size limit, not read.';
COMMENT ON COLUMN mail_message.status_detail IS 'Why the status is what it is (for example the parse error), free text for humans.';
COMMENT ON COLUMN mail_message.status_at IS 'When status was last written.';
COMMENT ON COLUMN mail_message.after_action IS 'pending: the configured after-action (mark seen, move, delete) is still to do on the server; done: it was done.';

-- Provenance: payloads ------------------------------------------------------
CREATE TABLE report_file (
    id                bigserial PRIMARY KEY,
    message_pk        bigint REFERENCES mail_message(id) ON DELETE SET NULL,
    mime_path         text,
    filename          text,
    content_type      text,
    transfer_encoding text,
    container         text,
    zip_member        text,
    kind              text,
    encoded_bytes     bigint CHECK (encoded_bytes >= 0),
    payload_bytes     bigint CHECK (payload_bytes >= 0),
    payload_sha256    bytea CHECK (octet_length(payload_sha256) = 32),
    error             text,
    fn_receiver       text,
    fn_policy_domain  text,
    fn_begin          bigint,
    fn_end            bigint,
    fn_unique_id      text,
    subj_domain       text,
    subj_submitter    text,
    subj_report_id    text,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_file_message_idx ON report_file (message_pk);
CREATE INDEX report_file_sha256_idx ON report_file (payload_sha256);

COMMENT ON TABLE report_file IS
'One row per report payload found in a message: an attachment, a member of a zip, or an inline body, with where it was found. A message may hold several. Duplicated reports also get a row here (see report_delivery).';
COMMENT ON COLUMN report_file.id IS 'Surrogate key.';
COMMENT ON COLUMN report_file.message_pk IS 'The message (ledger row) the payload came from.';
COMMENT ON COLUMN report_file.mime_path IS 'Position of the MIME part in the message: ''1'', ''2'', ''2.1'' (inside a message/rfc822) ...';
COMMENT ON COLUMN report_file.filename IS 'File name of the attachment as declared (Content-Disposition or Content-Type name).';
COMMENT ON COLUMN report_file.content_type IS 'Content-Type of the MIME part, as declared.';
COMMENT ON COLUMN report_file.transfer_encoding IS 'Content-Transfer-Encoding of the MIME part (base64, quoted-printable ...).';
COMMENT ON COLUMN report_file.container IS 'How the payload was wrapped, outermost first, for example ''zip>xml'', ''gzip>xml'' or ''inline''. Nullable (the proposal had NOT NULL): a payload is recorded even when its wrapping could not be determined.';
COMMENT ON COLUMN report_file.zip_member IS 'Name of the member inside a zip archive, NULL when not zipped.';
COMMENT ON COLUMN report_file.kind IS 'What the payload is: ''xml'' (DMARC aggregate report), ''json'' (SMTP TLS report) or ''arf'' (failure report).';
COMMENT ON COLUMN report_file.encoded_bytes IS 'Size of the MIME part before decoding (transfer encoding and compression included).';
COMMENT ON COLUMN report_file.payload_bytes IS 'Size of the payload after decoding and decompression. NULL until the payload has been read to its end.';
COMMENT ON COLUMN report_file.payload_sha256 IS 'SHA-256 of the decoded payload; equal values are byte-identical resends. Nullable (the proposal had NOT NULL) because the row is written before the payload is streamed through the parser; it is filled when the payload has been read.';
COMMENT ON COLUMN report_file.error IS 'Why the payload could not be stored (parse error, size limit ...); NULL when it was stored or was a duplicate.';
COMMENT ON COLUMN report_file.fn_receiver IS 'Receiver part of the file name, when the name follows the RFC 7489 section 7.2.1.1 convention receiver!policy-domain!begin!end[!unique-id].ext; NULL otherwise.';
COMMENT ON COLUMN report_file.fn_policy_domain IS 'Policy-domain part of a conventional file name (see fn_receiver).';
COMMENT ON COLUMN report_file.fn_begin IS 'Begin timestamp (epoch seconds) of a conventional file name (see fn_receiver).';
COMMENT ON COLUMN report_file.fn_end IS 'End timestamp (epoch seconds) of a conventional file name (see fn_receiver).';
COMMENT ON COLUMN report_file.fn_unique_id IS 'Unique-id part of a conventional file name (RFC 9990), NULL when absent.';
COMMENT ON COLUMN report_file.subj_domain IS 'Domain from the message Subject "Report Domain: ..." (RFC 7489 section 7.2.1.1), NULL when the Subject does not say.';
COMMENT ON COLUMN report_file.subj_submitter IS 'Submitter from the message Subject "Submitter: ...", NULL when absent.';
COMMENT ON COLUMN report_file.subj_report_id IS 'Report-ID from the message Subject "Report-ID: <...>", without angle brackets, NULL when absent.';
COMMENT ON COLUMN report_file.created_at IS 'When the row was written.';

-- Aggregate report header ---------------------------------------------------
CREATE TABLE report (
    id                      bigserial PRIMARY KEY,
    file_pk                 bigint REFERENCES report_file(id) ON DELETE SET NULL,
    format                  text NOT NULL CHECK (format IN ('rfc7489','rfc9990','draft','unknown')),
    xml_namespace           text,
    xml_version             text,
    org_name                text,
    reporter_key            text NOT NULL,
    org_email               text,
    extra_contact_info      text,
    extra_contact_info_lang text,
    report_id               text NOT NULL,
    date_begin              timestamptz NOT NULL,
    date_end                timestamptz NOT NULL,
    begin_raw               text,
    end_raw                 text,
    generator               text,
    policy_domain           text NOT NULL,
    policy_p            text CHECK (policy_p  IN ('none','quarantine','reject')),
    policy_p_raw        text,
    policy_sp           text CHECK (policy_sp IN ('none','quarantine','reject')),
    policy_sp_raw       text,
    policy_np           text CHECK (policy_np IN ('none','quarantine','reject')),
    policy_np_raw       text,
    policy_adkim        text CHECK (policy_adkim IN ('r','s')),
    policy_adkim_raw    text,
    policy_aspf         text CHECK (policy_aspf  IN ('r','s')),
    policy_aspf_raw     text,
    policy_pct          smallint CHECK (policy_pct BETWEEN 0 AND 100),
    policy_pct_raw      text,
    policy_fo           text,
    policy_testing      text CHECK (policy_testing IN ('y','n')),
    policy_testing_raw  text,
    discovery_method    text CHECK (discovery_method IN ('psl','treewalk')),
    discovery_method_raw text,
    policy_published_count smallint NOT NULL DEFAULT 1,
    record_count        integer NOT NULL DEFAULT 0,
    message_total       bigint  NOT NULL DEFAULT 0,
    records_skipped     integer NOT NULL DEFAULT 0,
    parse_warnings      text[]  NOT NULL DEFAULT '{}',
    first_seen          timestamptz NOT NULL DEFAULT now(),
    last_seen           timestamptz NOT NULL DEFAULT now(),
    seen_count          integer NOT NULL DEFAULT 1,
    CHECK (date_end >= date_begin),
    UNIQUE (reporter_key, report_id, policy_domain, date_begin)
);
CREATE INDEX report_domain_begin_idx   ON report (policy_domain, date_begin);
CREATE INDEX report_reporter_begin_idx ON report (reporter_key, date_begin);
CREATE INDEX report_file_idx           ON report (file_pk);

COMMENT ON TABLE report IS
'One row per distinct DMARC aggregate report (the <report_metadata> and <policy_published> of one XML document). Deduplicated on (reporter_key, report_id, policy_domain, date_begin): a report delivered again only raises seen_count.';
COMMENT ON COLUMN report.id IS 'Surrogate key.';
COMMENT ON COLUMN report.file_pk IS 'The payload this report was first stored from (later deliveries: report_delivery).';
COMMENT ON COLUMN report.format IS 'rfc7489: legacy schema (no namespace); rfc9990: DMARCbis namespace urn:ietf:params:xml:ns:dmarc-2.0; draft: no namespace but DMARCbis-only fields; unknown.';
COMMENT ON COLUMN report.xml_namespace IS 'XML namespace of the <feedback> element, NULL when none.';
COMMENT ON COLUMN report.xml_version IS 'Text of the <version> element, as sent.';
COMMENT ON COLUMN report.org_name IS 'Reporting organisation (<org_name>), trimmed, case kept.';
COMMENT ON COLUMN report.reporter_key IS 'Who reported, normalised for deduplication and grouping: lower(org_name), or the domain of org_email when org_name is empty, or ''''.';
COMMENT ON COLUMN report.org_email IS 'Reporter contact address (<email>).';
COMMENT ON COLUMN report.extra_contact_info IS 'Reporter <extra_contact_info>.';
COMMENT ON COLUMN report.extra_contact_info_lang IS 'lang attribute of <extra_contact_info> (RFC 9990).';
COMMENT ON COLUMN report.report_id IS 'Reporter''s report identifier (<report_id>), trimmed, otherwise verbatim.';
COMMENT ON COLUMN report.date_begin IS 'Start of the reporting period (<date_range><begin>).';
COMMENT ON COLUMN report.date_end IS 'End of the reporting period (<date_range><end>); never before date_begin (see end_raw).';
COMMENT ON COLUMN report.begin_raw IS 'Original <begin> text when it was not a plain integer, else NULL.';
COMMENT ON COLUMN report.end_raw IS 'Original <end> text when it was not a plain integer, or when an end before begin was clamped to begin (date_end >= date_begin always holds), else NULL.';
COMMENT ON COLUMN report.generator IS 'Software that produced the report (<generator>, RFC 9990).';
COMMENT ON COLUMN report.policy_domain IS 'Domain the published policy belongs to (<policy_published><domain>), lower-cased, trailing dot removed.';
COMMENT ON COLUMN report.policy_p IS 'Published policy p: none, quarantine or reject; NULL when absent or not canonical (see policy_p_raw).';
COMMENT ON COLUMN report.policy_p_raw IS 'Original text of p when it was not canonical, else NULL.';
COMMENT ON COLUMN report.policy_sp IS 'Published subdomain policy sp: none, quarantine or reject; NULL when absent or not canonical.';
COMMENT ON COLUMN report.policy_sp_raw IS 'Original text of sp when it was not canonical, else NULL.';
COMMENT ON COLUMN report.policy_np IS 'Published non-existent subdomain policy np (RFC 9990): none, quarantine or reject.';
COMMENT ON COLUMN report.policy_np_raw IS 'Original text of np when it was not canonical, else NULL.';
COMMENT ON COLUMN report.policy_adkim IS 'DKIM alignment mode: r (relaxed) or s (strict).';
COMMENT ON COLUMN report.policy_adkim_raw IS 'Original text of adkim when it was not canonical, else NULL.';
COMMENT ON COLUMN report.policy_aspf IS 'SPF alignment mode: r (relaxed) or s (strict).';
COMMENT ON COLUMN report.policy_aspf_raw IS 'Original text of aspf when it was not canonical, else NULL.';
COMMENT ON COLUMN report.policy_pct IS 'Published pct (0 to 100, RFC 7489); NULL when absent or invalid.';
COMMENT ON COLUMN report.policy_pct_raw IS 'Original text of pct when it was not a plain integer from 0 to 100, else NULL.';
COMMENT ON COLUMN report.policy_fo IS 'Published failure reporting options fo, as sent.';
COMMENT ON COLUMN report.policy_testing IS 'Published t (testing, RFC 9990): y or n.';
COMMENT ON COLUMN report.policy_testing_raw IS 'Original text of testing when it was not canonical, else NULL.';
COMMENT ON COLUMN report.discovery_method IS 'How the receiver found the policy (RFC 9990): psl or treewalk.';
COMMENT ON COLUMN report.discovery_method_raw IS 'Original text of discovery_method when it was not canonical, else NULL.';
COMMENT ON COLUMN report.policy_published_count IS 'Number of <policy_published> elements; only the first is stored, more than 1 is a malformed report.';
COMMENT ON COLUMN report.record_count IS 'Number of records stored for the report (rows in record).';
COMMENT ON COLUMN report.message_total IS 'Sum of message_count over the stored records.';
COMMENT ON COLUMN report.records_skipped IS 'Records dropped because they held no usable data (not in the proposal: tells a complete report from one stored with losses).';
COMMENT ON COLUMN report.parse_warnings IS 'What was odd about the document, including ''recovered: <libxml2 error>'' when it was read in recovery mode.';
COMMENT ON COLUMN report.first_seen IS 'When the report was first stored.';
COMMENT ON COLUMN report.last_seen IS 'When the report was last delivered by a different message.';
COMMENT ON COLUMN report.seen_count IS 'How many different messages delivered this report (1 = no duplicate). Re-reading the same message (same ledger row, Message-ID or SHA-256) does not count.';

CREATE TABLE report_error (
    report_pk bigint   NOT NULL REFERENCES report(id) ON DELETE CASCADE,
    ord       smallint NOT NULL,
    message   text     NOT NULL,
    lang      text,
    PRIMARY KEY (report_pk, ord)
);
COMMENT ON TABLE report_error IS 'The <error> elements of a report''s metadata, in document order.';
COMMENT ON COLUMN report_error.report_pk IS 'The report.';
COMMENT ON COLUMN report_error.ord IS '1-based position among the report''s <error> elements.';
COMMENT ON COLUMN report_error.message IS 'Text of the <error> element.';
COMMENT ON COLUMN report_error.lang IS 'lang attribute of the element (RFC 9990), NULL when absent.';

CREATE TABLE report_extension (
    report_pk  bigint   NOT NULL REFERENCES report(id) ON DELETE CASCADE,
    ord        smallint NOT NULL,
    ns_uri     text,
    local_name text     NOT NULL,
    xml        text     NOT NULL,
    PRIMARY KEY (report_pk, ord)
);
COMMENT ON TABLE report_extension IS 'Children of <extension> and unknown elements at report level, kept as XML text so that nothing is lost.';
COMMENT ON COLUMN report_extension.report_pk IS 'The report.';
COMMENT ON COLUMN report_extension.ord IS '1-based position in the document.';
COMMENT ON COLUMN report_extension.ns_uri IS 'Namespace URI of the element, NULL when none.';
COMMENT ON COLUMN report_extension.local_name IS 'Element name without prefix.';
COMMENT ON COLUMN report_extension.xml IS 'The element serialised as XML.';

CREATE TABLE report_delivery (
    report_pk    bigint  NOT NULL REFERENCES report(id) ON DELETE CASCADE,
    file_pk      bigint  NOT NULL REFERENCES report_file(id) ON DELETE CASCADE,
    counted      boolean NOT NULL,
    delivered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (report_pk, file_pk)
);
CREATE INDEX report_delivery_file_idx ON report_delivery (file_pk);
COMMENT ON TABLE report_delivery IS
'Every payload that delivered a report, the first one included (not in the proposal). It links duplicate payloads to the report they repeat, and decides seen_count: a delivery is counted when its message differs from every message of the earlier deliveries, that is another ledger row with another Message-ID and another SHA-256.';
COMMENT ON COLUMN report_delivery.report_pk IS 'The report delivered.';
COMMENT ON COLUMN report_delivery.file_pk IS 'The payload that delivered it (report_file; its message_pk leads to the message).';
COMMENT ON COLUMN report_delivery.counted IS 'true when this delivery raised report.seen_count (always true for the first); false for a re-read of a message that delivered the report before.';
COMMENT ON COLUMN report_delivery.delivered_at IS 'When the delivery was stored.';

-- Records -------------------------------------------------------------------
CREATE TABLE record (
    id              bigserial PRIMARY KEY,
    report_pk       bigint  NOT NULL REFERENCES report(id) ON DELETE CASCADE,
    ord             integer NOT NULL,
    policy_domain   text        NOT NULL,
    date_begin      timestamptz NOT NULL,
    report_day      date GENERATED ALWAYS AS ((date_begin AT TIME ZONE 'UTC')::date) STORED,
    source_ip       inet CHECK (masklen(source_ip) = CASE family(source_ip) WHEN 4 THEN 32 ELSE 128 END),
    source_ip_raw   text,
    message_count   bigint NOT NULL CHECK (message_count >= 0),
    count_raw       text,
    disposition     text CHECK (disposition IN ('none','quarantine','reject','pass')),
    disposition_raw text,
    dkim_aligned    text CHECK (dkim_aligned IN ('pass','fail')),
    dkim_aligned_raw text,
    spf_aligned     text CHECK (spf_aligned  IN ('pass','fail')),
    spf_aligned_raw text,
    dmarc_pass      boolean GENERATED ALWAYS AS
                    (coalesce(dkim_aligned = 'pass', false) OR coalesce(spf_aligned = 'pass', false)) STORED,
    header_from     text,
    envelope_from   text,
    envelope_to     text,
    identifiers_tag text NOT NULL DEFAULT 'identifiers'
                    CHECK (identifiers_tag IN ('identifiers','identities','missing')),
    parse_warnings  text[] NOT NULL DEFAULT '{}',
    UNIQUE (report_pk, ord)
);
CREATE INDEX record_day_domain_idx ON record (report_day, policy_domain);
CREATE INDEX record_hfrom_day_idx  ON record (header_from, report_day);
CREATE INDEX record_ip_idx         ON record USING gist (source_ip inet_ops);

COMMENT ON TABLE record IS
'One row per <record> of a report: a group of messages from one source IP with the same identifiers and results. policy_domain and date_begin are copied from the report so that most BI queries need only this table.';
COMMENT ON COLUMN record.id IS 'Surrogate key.';
COMMENT ON COLUMN record.report_pk IS 'The report this record belongs to.';
COMMENT ON COLUMN record.ord IS '1-based position of the <record> element in the report; records skipped for lack of usable data leave gaps (report.records_skipped).';
COMMENT ON COLUMN record.policy_domain IS 'Copied from report.policy_domain.';
COMMENT ON COLUMN record.date_begin IS 'Copied from report.date_begin.';
COMMENT ON COLUMN record.report_day IS 'UTC day of date_begin (generated); the day axis of daily charts. For multi-day reports see v_daily_volume_prorated.';
COMMENT ON COLUMN record.source_ip IS 'Sending IP address (<row><source_ip>), a single host (/32 or /128); NULL when the report''s text was not an address (see source_ip_raw).';
COMMENT ON COLUMN record.source_ip_raw IS 'Original source_ip text when it was not a canonical address, else NULL.';
COMMENT ON COLUMN record.message_count IS 'Number of messages this record stands for (<row><count>).';
COMMENT ON COLUMN record.count_raw IS 'Original <count> text when it was not a plain non-negative integer, else NULL.';
COMMENT ON COLUMN record.disposition IS 'What the receiver did (<policy_evaluated><disposition>): none, quarantine, reject or pass (RFC 9990).';
COMMENT ON COLUMN record.disposition_raw IS 'Original disposition text when it was not canonical, else NULL.';
COMMENT ON COLUMN record.dkim_aligned IS 'DMARC DKIM result (<policy_evaluated><dkim>): pass means an aligned DKIM signature passed. Use this, not record_dkim, for DMARC pass/fail.';
COMMENT ON COLUMN record.dkim_aligned_raw IS 'Original <policy_evaluated><dkim> text when it was not canonical, else NULL.';
COMMENT ON COLUMN record.spf_aligned IS 'DMARC SPF result (<policy_evaluated><spf>): pass means SPF passed for an aligned domain.';
COMMENT ON COLUMN record.spf_aligned_raw IS 'Original <policy_evaluated><spf> text when it was not canonical, else NULL.';
COMMENT ON COLUMN record.dmarc_pass IS 'Generated: true when dkim_aligned or spf_aligned is pass, that is the messages passed DMARC.';
COMMENT ON COLUMN record.header_from IS 'RFC5322.From domain (<identifiers><header_from>), lower-cased.';
COMMENT ON COLUMN record.envelope_from IS 'RFC5321.MailFrom domain (<envelope_from>); NULL when absent, '''' when present but empty (null reverse-path).';
COMMENT ON COLUMN record.envelope_to IS 'RFC5321.RcptTo domain (<envelope_to>); NULL when absent.';
COMMENT ON COLUMN record.identifiers_tag IS 'Which element held the identifiers: identifiers (standard), identities (a known misspelling) or missing.';
COMMENT ON COLUMN record.parse_warnings IS 'What was odd about this record (not in the proposal: a record stored with a repair says so).';

CREATE TABLE record_reason (
    record_pk    bigint   NOT NULL REFERENCES record(id) ON DELETE CASCADE,
    ord          smallint NOT NULL,
    type         text CHECK (type IN ('forwarded','sampled_out','trusted_forwarder','mailing_list',
                                      'local_policy','other','policy_test_mode')),
    type_raw     text,
    comment      text,
    comment_lang text,
    PRIMARY KEY (record_pk, ord)
);
COMMENT ON TABLE record_reason IS 'Policy override reasons of a record (<policy_evaluated><reason>), in document order.';
COMMENT ON COLUMN record_reason.record_pk IS 'The record.';
COMMENT ON COLUMN record_reason.ord IS '1-based position among the record''s reasons.';
COMMENT ON COLUMN record_reason.type IS 'Override type: forwarded, sampled_out, trusted_forwarder, mailing_list, local_policy, other or policy_test_mode; NULL when not canonical.';
COMMENT ON COLUMN record_reason.type_raw IS 'Original type text when it was not canonical, else NULL.';
COMMENT ON COLUMN record_reason.comment IS 'Free-text <comment> of the reason.';
COMMENT ON COLUMN record_reason.comment_lang IS 'lang attribute of the comment (RFC 9990).';

CREATE TABLE record_dkim (
    record_pk         bigint   NOT NULL REFERENCES record(id) ON DELETE CASCADE,
    ord               smallint NOT NULL,
    domain            text,
    selector          text,
    result            text CHECK (result IN ('none','pass','fail','policy','neutral','temperror','permerror')),
    result_raw        text,
    human_result      text,
    human_result_lang text,
    PRIMARY KEY (record_pk, ord)
);
CREATE INDEX record_dkim_domain_idx ON record_dkim (domain, selector);
COMMENT ON TABLE record_dkim IS 'Raw DKIM results of a record (<auth_results><dkim>), aligned or not, in document order. They explain dkim_aligned; they do not decide DMARC pass.';
COMMENT ON COLUMN record_dkim.record_pk IS 'The record.';
COMMENT ON COLUMN record_dkim.ord IS '1-based position among the record''s DKIM results.';
COMMENT ON COLUMN record_dkim.domain IS 'Signing domain d=, lower-cased.';
COMMENT ON COLUMN record_dkim.selector IS 'Selector s=, case kept.';
COMMENT ON COLUMN record_dkim.result IS 'DKIM verification result: none, pass, fail, policy, neutral, temperror or permerror; NULL when not canonical.';
COMMENT ON COLUMN record_dkim.result_raw IS 'Original result text when it was not canonical, else NULL.';
COMMENT ON COLUMN record_dkim.human_result IS 'Free-text <human_result>.';
COMMENT ON COLUMN record_dkim.human_result_lang IS 'lang attribute of human_result (RFC 9990).';

CREATE TABLE record_spf (
    record_pk         bigint   NOT NULL REFERENCES record(id) ON DELETE CASCADE,
    ord               smallint NOT NULL,
    domain            text,
    scope             text CHECK (scope IN ('mfrom','helo')),
    scope_raw         text,
    result            text CHECK (result IN ('none','neutral','pass','fail','softfail','policy',
                                             'temperror','permerror')),
    result_raw        text,
    human_result      text,
    human_result_lang text,
    PRIMARY KEY (record_pk, ord)
);
CREATE INDEX record_spf_domain_idx ON record_spf (domain);
COMMENT ON TABLE record_spf IS 'Raw SPF results of a record (<auth_results><spf>), in document order. They explain spf_aligned; they do not decide DMARC pass.';
COMMENT ON COLUMN record_spf.record_pk IS 'The record.';
COMMENT ON COLUMN record_spf.ord IS '1-based position among the record''s SPF results.';
COMMENT ON COLUMN record_spf.domain IS 'Domain SPF was checked for, lower-cased.';
COMMENT ON COLUMN record_spf.scope IS 'Which identity was checked: mfrom (MAIL FROM) or helo; NULL when absent (RFC 7489 default mfrom) or not canonical.';
COMMENT ON COLUMN record_spf.scope_raw IS 'Original scope text when it was not canonical, else NULL.';
COMMENT ON COLUMN record_spf.result IS 'SPF result: none, neutral, pass, fail, softfail, policy, temperror or permerror; NULL when not canonical (for example ''hardfail'', see result_raw).';
COMMENT ON COLUMN record_spf.result_raw IS 'Original result text when it was not canonical, else NULL.';
COMMENT ON COLUMN record_spf.human_result IS 'Free-text <human_result>.';
COMMENT ON COLUMN record_spf.human_result_lang IS 'lang attribute of human_result (RFC 9990).';

CREATE TABLE record_extension (
    record_pk  bigint   NOT NULL REFERENCES record(id) ON DELETE CASCADE,
    ord        smallint NOT NULL,
    ns_uri     text,
    local_name text     NOT NULL,
    xml        text     NOT NULL,
    PRIMARY KEY (record_pk, ord)
);
COMMENT ON TABLE record_extension IS 'Unknown or namespaced elements inside a <record>, kept as XML text.';
COMMENT ON COLUMN record_extension.record_pk IS 'The record.';
COMMENT ON COLUMN record_extension.ord IS '1-based position among the record''s extension elements.';
COMMENT ON COLUMN record_extension.ns_uri IS 'Namespace URI of the element, NULL when none.';
COMMENT ON COLUMN record_extension.local_name IS 'Element name without prefix.';
COMMENT ON COLUMN record_extension.xml IS 'The element serialised as XML.';

-- BI views ------------------------------------------------------------------
CREATE VIEW v_daily_volume AS
SELECT report_day AS day, policy_domain, header_from,
       sum(message_count)                                  AS messages,
       sum(message_count) FILTER (WHERE dmarc_pass)         AS dmarc_pass,
       sum(message_count) FILTER (WHERE NOT dmarc_pass)     AS dmarc_fail,
       sum(message_count) FILTER (WHERE dkim_aligned = 'pass') AS dkim_aligned_pass,
       sum(message_count) FILTER (WHERE spf_aligned  = 'pass') AS spf_aligned_pass,
       sum(message_count) FILTER (WHERE disposition = 'quarantine') AS quarantined,
       sum(message_count) FILTER (WHERE disposition = 'reject')     AS rejected,
       count(DISTINCT report_pk) AS reports
FROM record GROUP BY 1, 2, 3;
COMMENT ON VIEW v_daily_volume IS 'Daily message volume per policy domain and From domain, by the UTC day the report period starts.';
COMMENT ON COLUMN v_daily_volume.day IS 'UTC day of the report period start.';
COMMENT ON COLUMN v_daily_volume.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN v_daily_volume.header_from IS 'RFC5322.From domain.';
COMMENT ON COLUMN v_daily_volume.messages IS 'Messages reported.';
COMMENT ON COLUMN v_daily_volume.dmarc_pass IS 'Messages that passed DMARC.';
COMMENT ON COLUMN v_daily_volume.dmarc_fail IS 'Messages that failed DMARC.';
COMMENT ON COLUMN v_daily_volume.dkim_aligned_pass IS 'Messages with an aligned DKIM pass.';
COMMENT ON COLUMN v_daily_volume.spf_aligned_pass IS 'Messages with an aligned SPF pass.';
COMMENT ON COLUMN v_daily_volume.quarantined IS 'Messages the receiver quarantined.';
COMMENT ON COLUMN v_daily_volume.rejected IS 'Messages the receiver rejected.';
COMMENT ON COLUMN v_daily_volume.reports IS 'Number of reports contributing.';

CREATE VIEW v_daily_volume_prorated AS
SELECT g.day::date AS day, r.policy_domain, r.header_from,
       round(sum(r.message_count * g.share), 2) AS messages,
       round(sum(r.message_count * g.share) FILTER (WHERE r.dmarc_pass), 2) AS dmarc_pass
FROM record r JOIN report rp ON rp.id = r.report_pk
CROSS JOIN LATERAL (
  SELECT d AS day,
         coalesce(extract(epoch FROM least(rp.date_end AT TIME ZONE 'UTC', d + interval '1 day')
                                   - greatest(rp.date_begin AT TIME ZONE 'UTC', d))
                  / nullif(extract(epoch FROM rp.date_end - rp.date_begin), 0), 1) AS share
  FROM generate_series(date_trunc('day', rp.date_begin AT TIME ZONE 'UTC'),
                       date_trunc('day', rp.date_end   AT TIME ZONE 'UTC'), interval '1 day') d) g
WHERE g.share > 0
GROUP BY 1, 2, 3;
COMMENT ON VIEW v_daily_volume_prorated IS 'Like v_daily_volume, but a report covering several days is spread over them in proportion to the time covered; totals are preserved.';
COMMENT ON COLUMN v_daily_volume_prorated.day IS 'UTC day.';
COMMENT ON COLUMN v_daily_volume_prorated.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN v_daily_volume_prorated.header_from IS 'RFC5322.From domain.';
COMMENT ON COLUMN v_daily_volume_prorated.messages IS 'Messages attributed to the day (fractional).';
COMMENT ON COLUMN v_daily_volume_prorated.dmarc_pass IS 'DMARC-passing messages attributed to the day (fractional).';

CREATE VIEW v_source_summary AS
SELECT r.policy_domain, r.source_ip,
       min(r.report_day) AS first_day, max(r.report_day) AS last_day,
       sum(r.message_count) AS messages,
       round(100.0 * sum(r.message_count) FILTER (WHERE r.dmarc_pass)
             / nullif(sum(r.message_count), 0), 1) AS dmarc_pass_pct,
       count(DISTINCT rp.reporter_key) AS reporters,
       array_agg(DISTINCT r.header_from) AS header_froms
FROM record r JOIN report rp ON rp.id = r.report_pk
GROUP BY 1, 2;
COMMENT ON VIEW v_source_summary IS 'Sending sources per policy domain: volume, DMARC pass rate and how many reporters saw them.';
COMMENT ON COLUMN v_source_summary.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN v_source_summary.source_ip IS 'Sending IP address (NULL groups records whose address was unreadable).';
COMMENT ON COLUMN v_source_summary.first_day IS 'First UTC day the source was reported.';
COMMENT ON COLUMN v_source_summary.last_day IS 'Last UTC day the source was reported.';
COMMENT ON COLUMN v_source_summary.messages IS 'Messages reported from the source.';
COMMENT ON COLUMN v_source_summary.dmarc_pass_pct IS 'Percentage of those messages that passed DMARC.';
COMMENT ON COLUMN v_source_summary.reporters IS 'Number of distinct reporters that saw the source.';
COMMENT ON COLUMN v_source_summary.header_froms IS 'From domains the source used.';

CREATE VIEW v_source_detail AS
SELECT r.report_day, r.policy_domain, r.source_ip, rp.reporter_key,
       r.header_from, r.envelope_from, r.disposition, r.dkim_aligned, r.spf_aligned,
       (SELECT string_agg(coalesce(d.domain,'?')||'/'||coalesce(d.selector,'-')||'='||
                          coalesce(d.result, d.result_raw, '?'), ' ' ORDER BY d.ord)
          FROM record_dkim d WHERE d.record_pk = r.id) AS dkim_results,
       (SELECT string_agg(coalesce(s.domain,'?')||'('||coalesce(s.scope, s.scope_raw, 'mfrom')||')='||
                          coalesce(s.result, s.result_raw, '?'), ' ' ORDER BY s.ord)
          FROM record_spf s WHERE s.record_pk = r.id) AS spf_results,
       (SELECT string_agg(coalesce(x.type, x.type_raw, '?'), ',' ORDER BY x.ord)
          FROM record_reason x WHERE x.record_pk = r.id) AS override_reasons,
       r.message_count
FROM record r JOIN report rp ON rp.id = r.report_pk;
COMMENT ON VIEW v_source_detail IS 'One line per record with its raw DKIM and SPF results and override reasons flattened to text, for display.';
COMMENT ON COLUMN v_source_detail.report_day IS 'UTC day of the report period start.';
COMMENT ON COLUMN v_source_detail.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN v_source_detail.source_ip IS 'Sending IP address.';
COMMENT ON COLUMN v_source_detail.reporter_key IS 'Who reported (report.reporter_key).';
COMMENT ON COLUMN v_source_detail.header_from IS 'RFC5322.From domain.';
COMMENT ON COLUMN v_source_detail.envelope_from IS 'RFC5321.MailFrom domain.';
COMMENT ON COLUMN v_source_detail.disposition IS 'What the receiver did.';
COMMENT ON COLUMN v_source_detail.dkim_aligned IS 'DMARC DKIM result (aligned).';
COMMENT ON COLUMN v_source_detail.spf_aligned IS 'DMARC SPF result (aligned).';
COMMENT ON COLUMN v_source_detail.dkim_results IS 'Raw DKIM results as domain/selector=result, space separated (raw text when not canonical).';
COMMENT ON COLUMN v_source_detail.spf_results IS 'Raw SPF results as domain(scope)=result, space separated (raw text when not canonical).';
COMMENT ON COLUMN v_source_detail.override_reasons IS 'Override reason types, comma separated.';
COMMENT ON COLUMN v_source_detail.message_count IS 'Messages the record stands for.';

CREATE VIEW v_forwarding_suspects AS
SELECT report_day, policy_domain, source_ip, header_from, envelope_from,
       sum(message_count) AS messages
FROM record WHERE dkim_aligned = 'pass' AND spf_aligned = 'fail'
GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW v_forwarding_suspects IS 'Likely forwarding or mailing lists: aligned DKIM survived but SPF alignment broke.';
COMMENT ON COLUMN v_forwarding_suspects.report_day IS 'UTC day of the report period start.';
COMMENT ON COLUMN v_forwarding_suspects.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN v_forwarding_suspects.source_ip IS 'Sending IP address (the forwarder).';
COMMENT ON COLUMN v_forwarding_suspects.header_from IS 'RFC5322.From domain.';
COMMENT ON COLUMN v_forwarding_suspects.envelope_from IS 'RFC5321.MailFrom domain.';
COMMENT ON COLUMN v_forwarding_suspects.messages IS 'Messages reported.';

CREATE VIEW v_spoofing_suspects AS
SELECT r.report_day, r.policy_domain, r.source_ip, r.header_from,
       sum(r.message_count) AS messages,
       sum(r.message_count) FILTER (WHERE r.disposition IN ('quarantine','reject')) AS blocked,
       bool_or(EXISTS (SELECT 1 FROM record_reason x WHERE x.record_pk = r.id
                       AND x.type IN ('forwarded','mailing_list','trusted_forwarder'))) AS receiver_saw_forwarding
FROM record r WHERE r.dkim_aligned = 'fail' AND r.spf_aligned = 'fail'
GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW v_spoofing_suspects IS 'Spoofing, or a legitimate sender not yet configured: neither DKIM nor SPF aligned.';
COMMENT ON COLUMN v_spoofing_suspects.report_day IS 'UTC day of the report period start.';
COMMENT ON COLUMN v_spoofing_suspects.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN v_spoofing_suspects.source_ip IS 'Sending IP address.';
COMMENT ON COLUMN v_spoofing_suspects.header_from IS 'RFC5322.From domain.';
COMMENT ON COLUMN v_spoofing_suspects.messages IS 'Messages reported.';
COMMENT ON COLUMN v_spoofing_suspects.blocked IS 'Messages the receiver quarantined or rejected.';
COMMENT ON COLUMN v_spoofing_suspects.receiver_saw_forwarding IS 'true when the receiver gave a forwarding override reason for any of them.';

CREATE VIEW v_reporter_activity AS
SELECT reporter_key, policy_domain, count(*) AS reports,
       min(date_begin) AS first_period, max(date_end) AS last_period,
       sum(message_total) AS messages, sum(seen_count - 1) AS duplicate_deliveries
FROM report GROUP BY 1, 2;
COMMENT ON VIEW v_reporter_activity IS 'Per reporter and policy domain: how many reports, over which period, and how often they were delivered again. Spots reporters that go silent or resend.';
COMMENT ON COLUMN v_reporter_activity.reporter_key IS 'Who reported (report.reporter_key).';
COMMENT ON COLUMN v_reporter_activity.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN v_reporter_activity.reports IS 'Distinct reports.';
COMMENT ON COLUMN v_reporter_activity.first_period IS 'Start of the earliest report period.';
COMMENT ON COLUMN v_reporter_activity.last_period IS 'End of the latest report period.';
COMMENT ON COLUMN v_reporter_activity.messages IS 'Messages reported in total.';
COMMENT ON COLUMN v_reporter_activity.duplicate_deliveries IS 'Deliveries beyond the first (sum of seen_count - 1).';
