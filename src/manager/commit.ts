/**
 * Committing a request's session: writing what changed (nothing when nothing changed) and
 * telling the adapter which Set-Cookie to send.
 * @module
 */
import { SessionConflictError } from "../errors.js";
import { refuseReadOnly, stateOf, type Session, type SessionState } from "../session/session.js";
import { cookieMaxAge } from "../session/timeouts.js";
import { clockOf, cookieOf, emit, failWrite, isDirty, markWritten, setsAnyKey, type ManagerContext } from "./context.js";
import { renewToken } from "./rotate.js";
import { checkSize, insertSession, saveData } from "./write.js";

/** Options of `commit`. */
export interface CommitOptions {
  /** Write only if nobody wrote the session since it was read; else throw `SessionConflictError`. */
  compareAndSet?: boolean;
}

/**
 * Writes what the request changed and returns the Set-Cookie value to send, or null when
 * the cookie stays as it is. Throws `SessionGoneError` when the session was revoked
 * meanwhile: it is not brought back, and `SessionReadOnlyError` for a session resolved read-only.
 */
export async function commitSession(ctx: ManagerContext, session: Session<object>, options: CommitOptions = {}): Promise<string | null> {
  const state = stateOf(session);
  refuseReadOnly(state, "commit");
  switch (state.phase) {
    case "superseded":
      // Stored, these changes would start a session whose cookie replaces the login's.
      if (setsAnyKey(state))
        throw new SessionConflictError("a login replaced this session's token while the request ran; nothing was saved");
      return null;
    case "new":
    case "loggedOut":
      if (setsAnyKey(state) || ctx.options.saveUninitialized) {
        await insertSession(ctx, state, null, ctx.options.standard, false);
        emit(ctx, "created", state.record);
        break;
      }
      if (state.phase === "new") return null;
      state.phase = "new";
      return cookieOf(ctx, state, "", 0);
    case "stored":
      // Rolling renewal: when it wins, the rotation has stored the changes too.
      if (state.rotateDue) await renewToken(ctx, state);
      if (isDirty(state)) {
        checkSize(ctx, state);
        const result = await saveData(ctx, state, options.compareAndSet === true);
        if (typeof result !== "number") failWrite(result, "save");
        (state.record as NonNullable<SessionState["record"]>).version = result;
        markWritten(state);
        emit(ctx, "saved", state.record, { version: result });
      }
  }
  const setCookie = unsentCookie(ctx, state);
  state.cookieDue = false;
  return setCookie;
}

/** Whether {@link commitSession} would write to the database or return a Set-Cookie value. */
export function needsCommit(state: SessionState, saveUninitialized: boolean): boolean {
  switch (state.phase) {
    case "superseded":
      return setsAnyKey(state);
    case "new":
      return setsAnyKey(state) || saveUninitialized;
    case "loggedOut":
      return true;
    case "stored":
      return isDirty(state) || state.cookieDue || state.rotateDue;
  }
}

/**
 * The Set-Cookie value for what the database already holds but the client was not sent:
 * the token of a stored login, rotation or new session, or the clearing cookie of a
 * stored logout. Null when there is none.
 */
export function unsentCookie(ctx: ManagerContext, state: SessionState): string | null {
  if (state.phase === "loggedOut") return cookieOf(ctx, state, "", 0);
  if (state.phase !== "stored" || !state.cookieDue) return null;
  const record = state.record as NonNullable<SessionState["record"]>;
  return cookieOf(ctx, state, state.token as string, cookieMaxAge(record, ctx.options.cookie.maxAgeMs, clockOf(ctx)));
}
