/**
 * Logout: the session deleted server-side, the cookie cleared.
 * @module
 */
import { stateOf, type Session } from "../session/session.js";
import { emit, freshState, type ManagerContext } from "./context.js";

/** `session.logout()`: deletes the stored session; the object becomes a new, empty session whose commit clears the cookie. */
export async function logoutSession(ctx: ManagerContext, session: Session<object>): Promise<void> {
  const state = stateOf(session);
  if (state.phase === "stored") {
    const removed = await ctx.table.remove(state.tokenHash as Uint8Array);
    if (removed) emit(ctx, "revoked", removed, { reason: "logout" });
  }
  Object.assign(state, freshState(ctx, state.context, "loggedOut"));
}
