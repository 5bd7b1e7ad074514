-- pgsession 003: the touch of a read, as a function the read calls only when a touch is due.
--
-- The read (find) used to carry the touch as a data-modifying CTE. PostgreSQL sets up an
-- UPDATE for such a statement on every execution, due or not, which made the common read
-- (no touch due) cost it about 1.5 times a plain SELECT. Called from a CASE, this function
-- runs only when the idle expiry is due for extension: the read and a due touch stay one
-- statement and one round trip, and a read with nothing due is a plain index lookup.
--
-- The UPDATE keeps the liveness check: a session logged out, revoked or expired since the
-- read found it is never brought back. It returns {last_seen_at, idle_expires_at} as epoch
-- milliseconds, or NULL when nothing was updated.
CREATE OR REPLACE FUNCTION {{schema}}.{{table:_touch}}(session_id text, at timestamptz)
  RETURNS float8[]
  LANGUAGE sql VOLATILE
  AS $$
    UPDATE {{schema}}.{{table}} s
       SET last_seen_at = at, idle_expires_at = least(at + s.idle_timeout, s.absolute_expires_at)
     WHERE s.id = session_id AND s.idle_expires_at > at AND s.absolute_expires_at > at
    RETURNING ARRAY[date_part('epoch', at) * 1000, date_part('epoch', s.idle_expires_at) * 1000]
  $$;
