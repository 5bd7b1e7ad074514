/**
 * A cached session: what the read cache keeps of a row, and the record each hit is given.
 * An entry holds no object a request could change: the data as JSON text (parsed anew for
 * each hit, so that a handler changing a nested value in place changes only its own copy)
 * and the times as numbers.
 * @module
 */
import { jsonbTextBytes } from "../../lib/jsonb-size.js";
import { emptyData } from "../../session/data.js";
import type { DataChanges, SessionRecord } from "../../session/table.js";

/** One cached session. Immutable: a change makes a new entry. */
export interface CacheEntry {
  readonly id: string;
  readonly userId: string | null;
  readonly audience: string | null;
  readonly version: number;
  readonly remember: boolean;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly updatedAt: number;
  readonly tokenIssuedAt: number;
  readonly authenticatedAt: number | null;
  readonly expiresAt: number;
  readonly absoluteExpiresAt: number;
  /** The data column's JSON text (plain data, or a sealed envelope). */
  readonly dataText: string;
  /** An upper bound of the length of PostgreSQL's text of the data (see `SessionRecord.dataLength`). */
  readonly dataLength: number;
  /** The row's `touch_after`, ms. */
  readonly touchAfterMs: number;
  /**
   * Until when (database clock, ms) the entry may answer: the idle expiry, or the moment a
   * touch is due, whichever comes first. After it the read goes to the database, which
   * extends the idle expiry as it would without a cache.
   */
  readonly validUntil: number;
}

/** Until when an entry with these times may answer (see {@link CacheEntry.validUntil}). */
function validUntil(expiresAt: number, lastSeenAt: number, touchAfterMs: number): number {
  return Math.min(expiresAt, lastSeenAt + touchAfterMs);
}

/**
 * The entry of a record read by its current token, with `dataText`, the data column as JSON
 * text. Keeps nothing of `record`'s objects.
 *
 * @example
 * ```ts
 * const entry = entryOf(record, JSON.stringify(record.data), 8_640_000);
 * ```
 */
export function entryOf(record: SessionRecord, dataText: string, touchAfterMs: number, dataLength = record.dataLength): CacheEntry {
  const lastSeenAt = record.lastSeenAt.getTime();
  const expiresAt = record.expiresAt.getTime();
  return {
    id: record.id,
    userId: record.userId,
    audience: record.audience,
    version: record.version,
    remember: record.remember,
    createdAt: record.createdAt.getTime(),
    lastSeenAt,
    updatedAt: record.updatedAt.getTime(),
    tokenIssuedAt: record.tokenIssuedAt.getTime(),
    authenticatedAt: record.authenticatedAt === null ? null : record.authenticatedAt.getTime(),
    expiresAt,
    absoluteExpiresAt: record.absoluteExpiresAt.getTime(),
    dataText,
    dataLength,
    touchAfterMs,
    validUntil: validUntil(expiresAt, lastSeenAt, touchAfterMs),
  };
}

/**
 * A record of its own for one hit: new objects throughout, as a read from the database
 * gives, found by the current token, untouched.
 *
 * @example
 * ```ts
 * const record = recordOf(entry); // record.data is a fresh parse of entry.dataText
 * ```
 */
export function recordOf(entry: CacheEntry): SessionRecord {
  return {
    id: entry.id,
    userId: entry.userId,
    audience: entry.audience,
    data: JSON.parse(entry.dataText) as Record<string, unknown>,
    version: entry.version,
    remember: entry.remember,
    createdAt: new Date(entry.createdAt),
    lastSeenAt: new Date(entry.lastSeenAt),
    updatedAt: new Date(entry.updatedAt),
    tokenIssuedAt: new Date(entry.tokenIssuedAt),
    authenticatedAt: entry.authenticatedAt === null ? null : new Date(entry.authenticatedAt),
    expiresAt: new Date(entry.expiresAt),
    absoluteExpiresAt: new Date(entry.absoluteExpiresAt),
    current: true,
    touched: false,
    dataLength: entry.dataLength,
  };
}

/**
 * The data column after a write of `changes`, as the database merges it (`mergedData` in
 * `src/store/sql/fragments.ts`): cleared, or the deleted keys removed, then the keys set
 * merged on top. Into a prototype-free object, so that a `__proto__` key stays data.
 */
export function mergedText(dataText: string, changes: DataChanges): string {
  const data = emptyData();
  if (!changes.cleared) {
    const before = JSON.parse(dataText) as Record<string, unknown>;
    for (const key of Object.keys(before)) data[key] = before[key];
    if (changes.deleted !== "[]") for (const key of JSON.parse(changes.deleted) as string[]) delete data[key];
  }
  const set = JSON.parse(changes.set) as Record<string, unknown>;
  for (const key of Object.keys(set)) data[key] = set[key];
  return JSON.stringify(data);
}

/**
 * The entry after this instance's own write of `changes`, which the database stored as
 * `version` at `updatedAt` (database clock, ms).
 *
 * @example
 * ```ts
 * const next = savedEntry(entry, { deleted: "[]", set: '{"n":2}', cleared: false }, entry.version + 1, now);
 * ```
 */
export function savedEntry(entry: CacheEntry, changes: DataChanges, version: number, updatedAt: number): CacheEntry {
  const dataText = mergedText(entry.dataText, changes);
  return { ...entry, version, updatedAt, dataText, dataLength: jsonbTextBytes(dataText) };
}

/**
 * The entry of a session this instance just inserted, its data column `dataText`: its
 * times estimated no later than the database's (`at`, database clock ms, taken before the
 * INSERT was sent), so that it never answers past the row's real expiry.
 */
export function insertedEntry(record: SessionRecord, dataText: string, touchAfterMs: number, at: number): CacheEntry {
  const entry = entryOf(record, dataText, touchAfterMs, jsonbTextBytes(dataText));
  const idleMs = record.expiresAt.getTime() - record.lastSeenAt.getTime();
  return { ...entry, validUntil: validUntil(at + idleMs, at, touchAfterMs) };
}
