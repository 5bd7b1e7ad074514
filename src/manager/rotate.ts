/**
 * Rotation: a new token for a stored session, the old one kept for the grace window
 * (`staleTtl`). A login is a rotation that also binds a user and new timeouts.
 * @module
 */
import { stateOf, type Session, type SessionState } from "../session/session.js";
import type { LoginChange, MissReason, SessionRecord, SessionRows } from "../session/table.js";
import { changesOf, emit, failWrite, isDirty, markWritten, newToken, type ManagerContext } from "./context.js";
import { checkSize, ownerOf, saveData } from "./write.js";

/**
 * Gives a stored session a new token, merging the request's pending changes in the same
 * statement; with `login`, binds the user and timeouts too. Only the holder of the
 * current token may rotate, so a session has one successor.
 */
export async function replaceToken(
  ctx: ManagerContext,
  state: SessionState,
  login: LoginChange | null,
  rows: SessionRows = ctx.table,
): Promise<void> {
  const missed = await tryReplaceToken(ctx, state, login, rows);
  if (missed !== null) failWrite(missed, "rotate");
}

/** {@link replaceToken}, resolving to why nothing was written (null: rotated) instead of throwing it. */
async function tryReplaceToken(
  ctx: ManagerContext,
  state: SessionState,
  login: LoginChange | null,
  rows: SessionRows = ctx.table,
): Promise<MissReason | null> {
  const record = state.record as SessionRecord;
  if (!record.current) return "stale";
  if (isDirty(state)) checkSize(ctx, state);
  if (ctx.codec.sealed && (isDirty(state) || !state.dataKey)) {
    // Sealed data cannot be merged by the rotation's statement: it is saved first, and the
    // rotation then only re-wraps the data key.
    const saved = await saveData(ctx, state, false, rows);
    if (typeof saved !== "number") return saved;
    record.version = saved;
    markWritten(state);
  }
  const owner = ownerOf(state);
  const next = newToken(ctx);
  const changes = ctx.codec.sealed ? ctx.codec.rotation(owner, next.token, state.dataKey as Buffer) : changesOf(ctx, state);
  const result = await rows.rotate(state.tokenHash as Uint8Array, next.tokenHash, ctx.options.staleMs, changes ?? undefined, login);
  if (typeof result === "string") return result;
  const opened = ctx.codec.open(result.data, { token: next.token, publicId: result.id }, true);
  Object.assign(state, {
    record: result,
    token: next.token,
    tokenHash: next.tokenHash,
    data: opened ? opened.data : state.data,
    cookieDue: true,
    rotateDue: false,
  });
  markWritten(state);
  return null;
}

/**
 * Rolling renewal (`rotateAfter`), on the commit of a request that found its token due: a
 * rotation as {@link rotateSession}'s, merging the request's pending changes. Parallel
 * requests race for it and one wins; a loser (its token already replaced), or a request
 * whose session is gone, keeps its token and sends no cookie, and its changes are then
 * saved as any request's are: a rotated-away token's through the grace window.
 */
export async function renewToken(ctx: ManagerContext, state: SessionState): Promise<void> {
  const missed = await tryReplaceToken(ctx, state, null);
  state.rotateDue = false;
  if (missed === null) emit(ctx, "rotated", state.record);
}

/** `session.rotate()`: a new token for a stored session; nothing to do for one not stored yet (its token is made when it is). */
export async function rotateSession(ctx: ManagerContext, session: Session<object>): Promise<void> {
  const state = stateOf(session);
  if (state.phase !== "stored") return;
  await replaceToken(ctx, state, null);
  emit(ctx, "rotated", state.record);
}
