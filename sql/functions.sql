-- pgsession's SQL functions, each defined once. Every migrate runs this file after the
-- migrations, in the same transaction, so that a schema always has the functions of the
-- installed package: a function changes here, never in a migration.
-- Placeholders as in the migrations: {{schema}}, {{table}}, {{table:suffix}}, and
-- {{schema_literal}}, the schema's name as a string literal.
--
-- The rules the TypeScript statements take from src/store/sql/fragments.ts hold here too:
-- a session is live while idle_expires_at is in the future (every writer keeps the idle
-- expiry at or before the absolute one, so that one comparison also enforces the absolute
-- lifetime); a token names a session as its current token, or as the one a rotation (not a
-- login) replaced, until prev_expires_at.

-- session_id(), user_id() and audience() read transaction-local settings that
-- sessions.transaction() and session_handler() set with set_config(..., true): they answer
-- inside such a transaction and are NULL outside it. A custom setting that was once set
-- locally reads back as '' (not NULL) later on the same connection, hence the nullif.
--
-- The settings name one session of one sessions table: the setters also set
-- pgsession.schema to the schema of that table, and each schema's functions answer only
-- when it is their own. With a sessions table per schema in one database, a transaction
-- entered for a session of one never shows that session to the other's policies.
--
-- The settings are trusted: SQL running in the transaction can change them. They scope
-- what the application's own queries see (Row-Level Security against application bugs);
-- they are no barrier against a database role that runs arbitrary SQL.
CREATE OR REPLACE FUNCTION {{schema}}.session_id() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN pg_catalog.current_setting('pgsession.schema', true) = {{schema_literal}}
                    THEN nullif(pg_catalog.current_setting('pgsession.session_id', true), '') END $$;

CREATE OR REPLACE FUNCTION {{schema}}.user_id() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN pg_catalog.current_setting('pgsession.schema', true) = {{schema_literal}}
                    THEN nullif(pg_catalog.current_setting('pgsession.user_id', true), '') END $$;

CREATE OR REPLACE FUNCTION {{schema}}.audience() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN pg_catalog.current_setting('pgsession.schema', true) = {{schema_literal}}
                    THEN nullif(pg_catalog.current_setting('pgsession.audience', true), '') END $$;

-- n (1 to 32) random bytes as base64url without padding, from core functions only (no
-- pgcrypto): three gen_random_uuid() values (122 random bits each, from the server's
-- strong random source, 366 bits in all) hashed with SHA-256 into 32 bytes of which the
-- first n are kept. A 32-byte token so carries the full 256 bits, like generateToken().
CREATE OR REPLACE FUNCTION {{schema}}.random_base64url(n integer) RETURNS text
  LANGUAGE sql VOLATILE PARALLEL SAFE
  AS $$
    SELECT translate(rtrim(encode(substring(sha256(
             uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()))
             FROM 1 FOR least(greatest(n, 1), 32)), 'base64'), '='), '+/', '-_')
  $$;

-- SHA-256 of the UTF-8 token, exactly as hashToken() computes it in TypeScript.
CREATE OR REPLACE FUNCTION {{schema}}.token_hash(token text) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT sha256(convert_to(token, 'UTF8')) $$;

-- A public id as generatePublicId() makes it: the creation millisecond plus 2^47
-- (140737488355328, so that it starts with a letter rather than "-") in 8 base64url
-- characters taken in ASCII order (so that, as text in the "C" collation, ids sort by
-- creation time), then 96 random bits in base64url: 24 characters. Like a UUIDv7, a new
-- row's id then goes to the right edge of the primary key instead of a random page of it,
-- and after a checkpoint a new session does not dirty a random page of that index.
CREATE OR REPLACE FUNCTION {{schema}}.new_public_id() RETURNS text
  LANGUAGE sql VOLATILE PARALLEL SAFE
  AS $$
    SELECT string_agg(substr('-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz',
             ((t.ms >> (6 * (7 - i))) & 63)::integer + 1, 1), '' ORDER BY i)
           || {{schema}}.random_base64url(12)
      FROM (SELECT floor(extract(epoch FROM now()) * 1000)::bigint + 140737488355328 AS ms) t, generate_series(0, 7) AS i
  $$;

