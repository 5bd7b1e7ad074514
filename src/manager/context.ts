/**
 * What every operation of the session manager shares: the validated options, the sessions
 * table, the data codec, the events, and the small rules they all apply (a new session's
 * state, the changed keys of a write, the cookie of a session, why a write missed).
 * @module
 */
import { SessionConflictError, SessionGoneError } from "../errors.js";
import type { DataCodec } from "../session/codec.js";
import { serializeSessionCookie } from "../session/cookie.js";
import type { SessionEvent, SessionEventListener, SessionEventName, SessionEvents } from "../session/events.js";
import { emptyData, type RequestContext, type SessionController, type SessionPhase, type SessionState } from "../session/session.js";
import type { DataChanges, MissReason, SessionTable } from "../session/table.js";
import { generateToken, tokenHashBytes } from "../session/token.js";
import type { ResolvedOptions } from "./options.js";

/** The shared context of one session manager's operations. */
export interface ManagerContext {
  readonly options: ResolvedOptions;
  readonly table: SessionTable;
  readonly codec: DataCodec;
  readonly events: SessionEvents;
  readonly controller: SessionController;
}

/** The application's clock: the injected one, else the Node clock (for cookies and new sessions' times). */
export function clockOf(ctx: ManagerContext): Date {
  return ctx.options.now ? ctx.options.now() : new Date();
}

/** The state of a session that is not stored: no token yet (one is made when it is written). */
export function freshState(ctx: ManagerContext, context: RequestContext, phase: SessionPhase = "new"): SessionState {
  const createdAt = clockOf(ctx);
  const { idleMs, absoluteMs } = ctx.options.standard;
  return {
    phase,
    token: null,
    tokenHash: null,
    publicId: null,
    record: null,
    data: emptyData(),
    changes: new Map(),
    cleared: false,
    cookieDue: false,
    rotateDue: false,
    dataKey: null,
    context,
    dataLength: 2,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + Math.min(idleMs, absoluteMs)),
    controller: ctx.controller,
  };
}

/** Gives a state a new token (its first, or the successor of a rotation): returns the token and its hash. */
export function newToken(ctx: ManagerContext): { token: string; tokenHash: Buffer } {
  const token = generateToken(ctx.options.randomBytes);
  return { token, tokenHash: tokenHashBytes(token) };
}

/** The keys a request changed, serialized for a merge in SQL that refuses a result past `maxDataSize`. */
export function changesOf(ctx: ManagerContext, state: SessionState): DataChanges {
  const set: string[] = [];
  const deleted: string[] = [];
  for (const [key, text] of state.changes) {
    if (text === undefined) deleted.push(key);
    else set.push(`${JSON.stringify(key)}:${text}`);
  }
  return { deleted: JSON.stringify(deleted), set: `{${set.join(",")}}`, cleared: state.cleared, limit: ctx.options.maxDataSize };
}

/** Whether a request set any key (deletions alone leave a session that is not stored empty). */
export function setsAnyKey(state: SessionState): boolean {
  for (const text of state.changes.values()) if (text !== undefined) return true;
  return false;
}

/** Whether the data changed since it was read or last written. */
export function isDirty(state: SessionState): boolean {
  return state.changes.size > 0 || state.cleared;
}

/**
 * Runs a change of a session's state that writes to the database; when the write fails or
 * is rolled back, the state (and so the cookie the client is sent) is put back as it was.
 */
export async function orRestore(state: SessionState, change: () => Promise<void>): Promise<void> {
  const before: SessionState = { ...state, changes: new Map(state.changes) };
  try {
    await change();
  } catch (err) {
    Object.assign(state, before);
    throw err;
  }
}

/** The data is stored: nothing is pending any more. */
export function markWritten(state: SessionState): void {
  state.changes.clear();
  state.cleared = false;
}

/** The Set-Cookie value carrying `value` (a token, or "" to clear) for this session's request. */
export function cookieOf(ctx: ManagerContext, state: SessionState, value: string, maxAgeMs: number | undefined): string {
  return serializeSessionCookie(ctx.options.cookie, { value, maxAgeMs, secure: state.context.secure === true, now: clockOf(ctx) });
}

/** Throws the error a write that matched no row stands for. */
export function failWrite(reason: MissReason, what: "save" | "rotate"): never {
  if (reason === "gone") throw new SessionGoneError();
  if (reason === "stale")
    throw new SessionConflictError(`cannot ${what}: another request already replaced this session's token (a rotation or a login)`);
  // A compare-and-set that found a newer version, or a merge that another write in between made too large and then not.
  throw new SessionConflictError("the session was written by another request since it was read; nothing was saved");
}

/** Emits a lifecycle event for a session, if anyone listens. */
export function emit<E extends Exclude<SessionEventName, "pruned" | "duplicateCookie">>(
  ctx: ManagerContext,
  name: E,
  session: SessionEvent | null,
  extra?: Omit<Parameters<SessionEventListener<E>>[0], keyof SessionEvent>,
): void {
  if (!session || !ctx.events.has(name)) return;
  ctx.events.emit(name as "created", { id: session.id, userId: session.userId, audience: session.audience, ...extra });
}

const MAX_IP = 64;
const MAX_USER_AGENT = 512;

function clean(value: string | null | undefined, max: number): string | null {
  if (typeof value !== "string" || value.length === 0) return null;
  // PostgreSQL text cannot hold NUL; these fields are informative, so trim rather than fail.
  return value.replaceAll("\u0000", "").slice(0, max);
}

/** The ip and user agent a row records, trimmed to their column limits. */
export function recordedClient(context: RequestContext): { ip: string | null; userAgent: string | null } {
  return { ip: clean(context.ip, MAX_IP), userAgent: clean(context.userAgent, MAX_USER_AGENT) };
}
