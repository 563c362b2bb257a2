-- 004_enrichment.sql: the dmarc schema, version 4.
--
-- Source enrichment: what is known about each sending address
-- (ip_info: reverse DNS, its forward confirmation, the base domain, ASN and
-- country), a user-editable map from base domains to the senders people
-- know (source_map, seeded with well-known senders), and views that name
-- the senders.  ip_info is filled after ingestion by "dmarc-agent enrich"
-- and by "run" in the background, never inside ingestion: storing a report
-- never waits for DNS.  Run by "dmarc-agent migrate" like 001, in one
-- transaction; by hand: psql -1 -f 004_enrichment.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (4, '004_enrichment').

SET LOCAL search_path = dmarc;

-- What is known about a sending address ---------------------------------------
CREATE TABLE ip_info (
    ip            inet PRIMARY KEY
                  CHECK (masklen(ip) = CASE family(ip) WHEN 4 THEN 32 ELSE 128 END),
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN
                  ('pending','ok','nxdomain','no_ptr','timeout','servfail','refused','error')),
    ptr           text,
    ptr_confirmed boolean,
    base_domain   text CHECK (base_domain = lower(base_domain)),
    asn           bigint CHECK (asn BETWEEN 0 AND 4294967295),
    as_org        text,
    country       text CHECK (country ~ '^[A-Z0-9]{2}$'),
    detail        text,
    discovered_at timestamptz NOT NULL DEFAULT now(),
    looked_up_at  timestamptz,
    resolved_at   timestamptz,
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0)
);
CREATE INDEX ip_info_base_domain_idx ON ip_info (base_domain);

COMMENT ON TABLE ip_info IS
'One row per source address seen in a record (record.source_ip): its reverse DNS name, whether that name resolves back to it, its base domain, and its autonomous system and country from a local MaxMind-format database. Rows are created as pending when a new address is discovered and filled by the enrichment (dmarc-agent enrich, or run in the background), never during ingestion. A definitive answer (ok, nxdomain, no_ptr) is looked up again after the configured ttl; a failure (timeout, servfail, refused, error) is retried after a backoff that doubles with each failed attempt (capped at the ttl) and keeps the data of the last definitive answer, so a transient failure never blanks a known name.';
COMMENT ON COLUMN ip_info.ip IS 'The address, a single host (/32 or /128), as in record.source_ip.';
COMMENT ON COLUMN ip_info.status IS 'Outcome of the last lookup. pending: never looked up; ok: the PTR lookup (and its forward confirmation) got an answer; nxdomain: the reverse name does not exist; no_ptr: the reverse name exists but has no PTR record; timeout: the resolver did not answer in time; servfail: the resolver failed (SERVFAIL); refused: the resolver refused the query; error: any other failure (see detail). ok, nxdomain and no_ptr are definitive; the others are retried.';
COMMENT ON COLUMN ip_info.ptr IS 'The name the PTR record gives (when there are several, the first in alphabetical order, so that it does not change from one lookup to the next), without the trailing dot, as received (bytes outside printable ASCII as \ddd); NULL when there is none. Kept from the last definitive answer when a later lookup fails.';
COMMENT ON COLUMN ip_info.ptr_confirmed IS 'true when ptr resolves back to the address (forward-confirmed reverse DNS: an A record for IPv4, AAAA for IPv6, equal to ip); false when it does not; NULL when there is no ptr or the forward lookup failed.';
COMMENT ON COLUMN ip_info.base_domain IS 'Registrable domain of ptr, lower-case, from the ICANN section of the Public Suffix List (libpsl): mail-x.outbound.protection.outlook.com gives outlook.com. The private section is ignored on purpose, so that hosting platforms group under their operator (ec2-....compute-1.amazonaws.com gives amazonaws.com). NULL without ptr, or when ptr is itself a public suffix. The key into source_map.';
COMMENT ON COLUMN ip_info.asn IS 'Autonomous system number (autonomous_system_number in the MaxMind-format database); NULL when no database is configured or the address is not in it.';
COMMENT ON COLUMN ip_info.as_org IS 'Organisation of the autonomous system (autonomous_system_organization); NULL like asn.';
COMMENT ON COLUMN ip_info.country IS 'ISO 3166-1 alpha-2 country of the address (country.iso_code, or registered_country.iso_code when the database has no country); NULL when no database is configured or the address is not in it.';
COMMENT ON COLUMN ip_info.detail IS 'Text of the last failure (the resolver''s message), NULL after a success.';
COMMENT ON COLUMN ip_info.discovered_at IS 'When the address was first found in a record.';
COMMENT ON COLUMN ip_info.looked_up_at IS 'When the last lookup ended, whatever its outcome; NULL while pending.';
COMMENT ON COLUMN ip_info.resolved_at IS 'When ptr, ptr_confirmed and base_domain were last set from a definitive answer (ok, nxdomain, no_ptr); NULL when there never was one.';
COMMENT ON COLUMN ip_info.attempts IS 'Failed lookups in a row since the last definitive answer (0 after ok, nxdomain or no_ptr). The retry backoff doubles with each.';