-- The touch of a read: extends the idle expiry of a session still live at `at` (one
-- logged out, revoked or expired since the read found it is never brought back), keeping
-- it within the absolute expiry. Returns {last_seen_at, idle_expires_at} as epoch
-- milliseconds, or NULL when nothing was updated. The read (find) calls it from a CASE,
-- only when a touch is due: the read and a due touch stay one statement and one round
-- trip, and a read with nothing due stays a plain index lookup, where a data-modifying CTE
-- would make PostgreSQL set up an UPDATE on every read.
CREATE OR REPLACE FUNCTION {{schema}}.{{table:_touch}}(session_id text, at timestamptz)
  RETURNS float8[]
  LANGUAGE sql VOLATILE
  AS $$
    UPDATE {{schema}}.{{table}} s
       SET last_seen_at = at, idle_expires_at = least(at + s.idle_timeout, s.absolute_expires_at)
     WHERE s.id = session_id AND s.idle_expires_at > at
       -- Due again under the row lock: of parallel reads that all found the touch due, the
       -- first touches and the others, re-checking the row it wrote, do nothing.
       AND s.last_seen_at <= at - s.touch_after
    RETURNING ARRAY[date_part('epoch', at) * 1000, date_part('epoch', s.idle_expires_at) * 1000]
  $$;

-- omni_session's handler: the token of a live session of `audience` comes back unchanged
-- (its idle expiry extended by the touch above when one is due); NULL, a malformed,
-- unknown, expired or revoked token, one a login retired, or one of another audience
-- (exactly: NULL matches only sessions without one, as in TypeScript), gives a new stored
-- session and its new token. Either way the transaction's session settings name the
-- session, so session_id()/user_id()/audience() answer. Timeouts that are NULL, zero or
-- negative, or an absolute one shorter than the idle one, raise SQLSTATE 22023
-- (invalid_parameter_value).
--
-- It runs with its owner's rights (SECURITY DEFINER), so that an application role may call
-- it with no privilege on the table (docs/sql.md has the GRANT recipe); the fixed
-- search_path and the schema-qualified names inside keep a caller's own objects out of it.
--
-- One schema holds one set of these functions: session_handler() serves the table that
-- was migrated last in the schema (use a schema per sessions table).
CREATE OR REPLACE FUNCTION {{schema}}.session_handler(
    token text,
    idle_timeout interval DEFAULT interval '24 hours',
    absolute_timeout interval DEFAULT interval '7 days',
    audience text DEFAULT NULL)
  RETURNS text
  LANGUAGE plpgsql VOLATILE
  SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
#variable_conflict use_column
DECLARE
  hash bytea;
  found_id text;
  found_user text;
  found_audience text;
  due boolean;
  new_token text;
