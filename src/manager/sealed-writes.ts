/**
 * Writes of encrypted sessions. PostgreSQL cannot merge keys inside a ciphertext, so an
 * encrypted save is a compare-and-set of the whole sealed blob on `version`; when another
 * request wrote in between, the row is read again, decrypted with the token this request
 * holds, this request's changed keys (sets, deletes, clear) are applied on top, and the
 * write is retried. Concurrent writes to different keys are thus kept, as with plain
 * sessions, at the price of a retry under contention.
 * @module
 */
import type { SessionCipher } from "../session/encryption.js";
import { emptyData, type SessionData, type SessionState } from "../session/session.js";
import type { DataChanges, MissReason, SessionStore } from "../store/session-store.js";

const MAX_ATTEMPTS = 8;
const dataKeys = new WeakMap<SessionState, Buffer | null>();

/**
 * Records the data key of a session just read or written.
 *
 * @example
 * ```ts
 * setDataKey(stateOf(session), opened.dataKey);
 * ```
 */
export function setDataKey(state: SessionState, dataKey: Buffer | null): void {
  dataKeys.set(state, dataKey);
}

/**
 * The `data` column of a new encrypted session (with a new data key).
 *
 * @example
 * ```ts
 * await db.insert(now, { ...row, data: sealNewRow(cipher, state) });
 * ```
 */
export function sealNewRow(cipher: SessionCipher, state: SessionState): string {
  const dataKey = cipher.newDataKey();
  dataKeys.set(state, dataKey);
  return JSON.stringify({ $sealed: cipher.sealData(dataKey, state.publicId, state.data), $key: cipher.wrapKey(dataKey, state.token, state.publicId) });
}

function applyChanges(base: SessionData, state: SessionState): SessionData {
  const data = emptyData();
  if (!state.cleared) for (const key of Object.keys(base)) data[key] = base[key];
  for (const [key, text] of state.changes) {
    if (text === undefined) delete data[key];
    else data[key] = JSON.parse(text);
  }
  return data;
}

/**
 * Saves the data of a stored encrypted session by compare-and-set on its version, reading
 * and merging again on conflict unless the caller asked for a strict `compareAndSet`.
 * Resolves to the new version, or why nothing was written.
 *
 * @example
 * ```ts
 * const result = await saveSealed(cipher, db, null, stateOf(session), false); // number | "gone" | ...
 * ```
 */
export async function saveSealed(
  cipher: SessionCipher, db: SessionStore, now: Date | null, state: SessionState, strict: boolean,
): Promise<number | MissReason> {
  const record = state.record;
  if (!record) return "gone";
  let dataKey = dataKeys.get(state) ?? null;
  let data = state.data;
  let version = record.version;
  let current = record.current;
  for (let attempt = 1; ; attempt++) {
    const column: Record<string, string> = {};
    if (!dataKey) {
      // A session made in SQL has no data key yet; it can only be given one under the current token.
      if (!current) return "stale";
      dataKey = cipher.newDataKey();
      column.$key = cipher.wrapKey(dataKey, state.token, state.publicId);
    }
    column.$sealed = cipher.sealData(dataKey, state.publicId, data);
    const changes: DataChanges = { deleted: "[]", set: JSON.stringify(column), cleared: false };
    const result = await db.save(now, state.publicId, state.tokenHash, changes, version);
    if (typeof result === "number") {
      state.data = data;
      dataKeys.set(state, dataKey);
      return result;
    }
    if (result === "gone" || strict || attempt >= MAX_ATTEMPTS) return result;
    const fresh = await db.peek(now, state.tokenHash);
    if (!fresh) return "gone";
    const opened = cipher.open(fresh.data, state.token, state.publicId, fresh.current);
    if (!opened) return "gone";
    dataKey = opened.dataKey;
    version = fresh.version;
    current = fresh.current;
    data = applyChanges(opened.data, state);
  }
}

/**
 * What a rotation of an encrypted session writes: the data key wrapped under the new token,
 * and under the old one for the grace window. Call after {@link saveSealed} made sure the
 * session has a data key and no pending change.
 *
 * @example
 * ```ts
 * await db.rotate(now, state.tokenHash, tokenHashBytes(next), staleMs, rotationColumns(cipher, state, next), null);
 * ```
 */
export function rotationColumns(cipher: SessionCipher, state: SessionState, newToken: string): DataChanges {
  const dataKey = dataKeys.get(state) ?? cipher.newDataKey();
  dataKeys.set(state, dataKey);
  const set = {
    $key: cipher.wrapKey(dataKey, newToken, state.publicId),
    $prevKey: cipher.wrapKey(dataKey, state.token, state.publicId),
  };
  return { deleted: "[]", set: JSON.stringify(set), cleared: false };
}

/**
 * Whether a rotation must first save (pending changes, or no data key yet).
 *
 * @example
 * ```ts
 * if (needsSaveBeforeRotation(state)) await saveSealed(cipher, db, now, state, false);
 * ```
 */
export function needsSaveBeforeRotation(state: SessionState): boolean {
  return state.changes.size > 0 || state.cleared || !dataKeys.get(state);
}