-- Discovery bookkeeping -------------------------------------------------------
CREATE TABLE enrich_state (
    id                  boolean PRIMARY KEY DEFAULT true CHECK (id),
    safe_watermark      bigint NOT NULL DEFAULT 0 CHECK (safe_watermark >= 0),
    candidate_watermark bigint CHECK (candidate_watermark >= 0),
    candidate_at        timestamptz,
    discovered_at       timestamptz
);
INSERT INTO enrich_state (id) VALUES (true);
COMMENT ON TABLE enrich_state IS
'One row: how far the enrichment has looked for new addresses, so that discovery does not read the whole record table each time. Discovery reads the records with an id above safe_watermark. Record ids are handed out before their transaction commits, so a transaction still open may commit ids below the highest id seen; therefore the highest id seen is first kept as candidate_watermark and only becomes safe_watermark an hour later (every record transaction is assumed to end within an hour). Records written again by a reparse get new ids and are read again (their addresses are usually in ip_info already). Set safe_watermark to 0 and candidate_watermark to NULL to make the next discovery read every record.';
COMMENT ON COLUMN enrich_state.id IS 'Always true: the table has a single row.';
COMMENT ON COLUMN enrich_state.safe_watermark IS 'Every record with an id up to this one has been read for new addresses.';
COMMENT ON COLUMN enrich_state.candidate_watermark IS 'Highest record id seen at candidate_at; becomes safe_watermark one hour later. NULL before the first discovery.';
COMMENT ON COLUMN enrich_state.candidate_at IS 'When candidate_watermark was taken.';
COMMENT ON COLUMN enrich_state.discovered_at IS 'When discovery last ran; NULL before the first run.';

-- Who the senders are -----------------------------------------------------------
CREATE TABLE source_map (
    base_domain  text PRIMARY KEY CHECK (base_domain = lower(base_domain)
                 AND base_domain !~ '^\.|\.$'),
    sender_name  text NOT NULL CHECK (sender_name <> ''),
    sender_kind  text NOT NULL CHECK (sender_kind IN
                 ('esp','mailbox_provider','hosting','security_gateway','own','other')),
    origin       text NOT NULL DEFAULT 'user' CHECK (origin IN ('seed','user')),
    note         text
);
COMMENT ON TABLE source_map IS
'Names for base domains: the sender a reverse DNS name stands for ("amazonses.com" is Amazon SES, an email service provider). Seeded with well-known senders from public facts (origin seed); edit it freely: add your own servers (kind own) and the services you use, rename or delete rows. Later migrations only ever touch rows whose origin is seed.';
COMMENT ON COLUMN source_map.base_domain IS 'Registrable domain as in ip_info.base_domain (lower-case, no trailing dot).';
COMMENT ON COLUMN source_map.sender_name IS 'Name shown for the sender, for example Amazon SES.';
COMMENT ON COLUMN source_map.sender_kind IS 'esp: email service provider (bulk and transactional sending); mailbox_provider: a mailbox service whose users send (or forward) mail; hosting: a hosting or cloud provider whose customers run their own mail servers; security_gateway: an outbound mail filtering service; own: your own infrastructure; other.';
COMMENT ON COLUMN source_map.origin IS 'seed: written by a dmarc-agent migration; user: added by a user (the default for new rows).';
COMMENT ON COLUMN source_map.note IS 'Free text, for example what the sender''s reverse DNS names look like.';

