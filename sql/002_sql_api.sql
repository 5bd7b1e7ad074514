-- pgsession 002: the SQL side (what omnigres' omni_session offers, on stock PostgreSQL).
--
-- session_id(), user_id() and audience() read transaction-local settings that
-- sessions.transaction() and session_handler() set with set_config(..., true): they answer
-- inside such a transaction and are NULL outside it. A custom setting that was once set
-- locally reads back as '' (not NULL) later on the same connection, hence the nullif.
--
-- The settings are trusted: SQL running in the transaction can change them. They scope
-- what the application's own queries see (Row-Level Security against application bugs);
-- they are no barrier against a database role that runs arbitrary SQL.
--
-- One schema holds one set of these functions: session_handler() serves the table whose
-- migration ran last in the schema (use a schema per sessions table).

CREATE OR REPLACE FUNCTION {{schema}}.session_id() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('pgsession.session_id', true), '') $$;

CREATE OR REPLACE FUNCTION {{schema}}.user_id() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('pgsession.user_id', true), '') $$;

CREATE OR REPLACE FUNCTION {{schema}}.audience() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('pgsession.audience', true), '') $$;

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

-- omni_session's handler: the token of a live session comes back unchanged (its idle
-- expiry extended when a touch is due); NULL, a malformed, unknown, expired or revoked
-- token gives a new stored session and its new token. Either way the transaction's
-- session settings name the session, so session_id()/user_id()/audience() answer.
CREATE OR REPLACE FUNCTION {{schema}}.session_handler(
    token text,
    idle_timeout interval DEFAULT interval '24 hours',
    absolute_timeout interval DEFAULT interval '7 days',
    audience text DEFAULT NULL)
  RETURNS text
  LANGUAGE plpgsql VOLATILE
  AS $$
#variable_conflict use_column
DECLARE
  hash bytea;
  found_id text;
  found_user text;
  found_audience text;
  new_token text;
BEGIN
  -- Only the exact shape of an issued token is looked up (as isWellFormedToken does).
  IF session_handler.token ~ '^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$' THEN
    hash := {{schema}}.token_hash(session_handler.token);
    UPDATE {{schema}}.{{table}} s
       SET last_seen_at = now(), idle_expires_at = least(now() + s.idle_timeout, s.absolute_expires_at)
     WHERE (s.token_hash = hash OR (s.prev_token_hash = hash AND s.prev_expires_at > now()))
       AND s.idle_expires_at > now() AND s.absolute_expires_at > now()
       AND s.last_seen_at <= now() - s.touch_after
    RETURNING s.id, s.user_id, s.audience INTO found_id, found_user, found_audience;
    IF found_id IS NULL THEN
      SELECT s.id, s.user_id, s.audience INTO found_id, found_user, found_audience
        FROM {{schema}}.{{table}} s
       WHERE (s.token_hash = hash OR (s.prev_token_hash = hash AND s.prev_expires_at > now()))
         AND s.idle_expires_at > now() AND s.absolute_expires_at > now();
    END IF;
    IF found_id IS NOT NULL THEN
      PERFORM set_config('pgsession.session_id', found_id, true),
              set_config('pgsession.user_id', coalesce(found_user, ''), true),
              set_config('pgsession.audience', coalesce(found_audience, ''), true);
      RETURN session_handler.token;
    END IF;
  END IF;

  IF session_handler.absolute_timeout < session_handler.idle_timeout THEN
    RAISE EXCEPTION 'pgsession: absolute_timeout must not be shorter than idle_timeout';
  END IF;
  new_token := {{schema}}.random_base64url(32);
  found_id := {{schema}}.random_base64url(16);
  INSERT INTO {{schema}}.{{table}} AS s (id, token_hash, user_id, audience, data, created_at, last_seen_at,
         idle_timeout, touch_after, idle_expires_at, absolute_expires_at)
  VALUES (found_id, {{schema}}.token_hash(new_token), NULL, session_handler.audience, '{}'::jsonb, now(), now(),
         session_handler.idle_timeout, session_handler.idle_timeout / 10,
         now() + session_handler.idle_timeout, now() + session_handler.absolute_timeout);
  PERFORM set_config('pgsession.session_id', found_id, true),
          set_config('pgsession.user_id', '', true),
          set_config('pgsession.audience', coalesce(session_handler.audience, ''), true);
  RETURN new_token;
END
$$;
