-- pgsession 001: the sessions table.
-- {{schema}} and {{table}} are replaced by validated, quoted identifiers;
-- {{table:suffix}} by the quoted identifier <table><suffix>; {{unlogged}} by UNLOGGED or nothing.
-- The SQL functions are not here: they live in functions.sql, which every migrate runs.

CREATE {{unlogged}} TABLE {{schema}}.{{table}} (
  -- Public id: unrelated to the token; used to list and revoke sessions. Ids are
  -- time-ordered, so that a new row goes to the right edge of the primary key.
  id                  text COLLATE "C" PRIMARY KEY,
  -- SHA-256 of the current token. The token itself is never stored.
  token_hash          bytea NOT NULL,
  -- The token replaced by the last rotation keeps working until prev_expires_at. The one a
  -- login replaced (prev_login) works no longer: it is kept only so that a request still
  -- carrying it is told apart from an unknown token, never to read or write the session,
  -- so that a token planted before the login (session fixation) gains nothing from it.
  prev_token_hash     bytea,
  prev_expires_at     timestamptz,
  prev_login          boolean NOT NULL DEFAULT false,
  user_id             text,
  audience            text,
  data                jsonb NOT NULL DEFAULT '{}'::jsonb,
  version             integer NOT NULL DEFAULT 1,
  remember            boolean NOT NULL DEFAULT false,
  ip                  text,
  user_agent          text,
  created_at          timestamptz NOT NULL,
  last_seen_at        timestamptz NOT NULL,
  authenticated_at    timestamptz,
  idle_timeout        interval NOT NULL,
  touch_after         interval NOT NULL,
  idle_expires_at     timestamptz NOT NULL,
  absolute_expires_at timestamptz NOT NULL
) WITH (fillfactor = 85);

-- Touches change only last_seen_at and idle_expires_at, and data writes only data and
-- version: none of them is indexed, so both are HOT updates. The free space left by
-- fillfactor keeps the new row version on the same page. Nor is there an index on the
-- expiry columns: pruning walks the primary key.
CREATE UNIQUE INDEX {{table:_token_hash_key}} ON {{schema}}.{{table}} (token_hash);
CREATE UNIQUE INDEX {{table:_prev_token_hash_key}} ON {{schema}}.{{table}} (prev_token_hash)
  WHERE prev_token_hash IS NOT NULL;
CREATE INDEX {{table:_user_idx}} ON {{schema}}.{{table}} (user_id, audience)
  WHERE user_id IS NOT NULL;

-- The rule that the idle expiry never passes the absolute one is kept by the writers (every
-- statement pgsession runs, and the functions of functions.sql), not by a CHECK constraint:
-- PostgreSQL would evaluate one on every INSERT and UPDATE, whichever columns change, and it
-- stops no one who can write the table, since such a writer can move absolute_expires_at
-- as well. Reads test liveness on idle_expires_at alone.
COMMENT ON TABLE {{schema}}.{{table}} IS 'pgsession: server-side HTTP sessions (tokens stored as SHA-256 only)';
COMMENT ON COLUMN {{schema}}.{{table}}.idle_expires_at IS
  'pgsession: when the session ends; never later than absolute_expires_at (reads check only this column)';