INSERT INTO source_map (base_domain, sender_name, sender_kind, origin, note) VALUES
  ('google.com',            'Google',                      'mailbox_provider', 'seed', 'Gmail and Google Workspace outbound: mail-*.google.com'),
  ('googlemail.com',        'Google',                      'mailbox_provider', 'seed', NULL),
  ('googleusercontent.com', 'Google Cloud',                'hosting',          'seed', 'Google Cloud instances: *.bc.googleusercontent.com'),
  ('outlook.com',           'Microsoft',                   'mailbox_provider', 'seed', 'Exchange Online (Microsoft 365) and Outlook.com: *.outbound.protection.outlook.com'),
  ('hotmail.com',           'Microsoft',                   'mailbox_provider', 'seed', NULL),
  ('amazonses.com',         'Amazon SES',                  'esp',              'seed', '*.smtp-out.*.amazonses.com'),
  ('amazonaws.com',         'Amazon Web Services',         'hosting',          'seed', 'EC2 instances: ec2-*.compute.amazonaws.com'),
  ('sendgrid.net',          'SendGrid',                    'esp',              'seed', 'Twilio SendGrid'),
  ('mcsv.net',              'Mailchimp',                   'esp',              'seed', NULL),
  ('rsgsv.net',             'Mailchimp',                   'esp',              'seed', NULL),
  ('mcdlv.net',             'Mailchimp',                   'esp',              'seed', NULL),
  ('mandrillapp.com',       'Mailchimp Transactional',     'esp',              'seed', 'formerly Mandrill'),
  ('mailgun.net',           'Mailgun',                     'esp',              'seed', NULL),
  ('sparkpostmail.com',     'SparkPost',                   'esp',              'seed', NULL),
  ('mtasv.net',             'Postmark',                    'esp',              'seed', NULL),
  ('mailjet.com',           'Mailjet',                     'esp',              'seed', NULL),
  ('exacttarget.com',       'Salesforce Marketing Cloud',  'esp',              'seed', 'formerly ExactTarget'),
  ('salesforce.com',        'Salesforce',                  'esp',              'seed', NULL),
  ('zendesk.com',           'Zendesk',                     'esp',              'seed', NULL),
  ('zdsys.com',             'Zendesk',                     'esp',              'seed', NULL),
  ('hubspotemail.net',      'HubSpot',                     'esp',              'seed', NULL),
  ('yahoo.com',             'Yahoo',                       'mailbox_provider', 'seed', NULL),
  ('yahoodns.net',          'Yahoo',                       'mailbox_provider', 'seed', NULL),
  ('messagingengine.com',   'Fastmail',                    'mailbox_provider', 'seed', NULL),
  ('protonmail.ch',         'Proton Mail',                 'mailbox_provider', 'seed', NULL),
  ('mail.ru',               'Mail.ru',                     'mailbox_provider', 'seed', NULL),
  ('yandex.net',            'Yandex',                      'mailbox_provider', 'seed', NULL),
  ('gmx.net',               'GMX',                         'mailbox_provider', 'seed', 'mout.gmx.net'),
  ('web.de',                'WEB.DE',                      'mailbox_provider', 'seed', 'mout.web.de'),
  ('zoho.com',              'Zoho Mail',                   'mailbox_provider', 'seed', NULL),
  ('zohomail.com',          'Zoho Mail',                   'mailbox_provider', 'seed', NULL),
  ('icloud.com',            'Apple iCloud Mail',           'mailbox_provider', 'seed', NULL),
  ('me.com',                'Apple iCloud Mail',           'mailbox_provider', 'seed', NULL),
  ('ovh.net',               'OVHcloud',                    'hosting',          'seed', NULL),
  ('your-server.de',        'Hetzner',                     'hosting',          'seed', 'static.*.clients.your-server.de'),
  ('secureserver.net',      'GoDaddy',                     'hosting',          'seed', NULL),
  ('mimecast.com',          'Mimecast',                    'security_gateway', 'seed', NULL),
  ('pphosted.com',          'Proofpoint',                  'security_gateway', 'seed', NULL),
  ('ppe-hosted.com',        'Proofpoint Essentials',       'security_gateway', 'seed', NULL),
  ('barracudanetworks.com', 'Barracuda',                   'security_gateway', 'seed', NULL),
  ('messagelabs.com',       'Broadcom Email Security.cloud', 'security_gateway', 'seed', 'formerly Symantec MessageLabs'),
  ('iphmx.com',             'Cisco Secure Email',          'security_gateway', 'seed', 'formerly IronPort');

