/**
 * The packed session row: the fields a read sends back, declared once for the SQL that
 * builds them and the decoder that reads them.
 *
 * A session leaves the database as ONE text column (`r`) holding a JSON array: the data
 * inline, the times as the plain columns, which `json_build_array` writes as ISO 8601 text
 * with an offset whatever the DateStyle. A driver then parses one field instead of
 * fifteen, and every driver returns exactly the same text. Plain time columns rather
 * than epoch arithmetic, because PostgreSQL sets up every output expression again on
 * each execution.
 * @module
 */
import type { Row } from "../driver.js";
import type { SessionRecord } from "../session/table.js";
import { parseTimestamptz } from "../lib/timestamp.js";

/** What varies between the statements that send a packed row. */
export interface PackedRowInputs {
  /** SQL for whether the row was found by its current token (false: by the previous one, in the grace window). */
  readonly current: string;
  /** SQL for the read's touch: `[lastSeenAt, idleExpiresAt]` in epoch milliseconds it wrote, or null. */
  readonly touch: string;
}

/** One field of the packed row: where it comes from, and how it lands in the record. */
interface PackedField {
  /** The record key the field fills (`touch` fills three). */
  readonly name: keyof SessionRecord | "touch";
  readonly sql: (inputs: PackedRowInputs) => string;
  readonly decode: (record: SessionRecord, value: never) => void;
}

const column = (expression: string) => () => expression;

/**
 * The fields in array order. The times are PostgreSQL's JSON text of a timestamptz, read
 * by {@link parseTimestamptz}; `touch` comes after the times it replaces.
 */
const FIELDS = [
  {
    name: "id",
    sql: column("s.id"),
    decode: (r, v: string) => {
      r.id = v;
    },
  },
  {
    name: "userId",
    sql: column("s.user_id"),
    decode: (r, v: string | null) => {
      r.userId = v;
    },
  },
  {
    name: "audience",
    sql: column("s.audience"),
    decode: (r, v: string | null) => {
      r.audience = v;
    },
  },
  {
    name: "version",
    sql: column("s.version"),
    decode: (r, v: number) => {
      r.version = v;
    },
  },
  {
    name: "remember",
    sql: column("s.remember"),
    decode: (r, v: boolean) => {
      r.remember = v;
    },
  },
  {
    name: "createdAt",
    sql: column("s.created_at"),
    decode: (r, v: string) => {
      r.createdAt = parseTimestamptz(v);
    },
  },
  {
    name: "lastSeenAt",
    sql: column("s.last_seen_at"),
    decode: (r, v: string) => {
      r.lastSeenAt = parseTimestamptz(v);
    },
  },
  {
    name: "authenticatedAt",
    sql: column("s.authenticated_at"),
    decode: (r, v: string | null) => {
      r.authenticatedAt = v === null ? null : parseTimestamptz(v);
    },
  },
  {
    name: "updatedAt",
    sql: column("s.updated_at"),
    decode: (r, v: string) => {
      r.updatedAt = parseTimestamptz(v);
    },
  },
  {
    name: "tokenIssuedAt",
    sql: column("s.token_issued_at"),
    decode: (r, v: string) => {
      r.tokenIssuedAt = parseTimestamptz(v);
    },
  },
  {
    name: "expiresAt",
    sql: column("s.idle_expires_at"),
    decode: (r, v: string) => {
      r.expiresAt = parseTimestamptz(v);
    },
  },
  {
    name: "absoluteExpiresAt",
    sql: column("s.absolute_expires_at"),
    decode: (r, v: string) => {
      r.absoluteExpiresAt = parseTimestamptz(v);
    },
  },
  {
    name: "current",
    sql: (inputs) => inputs.current,
    decode: (r, v: boolean) => {
      r.current = v;
    },
  },
  {
    // The touch keeps the idle expiry within the absolute one. float8 may carry float error.
    name: "touch",
    sql: (inputs) => inputs.touch,
    decode: (r, v: [number, number] | null) => {
      if (v === null) return;
      r.touched = true;
      r.lastSeenAt = new Date(Math.round(v[0]));
      r.expiresAt = new Date(Math.round(v[1]));
    },
  },
  {
    name: "data",
    sql: column("s.data"),
    decode: (r, v: Record<string, unknown>) => {
      r.data = v;
    },
  },
] as const satisfies readonly PackedField[];

// Every record key but the two the decoder derives has its field: the compiler names a missing one.
type Missing = Exclude<keyof SessionRecord, (typeof FIELDS)[number]["name"] | "touched" | "dataLength">;
const _complete: Record<Missing, never> = {};

/**
 * The packed row's column, `r`, for a statement over the sessions row `s`.
 *
 * @example
 * ```ts
 * `SELECT ${packedRow({ current: "true", touch: "NULL" })} FROM t s WHERE …`;
 * ```
 */
export function packedRow(inputs: PackedRowInputs): string {
  return `json_build_array(${FIELDS.map((field) => field.sql(inputs)).join(", ")})::text AS r`;
}

// Placeholders that every decode replaces; shared, so a record costs no more than its own fields.
const EPOCH = new Date(0);
const NO_DATA: Record<string, unknown> = Object.freeze({});

/**
 * The session a row's `r` column describes.
 *
 * @example
 * ```ts
 * const record = recordOf(rows[0]); // rows of `find`, `peek`, `rotate`…
 * ```
 */
export function recordOf(row: Row): SessionRecord {
  const text = row.r as string;
  const values = JSON.parse(text) as never[];
  // Every key present from the start, so that each record has the same shape.
  const record: SessionRecord = {
    id: "",
    userId: null,
    audience: null,
    data: NO_DATA,
    version: 0,
    remember: false,
    createdAt: EPOCH,
    lastSeenAt: EPOCH,
    updatedAt: EPOCH,
    tokenIssuedAt: EPOCH,
    authenticatedAt: null,
    expiresAt: EPOCH,
    absoluteExpiresAt: EPOCH,
    current: false,
    touched: false,
    // PostgreSQL's JSON text of the data is never shorter than JSON.stringify's of it.
    dataLength: text.length,
  };
  for (let i = 0; i < FIELDS.length; i++) FIELDS[i]!.decode(record, values[i]!);
  return record;
}
