/**
 * Logout: the session deleted server-side, the cookie cleared.
 * @module
 */
import { stateOf, type LogoutOptions, type Session } from "../session/session.js";
import { emit, freshState, orRestore, recordedClient, type ManagerContext } from "./context.js";
import { replaceToken } from "./rotate.js";

/**
 * `session.logout()`: deletes the stored session; the object becomes a new, empty session
 * whose commit clears the cookie (for a visitor who had no session, there is none to clear).
 */
export async function logoutSession(ctx: ManagerContext, session: Session<object>, options: LogoutOptions = {}): Promise<void> {
  const state = stateOf(session);
  if (options.keepData === true) {
    // A rotation that binds no user: the data stays, the old token is refused from now on.
    if (state.phase !== "stored" || state.record?.userId === null) return;
    const signedOut = { userId: null, remember: false, ...ctx.options.standard, ...recordedClient(state.context) };
    await orRestore(state, () => replaceToken(ctx, state, signedOut));
    emit(ctx, "rotated", state.record);
    return;
  }
  if (state.phase === "stored") {
    const removed = await ctx.table.remove(state.tokenHash as Uint8Array);
    if (removed) emit(ctx, "revoked", removed, { reason: "logout" });
  }
  // A visitor who had no session gets no clearing cookie: there is nothing to clear.
  Object.assign(state, freshState(ctx, state.context, state.phase === "new" ? "new" : "loggedOut"));
}