-- Views -------------------------------------------------------------------------
CREATE VIEW v_source_enriched AS
SELECT r.id AS record_pk, r.report_pk, r.report_day, r.policy_domain,
       r.source_ip, r.header_from, r.envelope_from, r.disposition,
       r.dkim_aligned, r.spf_aligned, r.dmarc_pass, r.message_count,
       i.status AS lookup_status, i.ptr, i.ptr_confirmed, i.base_domain,
       m.sender_name, m.sender_kind,
       coalesce(m.sender_name, i.base_domain, 'unknown') AS sender,
       i.country, i.asn, i.as_org
FROM record r
LEFT JOIN ip_info i ON i.ip = r.source_ip
LEFT JOIN source_map m ON m.base_domain = i.base_domain;
COMMENT ON VIEW v_source_enriched IS 'One line per record with what is known about its source address (ip_info) and the sender it belongs to (source_map). Addresses not yet enriched have NULL enrichment columns and sender ''unknown''.';
COMMENT ON COLUMN v_source_enriched.record_pk IS 'The record (record.id).';
COMMENT ON COLUMN v_source_enriched.report_pk IS 'The report (report.id).';
COMMENT ON COLUMN v_source_enriched.report_day IS 'UTC day of the report period start.';
COMMENT ON COLUMN v_source_enriched.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN v_source_enriched.source_ip IS 'Sending IP address.';
COMMENT ON COLUMN v_source_enriched.header_from IS 'RFC5322.From domain.';
COMMENT ON COLUMN v_source_enriched.envelope_from IS 'RFC5321.MailFrom domain.';
COMMENT ON COLUMN v_source_enriched.disposition IS 'What the receiver did.';
COMMENT ON COLUMN v_source_enriched.dkim_aligned IS 'DMARC DKIM result (aligned).';
COMMENT ON COLUMN v_source_enriched.spf_aligned IS 'DMARC SPF result (aligned).';
COMMENT ON COLUMN v_source_enriched.dmarc_pass IS 'true when the messages passed DMARC.';
COMMENT ON COLUMN v_source_enriched.message_count IS 'Messages the record stands for.';
COMMENT ON COLUMN v_source_enriched.lookup_status IS 'ip_info.status of the address; NULL when it was not discovered yet.';
COMMENT ON COLUMN v_source_enriched.ptr IS 'Reverse DNS name of the address.';
COMMENT ON COLUMN v_source_enriched.ptr_confirmed IS 'true when the reverse name resolves back to the address.';
COMMENT ON COLUMN v_source_enriched.base_domain IS 'Registrable domain of the reverse name.';
COMMENT ON COLUMN v_source_enriched.sender_name IS 'Sender the base domain belongs to (source_map), NULL when not mapped.';
COMMENT ON COLUMN v_source_enriched.sender_kind IS 'Kind of that sender (source_map.sender_kind).';
COMMENT ON COLUMN v_source_enriched.sender IS 'What to call the source: the sender name, else the base domain, else ''unknown''.';
COMMENT ON COLUMN v_source_enriched.country IS 'ISO country code of the address, when a MaxMind-format database is configured.';
COMMENT ON COLUMN v_source_enriched.asn IS 'Autonomous system number of the address, when a database is configured.';
COMMENT ON COLUMN v_source_enriched.as_org IS 'Organisation of the autonomous system.';

