/**
 * The writes every operation builds on: inserting a new session's row, saving changed
 * data (merged key by key in SQL, or for sealed data a compare-and-set with retries), and
 * the `maxDataSize` check before either.
 *
 * The size of data is the UTF-8 bytes of PostgreSQL's text of its jsonb
 * (`octet_length(data::text)`), here and in the SQL merge, which checks it again against
 * the row as parallel writes left it.
 * @module
 */
import { SessionDataTooLargeError } from "../errors.js";
import { jsonbTextBytes } from "../lib/jsonb-size.js";
import { applyChanges, type DataOwner } from "../session/codec.js";
import type { SessionData, SessionState } from "../session/session.js";
import type { MissReason, SessionRows } from "../session/table.js";
import type { TimeoutPolicy } from "../session/timeouts.js";
import { generatePublicId } from "../session/token.js";
import { changesOf, markWritten, newToken, recordedClient, type ManagerContext } from "./context.js";

// A sealed save retries at most this often when other requests keep writing in between.
const MAX_SEALED_ATTEMPTS = 8;

/** A new public id for a session created at `createdAt`. */
export function newPublicId(ctx: ManagerContext, createdAt: Date): string {
  return generatePublicId(ctx.options.randomBytes, createdAt.getTime());
}

/** The public id of a state, made now if it has none yet. */
export function publicIdOf(ctx: ManagerContext, state: SessionState): string {
  return (state.publicId ??= newPublicId(ctx, state.createdAt));
}

/**
 * The size of `data` as `maxDataSize` counts it; throws {@link SessionDataTooLargeError}
 * when it passes the limit.
 */
export function checkDataSize(ctx: ManagerContext, data: SessionData): number {
  const size = jsonbTextBytes(JSON.stringify(data));
  if (size > ctx.options.maxDataSize) throw new SessionDataTooLargeError(size, ctx.options.maxDataSize);
  return size;
}

/**
 * Throws {@link SessionDataTooLargeError} when the data would pass `maxDataSize`. Exact
 * (the whole data serialized) only when a cheap upper bound does not show that it fits:
 * the data as read, at 3 bytes (UTF-8's most) per character of its text, plus every
 * changed key at its longest (escaped, quoted, with its separators) and value as stored.
 */
export function checkSize(ctx: ManagerContext, state: SessionState): void {
  let bound = 3 * (state.cleared ? 2 : state.dataLength);
  for (const [key, text] of state.changes) bound += 6 * key.length + 6 + (text === undefined ? 0 : jsonbTextBytes(text));
  // Bytes are never fewer than characters: either number bounds the text's length.
  state.dataLength = bound > ctx.options.maxDataSize ? checkDataSize(ctx, state.data) : bound;
}

/** The token and public id of a stored state. */
export function ownerOf(state: SessionState): DataOwner {
  return { token: state.token as string, publicId: state.publicId as string };
}

/** Stores a session that is not stored yet, with its first token; the state becomes `stored` with its cookie due. */
export async function insertSession(
  ctx: ManagerContext,
  state: SessionState,
  userId: string | null,
  policy: TimeoutPolicy,
  remember: boolean,
  rows: SessionRows = ctx.table,
): Promise<void> {
  checkSize(ctx, state);
  const { token, tokenHash } = newToken(ctx);
  const id = publicIdOf(ctx, state);
  const sealed = ctx.codec.seal(state.data, { token, publicId: id });
  const client = recordedClient(state.context);
  const record = await rows.insert({
    id,
    tokenHash,
    userId,
    audience: ctx.options.audience,
    data: sealed.column,
    remember,
    ...client,
    idleMs: policy.idleMs,
    touchAfterMs: policy.touchAfterMs,
    absoluteMs: policy.absoluteMs,
  });
  Object.assign(state, { phase: "stored", token, tokenHash, record, dataKey: sealed.dataKey, cookieDue: true });
  markWritten(state);
}

/**
 * Writes a stored session's changed data; the new version, or why nothing was written.
 * Plain data is merged key by key in SQL. Sealed data cannot be merged there, so it is a
 * compare-and-set of the whole blob on `version`: when another request wrote in between,
 * the row is read again, this request's changes are applied on top, and the write retried
 * (unless `strict`, a caller's own compare-and-set).
 */
export async function saveData(
  ctx: ManagerContext,
  state: SessionState,
  strict: boolean,
  rows: SessionRows = ctx.table,
): Promise<number | MissReason> {
  const record = state.record;
  if (!record) return "gone";
  const tokenHash = state.tokenHash as Uint8Array;
  if (!ctx.codec.sealed) return rows.save(state.publicId, tokenHash, changesOf(ctx, state), strict ? record.version : null);
  const owner = ownerOf(state);
  let { dataKey, data } = state;
  let version = record.version;
  let current = record.current;
  for (let attempt = 1; ; attempt++) {
    // A session made in SQL has no data key yet; it can only be given one under the current token.
    if (!dataKey && !current) return "stale";
    const sealed = ctx.codec.seal(data, owner, dataKey);
    const result = await rows.save(state.publicId, tokenHash, { deleted: "[]", set: sealed.column, cleared: false }, version);
    if (typeof result === "number") {
      state.data = data;
      state.dataKey = sealed.dataKey;
      return result;
    }
    if (result === "gone" || strict || attempt >= MAX_SEALED_ATTEMPTS) return result;
    const fresh = await rows.peek(tokenHash);
    if (!fresh) return "gone";
    const opened = ctx.codec.open(fresh.data, owner, fresh.current);
    if (!opened) return "gone";
    ({ dataKey } = opened);
    version = fresh.version;
    current = fresh.current;
    data = applyChanges(opened.data, state.changes, state.cleared);
    // What another request wrote in between counts too: the compare-and-set stores exactly this.
    checkDataSize(ctx, data);
  }
}
