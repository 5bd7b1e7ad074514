/**
 * Resolving a request's session from its token: the stored session it names, or a new one.
 * @module
 */
import { Session, type RequestContext, type SessionState } from "../session/session.js";
import type { SessionRecord } from "../session/table.js";
import { isWellFormedToken, tokenHashBytes } from "../session/token.js";
import { clockOf, emit, freshState, type ManagerContext } from "./context.js";

/**
 * Rolling renewal: whether the token the request carries is older than `rotateAfter`.
 * Only the current token may rotate; one in its grace window was rotated already. The age
 * is taken on the application's clock: its skew from the database's, which wrote the
 * issue time, is small against the ages this option is for.
 */
function isRotationDue(ctx: ManagerContext, record: SessionRecord): boolean {
  const after = ctx.options.rotateAfterMs;
  return after !== null && record.current && clockOf(ctx).getTime() - record.tokenIssuedAt.getTime() >= after;
}

/**
 * The session a token names, or a new, unstored session: for a missing or malformed token
 * (which never reaches SQL), an unknown, expired or revoked one, sealed data that cannot be
 * opened, or a token a login replaced (then `superseded`: its changes are refused).
 * With `context.readOnly`, the read makes no touch and the session refuses every change.
 * Rejects with `SessionStoreError` when the database fails: never "no session".
 */
export async function resolveToken<Data extends object>(
  ctx: ManagerContext,
  token: string | null | undefined,
  context: RequestContext,
): Promise<Session<Data>> {
  if (!isWellFormedToken(token)) return new Session<Data>(freshState(ctx, context));
  const tokenHash = tokenHashBytes(token);
  // Read-only: the store's read without side effects (no touch), from the database; a
  // token a login retired names nothing there, which read-only is the same as superseded.
  const record = context.readOnly === true ? await ctx.table.peek(tokenHash) : await ctx.table.find(tokenHash, context.fresh);
  if (record === "superseded") return new Session<Data>(freshState(ctx, context, "superseded"));
  if (record === null) return new Session<Data>(freshState(ctx, context));
  // Sealed data that cannot be opened (wrong key, tampering) is "no session"; the codec warned.
  const opened = ctx.codec.open(record.data, { token, publicId: record.id }, record.current);
  if (opened === null) return new Session<Data>(freshState(ctx, context));
  const state: SessionState = {
    phase: "stored",
    token,
    tokenHash,
    publicId: record.id,
    record,
    data: opened.data,
    changes: new Map(),
    cleared: false,
    cookieDue: false,
    rotateDue: isRotationDue(ctx, record),
    dataKey: opened.dataKey,
    context,
    dataLength: record.dataLength,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    controller: ctx.controller,
  };
  if (record.touched) emit(ctx, "touched", record);
  return new Session<Data>(state);
}