BEGIN
  -- The arguments are checked first, whatever the token: a bad call fails every time, not
  -- only when it happens to create a session.
  IF session_handler.idle_timeout IS NULL OR session_handler.idle_timeout <= interval '0' THEN
    RAISE EXCEPTION 'pgsession: session_handler''s idle_timeout must be a positive interval, not %',
      coalesce(session_handler.idle_timeout::text, 'NULL') USING ERRCODE = '22023';
  END IF;
  IF session_handler.absolute_timeout IS NULL OR session_handler.absolute_timeout <= interval '0' THEN
    RAISE EXCEPTION 'pgsession: session_handler''s absolute_timeout must be a positive interval, not %',
      coalesce(session_handler.absolute_timeout::text, 'NULL') USING ERRCODE = '22023';
  END IF;
  IF session_handler.absolute_timeout < session_handler.idle_timeout THEN
    RAISE EXCEPTION 'pgsession: session_handler''s absolute_timeout (%) must not be shorter than its idle_timeout (%)',
      session_handler.absolute_timeout, session_handler.idle_timeout USING ERRCODE = '22023';
  END IF;

  -- Only the exact shape of an issued token is looked up (as isWellFormedToken does).
  IF session_handler.token ~ '^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$' THEN
    hash := {{schema}}.token_hash(session_handler.token);
    SELECT s.id, s.user_id, s.audience, s.last_seen_at <= now() - s.touch_after
      INTO found_id, found_user, found_audience, due
      FROM {{schema}}.{{table}} s
     WHERE (s.token_hash = hash OR (s.prev_token_hash = hash AND s.prev_expires_at > now() AND NOT s.prev_login))
       AND s.idle_expires_at > now()
       AND s.audience IS NOT DISTINCT FROM session_handler.audience;
    IF found_id IS NOT NULL THEN
      IF due THEN
        PERFORM {{schema}}.{{table:_touch}}(found_id, now());
      END IF;
      PERFORM set_config('pgsession.schema', {{schema_literal}}, true),
              set_config('pgsession.session_id', found_id, true),
              set_config('pgsession.user_id', coalesce(found_user, ''), true),
              set_config('pgsession.audience', coalesce(found_audience, ''), true);
      RETURN session_handler.token;
    END IF;
  END IF;

  new_token := {{schema}}.random_base64url(32);
  found_id := {{schema}}.new_public_id();
  -- least(): intervals compare by a fixed length ('1 year' = '360 days'), but added to a
  -- time they follow the calendar and the time zone, so the comparison above alone does not
  -- keep the idle expiry within the absolute one.
  INSERT INTO {{schema}}.{{table}} AS s (id, token_hash, user_id, audience, data, created_at, last_seen_at,
         idle_timeout, touch_after, idle_expires_at, absolute_expires_at)
  VALUES (found_id, {{schema}}.token_hash(new_token), NULL, session_handler.audience, '{}'::jsonb, now(), now(),
         session_handler.idle_timeout, session_handler.idle_timeout / 10,
         least(now() + session_handler.idle_timeout, now() + session_handler.absolute_timeout),
         now() + session_handler.absolute_timeout);
  PERFORM set_config('pgsession.schema', {{schema_literal}}, true),
          set_config('pgsession.session_id', found_id, true),
          set_config('pgsession.user_id', '', true),
          set_config('pgsession.audience', coalesce(session_handler.audience, ''), true);
  RETURN new_token;
END
$$;

-- New functions may be run by every role (PUBLIC) unless revoked: this one, which runs
-- with its owner's rights, only by the roles it is granted to. Every migrate revokes it
-- again; grants to named roles survive (CREATE OR REPLACE keeps them).
REVOKE ALL ON FUNCTION {{schema}}.session_handler(text, interval, interval, text) FROM PUBLIC;

-- The read cache's change notification (the `cache` option): called by the triggers that
-- sql/cache.sql creates, on the tables of applications that turn the cache on (a table
-- without them pays nothing). It appends a change a reader would see to the table's change
-- log (migration 005), which the caching instances move to the table's channel in batches:
-- one NOTIFY per batch rather than per write, since PostgreSQL serializes the commits of
-- transactions that notify. The payload is the SHA-256 token hash the row had, in base64 (what a cache entry is
-- keyed by), then a space and the new version when the write kept the token and raised the
-- version by exactly one, as every pgsession write does: an instance that made the write
-- itself already holds that version and keeps its entry. Any other change (a DELETE, a new
-- token, a writer that leaves the version alone or sets it) names no version: every cache
-- drops the entry. TRUNCATE sends '*': drop everything. Names are schema-qualified rather
-- than fixed by a SET search_path clause, which would be set up again on every call.
CREATE OR REPLACE FUNCTION {{schema}}.{{table:_changed}}() RETURNS trigger
  LANGUAGE plpgsql VOLATILE
  AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO {{schema}}.{{table:_cache_log}} (payload) VALUES ('*');
  ELSIF TG_OP = 'UPDATE' AND NEW.token_hash = OLD.token_hash AND NEW.version = OLD.version + 1 THEN
    INSERT INTO {{schema}}.{{table:_cache_log}} (payload) VALUES (pg_catalog.encode(OLD.token_hash, 'base64') || ' ' || NEW.version);
  ELSE
    INSERT INTO {{schema}}.{{table:_cache_log}} (payload) VALUES (pg_catalog.encode(OLD.token_hash, 'base64'));
  END IF;
  RETURN NULL;
END
$$;
