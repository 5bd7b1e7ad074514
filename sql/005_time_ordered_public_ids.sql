-- pgsession 005: public ids made in SQL are time-ordered, as generatePublicId() makes them.
--
-- A public id is the creation millisecond plus 2^47 (140737488355328, so that it starts
-- with a letter rather than "-") in 8 base64url characters taken in ASCII order (so that,
-- as text in the "C" collation, ids sort by creation time), then 96 random bits in
-- base64url: 24 characters. Like a UUIDv7, a new row's id then goes to the right edge of
-- the primary key instead of a random page of it, and after a checkpoint a new session no
-- longer dirties (and writes a full-page image of) a random page of that index.
--
-- session_handler() is redefined to use it; it is otherwise the function of 004.

CREATE OR REPLACE FUNCTION {{schema}}.new_public_id() RETURNS text
  LANGUAGE sql VOLATILE PARALLEL SAFE
  AS $$
    SELECT string_agg(substr('-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz',
             ((t.ms >> (6 * (7 - i))) & 63)::integer + 1, 1), '' ORDER BY i)
           || {{schema}}.random_base64url(12)
      FROM (SELECT floor(extract(epoch FROM now()) * 1000)::bigint + 140737488355328 AS ms) t, generate_series(0, 7) AS i
  $$;

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
     WHERE (s.token_hash = hash OR (s.prev_token_hash = hash AND s.prev_expires_at > now() AND NOT s.prev_login))
       AND s.idle_expires_at > now() AND s.absolute_expires_at > now()
       AND s.last_seen_at <= now() - s.touch_after
    RETURNING s.id, s.user_id, s.audience INTO found_id, found_user, found_audience;
    IF found_id IS NULL THEN
      SELECT s.id, s.user_id, s.audience INTO found_id, found_user, found_audience
        FROM {{schema}}.{{table}} s
       WHERE (s.token_hash = hash OR (s.prev_token_hash = hash AND s.prev_expires_at > now() AND NOT s.prev_login))
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
  found_id := {{schema}}.new_public_id();
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
