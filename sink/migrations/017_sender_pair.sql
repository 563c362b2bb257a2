-- 017_sender_pair.sql: the dmarc schema, version 17.
--
-- The authenticated domains of each pair of raw results named once for
-- good.  Schema 16 named every distinct pair of a window (sender_auth:
-- the domains that passed, and the first outside the policy domain's base
-- domain) each time a window was read: about a third of the senders
-- query (a month of the year bench: 1,031 pairs at 60-90 us each).
-- That naming is IMMUTABLE, a function of the policy domain and the two
-- results only, and a domain's pairs repeat day after day (the year bench
-- has 1,074 in all; 1,000 mails of the corpus, 115): so each is now named
-- once, when the rollup first meets it, and kept.
--
--   sender_pair          (policy_domain, k) -> domains, other: one row per
--                        pair of results a rollup row ever had;
--   sender_pair_key      k, 16 bytes of the SHA-256 of the two results
--                        (NULL as ''), as the rollup's keys are: results
--                        can be longer than a B-tree entry may be;
--   sender_auth_parse    016's sender_auth, renamed: the naming itself;
--   sender_auth          now read from sender_pair, and named by
--                        sender_auth_parse when the pair is missing (a
--                        cache, whose misses cost what schema 16 cost):
--                        016's senders functions and sender_of call it by
--                        name, so they read the pairs kept unchanged;
--   rollup_flush         names the new pairs of this transaction's pending
--                        rows, then adds the rows up (016's rollup_flush,
--                        renamed rollup_flush_sums);
--   rollup_check         016's (renamed rollup_check_sums), and a kept
--                        pair that sender_auth_parse would name otherwise
--                        (check-db).
--
-- Rows of sender_pair are never deleted: they are few (a pair per DKIM
-- selector and SPF domain a policy domain's senders use) and stay true
-- (sender_auth_parse and the functions it calls are IMMUTABLE).  A later
-- version that changes what sender_auth_parse computes must empty the
-- table.  Scoped readers see the pairs of their domains
-- (scoped_reader_setup, a wrapper of 014's that adds it).
--
-- Run by "dmarc-agent migrate" in one transaction; by hand:
-- psql -1 -f 017_sender_pair.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (17, '017_sender_pair').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

CREATE FUNCTION sender_pair_key(p_dkim text, p_spf text) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT substr(pg_catalog.sha256(pg_catalog.convert_to(
    pg_catalog.quote_literal(coalesce($1, '')) ||
    pg_catalog.quote_literal(coalesce($2, '')), 'UTF8')), 1, 16) $$;
COMMENT ON FUNCTION sender_pair_key(text, text) IS
'The k of a sender_pair row: 16 bytes of the SHA-256 of the raw DKIM and SPF results (rollup_source.dkim_results, spf_results; NULL the same as an empty text).';

CREATE TABLE sender_pair (
    policy_domain text   NOT NULL,
    k             bytea  NOT NULL,
    dkim_results  text   NOT NULL,
    spf_results   text   NOT NULL,
    domains       text[],
    other         text,
    PRIMARY KEY (policy_domain, k)
);
COMMENT ON TABLE sender_pair IS
'sender_auth_parse of every pair of raw results a rollup_source row of a policy domain ever had, computed once (rollup_flush adds the new ones): sender_auth reads it. A cache: never deleted from, and a pair missing from it is computed.';
COMMENT ON COLUMN sender_pair.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN sender_pair.k IS 'sender_pair_key(dkim_results, spf_results).';
COMMENT ON COLUMN sender_pair.dkim_results IS 'Raw DKIM results as in rollup_source.dkim_results (empty for none).';
COMMENT ON COLUMN sender_pair.spf_results IS 'Raw SPF results as in rollup_source.spf_results (empty for none).';
COMMENT ON COLUMN sender_pair.domains IS 'sender_auth_parse(...).domains: the domains that authenticated with a pass, DKIM first; NULL when none did.';
COMMENT ON COLUMN sender_pair.other IS 'sender_auth_parse(...).other: the first of them whose base domain is not the policy domain''s; NULL when none.';

ALTER FUNCTION sender_auth(text, text, text) RENAME TO sender_auth_parse;
COMMENT ON FUNCTION sender_auth_parse(text, text, text) IS
'The part of who sent the mail that its raw DKIM and SPF results give, for a policy domain: the domains that authenticated with a pass (auth_domains) and the first of them whose base domain is not the policy domain''s (NULL when none). sender_auth reads it from sender_pair; sender_by takes the two.';

INSERT INTO sender_pair (policy_domain, k, dkim_results, spf_results,
    domains, other)
SELECT p.policy_domain, sender_pair_key(p.dk, p.sp), p.dk, p.sp,
       x.domains, x.other
  FROM (SELECT DISTINCT policy_domain, coalesce(dkim_results, '') AS dk,
               coalesce(spf_results, '') AS sp
          FROM rollup_source) p,
       LATERAL sender_auth_parse(p.policy_domain, nullif(p.dk, ''),
           nullif(p.sp, '')) x;

-- sender_auth, from sender_pair when the pair is there.  Plain SQL, so
-- that the planner inlines it into its callers; the lateral part runs
-- only when the lookup found nothing: OFFSET 0 keeps it a subquery of its
-- own, where c.k IS NULL is a one-time filter (pulled up, it would be a
-- filter applied after sender_auth_parse ran for every pair).
CREATE FUNCTION sender_auth(p_domain text, p_dkim text, p_spf text)
RETURNS TABLE (domains text[], other text)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
SELECT CASE WHEN c.k IS NULL THEN a.domains ELSE c.domains END,
       CASE WHEN c.k IS NULL THEN a.other ELSE c.other END
  FROM (SELECT 1) o
  LEFT JOIN dmarc.sender_pair c
    ON c.policy_domain = p_domain
   AND c.k = dmarc.sender_pair_key(p_dkim, p_spf)
  LEFT JOIN LATERAL (SELECT x.domains, x.other
                       FROM dmarc.sender_auth_parse(p_domain,
                           nullif(p_dkim, ''), nullif(p_spf, '')) x
                      WHERE c.k IS NULL OFFSET 0) a ON true
$$;
COMMENT ON FUNCTION sender_auth(text, text, text) IS
'The part of who sent the mail that its raw DKIM and SPF results give, for a policy domain (sender_auth_parse), read from sender_pair; computed when the pair is not there yet. senders_window, senders_daily, senders_failed_daily and sender_of call it.';

-- rollup_flush: the new pairs of this transaction's pending rows named
-- first, in key order, then 016's flush.  A transaction flushes once, just
-- before COMMIT: it holds no rollup row while it waits on a pair another
-- writer is adding, and the rollup's rows keep their key order after.
ALTER FUNCTION rollup_flush() RENAME TO rollup_flush_sums;
COMMENT ON FUNCTION rollup_flush_sums() IS
'Schema 16''s rollup_flush: add what rollup_pending holds for this transaction to the rollup tables, in key order, and empty it. rollup_flush calls it after naming the new pairs of results.';
CREATE FUNCTION rollup_flush() RETURNS bigint
LANGUAGE plpgsql
SET jit = off
AS $$
BEGIN
    -- Each distinct pair's key once, the pairs not kept yet (the OFFSET
    -- 0s keep the planner from computing a key twice or naming a pair
    -- before it is known to be new).
    INSERT INTO dmarc.sender_pair (policy_domain, k, dkim_results,
        spf_results, domains, other)
    SELECT p.policy_domain, p.k, p.dk, p.sp, x.domains, x.other
      FROM (SELECT n.* FROM (SELECT q.policy_domain, q.dk, q.sp,
                   dmarc.sender_pair_key(q.dk, q.sp) AS k
              FROM (SELECT DISTINCT r.policy_domain,
                           coalesce(r.dkim_results, '') AS dk,
                           coalesce(r.spf_results, '') AS sp
                      FROM dmarc.rollup_pending r
                     WHERE r.txid = pg_catalog.pg_current_xact_id()
                       AND r.records > 0) q OFFSET 0) n
             WHERE NOT EXISTS (SELECT 1 FROM dmarc.sender_pair e
                                WHERE e.policy_domain = n.policy_domain
                                  AND e.k = n.k) OFFSET 0) p
     CROSS JOIN LATERAL dmarc.sender_auth_parse(p.policy_domain,
           nullif(p.dk, ''), nullif(p.sp, '')) x
     ORDER BY p.policy_domain, p.k
    ON CONFLICT (policy_domain, k) DO NOTHING;
    RETURN dmarc.rollup_flush_sums();
END $$;
COMMENT ON FUNCTION rollup_flush() IS
'Add what rollup_pending holds (this transaction''s records, see rollup_stage) to the rollup tables, in key order, and empty it, naming the new pairs of raw results into sender_pair first; the sink calls it just before COMMIT, and so should whoever else changes records (a pruning: rollup_stage(ids, -1), the DELETE, rollup_flush(), COMMIT), so that the rollup''s row locks come after every other lock and writers never deadlock on them. Returns the records added (less those taken away).';

-- rollup_check: 016's, and a kept pair that sender_auth_parse would name
-- otherwise (a missing pair is no difference: sender_pair is a cache; a
-- wrong one is, since the senders would trust it).
ALTER FUNCTION rollup_check() RENAME TO rollup_check_sums;
COMMENT ON FUNCTION rollup_check_sums() IS
'Schema 16''s rollup_check: the rows where the rollup tables and the records differ. rollup_check calls it.';
CREATE FUNCTION rollup_check() RETURNS TABLE (relation text, side text,
    row_text text)
LANGUAGE plpgsql
AS $$
BEGIN
    RETURN QUERY SELECT * FROM dmarc.rollup_check_sums();
    RETURN QUERY
    WITH c AS (
        SELECT t.policy_domain, t.dkim_results, t.spf_results, t.domains,
               t.other, a.domains AS want_domains, a.other AS want_other
          FROM dmarc.sender_pair t,
               LATERAL dmarc.sender_auth_parse(t.policy_domain,
                   nullif(t.dkim_results, ''), nullif(t.spf_results, '')) a
         WHERE t.k <> dmarc.sender_pair_key(t.dkim_results, t.spf_results)
            OR t.domains IS DISTINCT FROM a.domains
            OR t.other IS DISTINCT FROM a.other)
    SELECT 'sender_pair', 'sender_pair', ROW(c.policy_domain, c.dkim_results,
           c.spf_results, c.domains, c.other)::text FROM c
    UNION ALL
    SELECT 'sender_pair', 'sender_auth', ROW(c.policy_domain, c.dkim_results,
           c.spf_results, c.want_domains, c.want_other)::text FROM c;
END $$;
COMMENT ON FUNCTION rollup_check() IS
'What differs between the rollup tables and the records (rollup_check_sums), and the pairs of sender_pair that sender_auth_parse would name otherwise: relation, side (which of the two has the row) and the row; no rows when all agree (dmarc-agent check-db).';

-- Scoped readers (schema 9) -------------------------------------------------------
-- sender_pair gets row-level security like the rollup tables.
-- scoped_reader_setup() (run again by etc/roles.sql once it has made the
-- role) sets up every earlier table as 014's does, renamed
-- scoped_reader_setup_14, and then this one.
ALTER TABLE sender_pair ENABLE ROW LEVEL SECURITY;
CREATE POLICY unscoped ON sender_pair AS PERMISSIVE FOR ALL TO PUBLIC
    USING (true) WITH CHECK (true);

ALTER PROCEDURE scoped_reader_setup() RENAME TO scoped_reader_setup_14;
COMMENT ON PROCEDURE scoped_reader_setup_14() IS
'Schema 14''s scoped_reader_setup: the policies "scoped" and grants of every table up to schema 14. scoped_reader_setup calls it.';
CREATE PROCEDURE scoped_reader_setup()
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    CALL dmarc.scoped_reader_setup_14();
    -- The pairs of results named (schema 17): per policy domain.
    DROP POLICY IF EXISTS scoped ON dmarc.sender_pair;
    CREATE POLICY scoped ON dmarc.sender_pair AS RESTRICTIVE
        FOR ALL TO dmarc_scoped_reader
        USING (policy_domain ~* (SELECT dmarc.domain_scope()));
    COMMENT ON POLICY scoped ON dmarc.sender_pair IS
        'Members of dmarc_scoped_reader see only the rows of the domains domain_grant gives them (see the procedure dmarc.scoped_reader_setup).';
    GRANT SELECT ON dmarc.sender_pair TO dmarc_scoped_reader;
END $$;
REVOKE ALL ON PROCEDURE scoped_reader_setup() FROM PUBLIC;
REVOKE ALL ON PROCEDURE scoped_reader_setup_14() FROM PUBLIC;
COMMENT ON PROCEDURE scoped_reader_setup() IS
'Creates (again) the restrictive policies "scoped" for the role dmarc_scoped_reader and grants it SELECT on the report data and its views. Run by the migrations when the role exists, and by etc/roles.sql once it has created the role; idempotent. Only the owner of the tables (or a superuser) can run it.';
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dmarc_scoped_reader') THEN
        CALL dmarc.scoped_reader_setup();
    END IF;
END $$;
