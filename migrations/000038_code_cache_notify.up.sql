-- Issue 17: the resident code cache (postgres.ResidentCache) of every API
-- replica keeps what the resident session lookup reads — the session, the
-- account's phone, the own person, its code and the effective rule-set
-- version — and drops it when told on the channel code_cache. Each table
-- that read depends on tells, once per statement (statement-level triggers
-- with transition tables: a re-evaluation of thousands of codes in one
-- statement sends one notification), which persons ("p:1,2") and accounts
-- ("a:3") it changed, or "*" (everything) past 200 ids or for the tables
-- whose change concerns every code (rule_sets, code_evaluations) and on
-- TRUNCATE. Duplicate notifications of a transaction are folded by
-- PostgreSQL; they are delivered at commit, in commit order.
--
-- The functions run with the privileges of the statement's role (the
-- application role healthcode_app may call pg_notify, as every role).

-- code_cache_notify sends ids of kind ('p' or 'a') or "*" when there are
-- more than 200 (ids holds at most 201: the callers stop reading there).
CREATE FUNCTION code_cache_notify(kind text, ids bigint[]) RETURNS void
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    ELSIF cardinality(ids) > 200 THEN
        PERFORM pg_notify('code_cache', '*');
    ELSE
        PERFORM pg_notify('code_cache', kind || ':' || array_to_string(ids, ','));
    END IF;
END;
$$;

-- Everything: rule sets, the progress of a re-evaluation, a TRUNCATE.
CREATE FUNCTION code_cache_flush() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_notify('code_cache', '*');
    RETURN NULL;
END;
$$;

-- codes: the persons whose code was written.
CREATE FUNCTION code_cache_codes() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM code_cache_notify('p', ARRAY(SELECT person_id FROM old_rows LIMIT 201));
    ELSE
        PERFORM code_cache_notify('p', ARRAY(SELECT person_id FROM new_rows LIMIT 201));
    END IF;
    RETURN NULL;
END;
$$;

-- persons: the persons whose masked name or code id changed, or deleted.
CREATE FUNCTION code_cache_persons() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM code_cache_notify('p', ARRAY(SELECT id FROM old_rows LIMIT 201));
    ELSE
        PERFORM code_cache_notify('p', ARRAY(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.name_masked IS DISTINCT FROM o.name_masked OR n.code_id IS DISTINCT FROM o.code_id LIMIT 201));
    END IF;
    RETURN NULL;
END;
$$;

-- account_persons: the accounts a person was bound to or unbound from.
CREATE FUNCTION code_cache_account_persons() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM code_cache_notify('a', ARRAY(SELECT DISTINCT account_id FROM new_rows LIMIT 201));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM code_cache_notify('a', ARRAY(SELECT DISTINCT account_id FROM old_rows LIMIT 201));
    ELSE
        PERFORM code_cache_notify('a', ARRAY(SELECT account_id FROM new_rows UNION SELECT account_id FROM old_rows LIMIT 201));
    END IF;
    RETURN NULL;
END;
$$;

-- sessions: the accounts of resident sessions revoked, re-dated or deleted
-- (a new session concerns no entry: only sessions read are kept).
CREATE FUNCTION code_cache_sessions() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM code_cache_notify('a', ARRAY(SELECT DISTINCT resident_id FROM old_rows
            WHERE resident_id IS NOT NULL LIMIT 201));
    ELSE
        PERFORM code_cache_notify('a', ARRAY(SELECT DISTINCT o.resident_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE o.resident_id IS NOT NULL AND (n.revoked_at IS DISTINCT FROM o.revoked_at
                OR n.expires_at IS DISTINCT FROM o.expires_at OR n.resident_id IS DISTINCT FROM o.resident_id
                OR n.kind IS DISTINCT FROM o.kind OR n.token_hash IS DISTINCT FROM o.token_hash) LIMIT 201));
    END IF;
    RETURN NULL;
END;
$$;

-- resident_accounts: the accounts whose phone changed, or deleted.
CREATE FUNCTION code_cache_resident_accounts() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM code_cache_notify('a', ARRAY(SELECT id FROM old_rows LIMIT 201));
    ELSE
        PERFORM code_cache_notify('a', ARRAY(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.phone_enc IS DISTINCT FROM o.phone_enc LIMIT 201));
    END IF;
    RETURN NULL;
END;
$$;

-- A trigger with transition tables has one event: one per event.
CREATE TRIGGER code_cache_codes_ins AFTER INSERT ON codes REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_codes();
CREATE TRIGGER code_cache_codes_upd AFTER UPDATE ON codes REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_codes();
CREATE TRIGGER code_cache_codes_del AFTER DELETE ON codes REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_codes();

CREATE TRIGGER code_cache_persons_upd AFTER UPDATE ON persons REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_persons();
CREATE TRIGGER code_cache_persons_del AFTER DELETE ON persons REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_persons();

CREATE TRIGGER code_cache_account_persons_ins AFTER INSERT ON account_persons REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_account_persons();
CREATE TRIGGER code_cache_account_persons_upd AFTER UPDATE ON account_persons
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_account_persons();
CREATE TRIGGER code_cache_account_persons_del AFTER DELETE ON account_persons REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_account_persons();

CREATE TRIGGER code_cache_sessions_upd AFTER UPDATE ON sessions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_sessions();
CREATE TRIGGER code_cache_sessions_del AFTER DELETE ON sessions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_sessions();

CREATE TRIGGER code_cache_resident_accounts_upd AFTER UPDATE ON resident_accounts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_resident_accounts();
CREATE TRIGGER code_cache_resident_accounts_del AFTER DELETE ON resident_accounts REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_resident_accounts();

CREATE TRIGGER code_cache_rule_sets AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rule_sets
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_flush();
CREATE TRIGGER code_cache_code_evaluations AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON code_evaluations
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_flush();
CREATE TRIGGER code_cache_codes_truncate AFTER TRUNCATE ON codes FOR EACH STATEMENT EXECUTE FUNCTION code_cache_flush();
CREATE TRIGGER code_cache_persons_truncate AFTER TRUNCATE ON persons FOR EACH STATEMENT EXECUTE FUNCTION code_cache_flush();
CREATE TRIGGER code_cache_account_persons_truncate AFTER TRUNCATE ON account_persons
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_flush();
CREATE TRIGGER code_cache_sessions_truncate AFTER TRUNCATE ON sessions FOR EACH STATEMENT EXECUTE FUNCTION code_cache_flush();
CREATE TRIGGER code_cache_resident_accounts_truncate AFTER TRUNCATE ON resident_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION code_cache_flush();
