-- pgsession 001: the sessions table.
-- {{schema}} and {{table}} are replaced by validated, quoted identifiers;
-- {{table:suffix}} by the quoted identifier <table><suffix>; {{unlogged}} by UNLOGGED or nothing.

CREATE {{unlogged}} TABLE {{schema}}.{{table}} (
  -- Public id: random, unrelated to the token; used to list and revoke sessions.
  id                  text COLLATE "C" PRIMARY KEY,
  -- SHA-256 of the current token. The token itself is never stored.
  token_hash          bytea NOT NULL,
  -- The token replaced by the last rotation keeps working until prev_expires_at.
  prev_token_hash     bytea,
  prev_expires_at     timestamptz,
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
-- fillfactor keeps the new row version on the same page.
CREATE UNIQUE INDEX {{table:_token_hash_key}} ON {{schema}}.{{table}} (token_hash);
CREATE UNIQUE INDEX {{table:_prev_token_hash_key}} ON {{schema}}.{{table}} (prev_token_hash)
  WHERE prev_token_hash IS NOT NULL;
CREATE INDEX {{table:_user_idx}} ON {{schema}}.{{table}} (user_id, audience)
  WHERE user_id IS NOT NULL;

COMMENT ON TABLE {{schema}}.{{table}} IS 'pgsession: server-side HTTP sessions (tokens stored as SHA-256 only)';