CREATE VIEW v_sources_by_sender AS
SELECT report_day AS day, policy_domain, sender,
       min(sender_kind) AS sender_kind,
       sum(message_count) AS messages,
       coalesce(sum(message_count) FILTER (WHERE dmarc_pass), 0) AS dmarc_pass,
       coalesce(sum(message_count) FILTER (WHERE NOT dmarc_pass), 0) AS dmarc_fail,
       count(DISTINCT source_ip) AS sources,
       array_agg(DISTINCT base_domain ORDER BY base_domain)
           FILTER (WHERE base_domain IS NOT NULL) AS base_domains,
       array_agg(DISTINCT country ORDER BY country)
           FILTER (WHERE country IS NOT NULL) AS countries
FROM v_source_enriched
GROUP BY 1, 2, 3;
COMMENT ON VIEW v_sources_by_sender IS 'Daily volume per policy domain and sender, like Cloudflare''s list of sources: a sender is a source_map name, else the base domain of the reverse DNS name, else ''unknown'' (no name, or not enriched yet). Sums over a day and policy domain equal v_daily_volume''s.';
COMMENT ON COLUMN v_sources_by_sender.day IS 'UTC day of the report period start.';
COMMENT ON COLUMN v_sources_by_sender.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN v_sources_by_sender.sender IS 'The sender name, else the base domain, else ''unknown''.';
COMMENT ON COLUMN v_sources_by_sender.sender_kind IS 'Kind of the sender from source_map (NULL when not mapped).';
COMMENT ON COLUMN v_sources_by_sender.messages IS 'Messages reported.';
COMMENT ON COLUMN v_sources_by_sender.dmarc_pass IS 'Messages that passed DMARC.';
COMMENT ON COLUMN v_sources_by_sender.dmarc_fail IS 'Messages that failed DMARC.';
COMMENT ON COLUMN v_sources_by_sender.sources IS 'Distinct source addresses.';
COMMENT ON COLUMN v_sources_by_sender.base_domains IS 'Base domains of those addresses, NULL when none is known.';
COMMENT ON COLUMN v_sources_by_sender.countries IS 'Countries of those addresses, NULL when none is known.';

-- The source summary gains the enrichment (columns at the end).
CREATE OR REPLACE VIEW v_source_summary AS
SELECT r.policy_domain, r.source_ip,
       min(r.report_day) AS first_day, max(r.report_day) AS last_day,
       sum(r.message_count) AS messages,
       round(100.0 * sum(r.message_count) FILTER (WHERE r.dmarc_pass)
             / nullif(sum(r.message_count), 0), 1) AS dmarc_pass_pct,
       count(DISTINCT rp.reporter_key) AS reporters,
       array_agg(DISTINCT r.header_from) AS header_froms,
       i.ptr, i.ptr_confirmed, i.base_domain,
       coalesce(m.sender_name, i.base_domain, 'unknown') AS sender,
       m.sender_kind, i.country, i.asn, i.as_org
FROM record r JOIN report rp ON rp.id = r.report_pk
LEFT JOIN ip_info i ON i.ip = r.source_ip
LEFT JOIN source_map m ON m.base_domain = i.base_domain
GROUP BY r.policy_domain, r.source_ip, i.ip, m.base_domain;
COMMENT ON COLUMN v_source_summary.ptr IS 'Reverse DNS name of the source (ip_info.ptr).';
COMMENT ON COLUMN v_source_summary.ptr_confirmed IS 'true when the reverse name resolves back to the source.';
COMMENT ON COLUMN v_source_summary.base_domain IS 'Registrable domain of the reverse name.';
COMMENT ON COLUMN v_source_summary.sender IS 'The sender (source_map name), else the base domain, else ''unknown''.';
COMMENT ON COLUMN v_source_summary.sender_kind IS 'Kind of the sender from source_map.';
COMMENT ON COLUMN v_source_summary.country IS 'ISO country code of the source.';
COMMENT ON COLUMN v_source_summary.asn IS 'Autonomous system number of the source.';
COMMENT ON COLUMN v_source_summary.as_org IS 'Organisation of the autonomous system.';
