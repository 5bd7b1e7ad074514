/**
 * The packed session row: how the statements send a session (one JSON array in one text
 * column) and how it is decoded into a {@link SessionRecord}.
 * @module
 */
import { parseTimestamptz } from "../lib/timestamp.js";
import type { SessionRecord } from "../session/table.js";
import type { Row } from "../driver.js";

/**
 * A session row as the statements send it: one JSON array in one text column (`r`), so
 * that every driver parses a single field. The five times are PostgreSQL's JSON text of
 * a timestamptz (ISO 8601 with microseconds and the session's offset, read to the
 * millisecond by {@link parseTimestamptz}); `touch` is what a read's touch wrote, `[lastSeenAt,
 * idleExpiresAt]` in epoch milliseconds (float8, which may carry float error), or null.
 */
type PackedRecord = [
  id: string, userId: string | null, audience: string | null, version: number, remember: boolean,
  createdAt: string, lastSeenAt: string, authenticatedAt: string | null, expiresAt: string, absoluteExpiresAt: string,
  current: boolean, touch: [number, number] | null, data: Record<string, unknown>,
];

function dateOf(ms: number): Date {
  return new Date(Math.round(ms));
}

/** The session a row's `r` column describes. */
export function recordOf(row: Row): SessionRecord {
  const text = row.r as string;
  const [id, userId, audience, version, remember, createdAt, lastSeenAt, authenticatedAt, expiresAt, absoluteExpiresAt, current, touch, data] =
    JSON.parse(text) as PackedRecord;
  const record: SessionRecord = {
    id, userId, audience, data, version, remember,
    createdAt: parseTimestamptz(createdAt), lastSeenAt: parseTimestamptz(lastSeenAt),
    authenticatedAt: authenticatedAt === null ? null : parseTimestamptz(authenticatedAt),
    expiresAt: parseTimestamptz(expiresAt), absoluteExpiresAt: parseTimestamptz(absoluteExpiresAt), current, touched: false,
    // PostgreSQL's JSON text of the data is never shorter than JSON.stringify's of it.
    dataLength: text.length,
  };
  if (touch) {
    record.touched = true;
    record.lastSeenAt = dateOf(touch[0]);
    record.expiresAt = dateOf(touch[1]); // the touch keeps it within the absolute expiry
  }
  return record;
}

