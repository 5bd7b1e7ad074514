-- pgsession 003: token_issued_at, when the current token was issued (the session's creation,
-- or its last rotation or login), so that rolling renewal (`rotateAfter`) can tell a token's
-- age. Not indexed: a rotation stays a HOT update. For rows that exist already the time is
-- estimated: a rotation or login left prev_expires_at, the end of its grace window, just
-- after it; that is at most staleTtl late, which delays the first renewal by as much.
ALTER TABLE {{schema}}.{{table}} ADD COLUMN token_issued_at timestamptz;
UPDATE {{schema}}.{{table}} SET token_issued_at = least(greatest(created_at, authenticated_at, prev_expires_at), now());
ALTER TABLE {{schema}}.{{table}} ALTER COLUMN token_issued_at SET DEFAULT now(),
                                 ALTER COLUMN token_issued_at SET NOT NULL;
