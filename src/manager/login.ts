/**
 * Login: a new token, the user bound, the timeouts of an ordinary or remember-me session,
 * and with `maxSessionsPerUser` the user's oldest sessions revoked in the same transaction.
 * @module
 */
import { SessionDataError, SessionError } from "../errors.js";
import { toStoreError } from "../lib/store-error.js";
import { parseDuration } from "../lib/duration.js";
import { stateOf, type LoginOptions, type Session, type SessionState } from "../session/session.js";
import type { SessionRows } from "../session/table.js";
import { timeoutPolicy, type TimeoutPolicy } from "../session/timeouts.js";
import { emit, freshState, orRestore, recordedClient, type ManagerContext } from "./context.js";
import { replaceToken } from "./rotate.js";
import { insertSession } from "./write.js";

const MAX_USER_ID = 256;

function checkUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== "string" || userId.length === 0 || userId.length > MAX_USER_ID || userId.includes("\u0000")) {
    throw new SessionDataError(`userId must be a non-empty string of at most ${MAX_USER_ID} characters without NUL`);
  }
}

/** The timeouts a login gives its session. */
function loginTimeouts(ctx: ManagerContext, options: LoginOptions): TimeoutPolicy {
  const base = options.remember === true ? ctx.options.remember : ctx.options.standard;
  return timeoutPolicy(base, {
    idleMs: options.idleTimeout === undefined ? undefined : parseDuration(options.idleTimeout, "login.idleTimeout"),
    absoluteMs: options.absoluteTimeout === undefined ? undefined : parseDuration(options.absoluteTimeout, "login.absoluteTimeout"),
  });
}

/**
 * A session read through the token a rotation replaced (a second tab, or a client whose
 * rotation was stored though its answer was lost) becomes a new, unstored session holding
 * the same data: only the current token may rotate, but a user who signs in must not be
 * refused. The session it was read from lives on with its successor.
 */
function detach(ctx: ManagerContext, state: SessionState): void {
  const { data, changes, cleared } = state;
  Object.assign(state, freshState(ctx, state.context), { data, changes, cleared });
}

/** `session.login(userId, options)`. */
export async function loginSession(ctx: ManagerContext, session: Session<object>, userId: string, options: LoginOptions): Promise<void> {
  checkUserId(userId);
  loginTimeouts(ctx, options); // options are checked before anything changes
  const state = stateOf(session);
  // A login the database refuses or rolls back leaves the session, and so the cookie the
  // client is sent, exactly as they were.
  await orRestore(state, () => bindUser(ctx, state, userId, options));
}

async function bindUser(ctx: ManagerContext, state: SessionState, userId: string, options: LoginOptions): Promise<void> {
  const remember = options.remember === true;
  const policy = loginTimeouts(ctx, options);
  if (state.phase === "stored" && !state.record?.current) detach(ctx, state);
  const wasStored = state.phase === "stored";
  const bind = (rows: SessionRows): Promise<void> =>
    wasStored
      ? replaceToken(ctx, state, { userId, remember, ...policy, ...recordedClient(state.context) }, rows)
      : insertSession(ctx, state, userId, policy, remember, rows);
  const event = wasStored ? "rotated" : "created";
  const limit = ctx.options.maxSessionsPerUser;
  if (limit === null) {
    await bind(ctx.table);
    emit(ctx, event, state.record);
    return;
  }
  // The login and the trimming of the user's oldest sessions commit together, and the
  // logins of one user are serialized, so parallel logins cannot overshoot the limit.
  let revoked: string[];
  try {
    revoked = await ctx.table.transaction(async (tx) => {
      await tx.lockUser(userId);
      await bind(tx.rows);
      return tx.trimUserSessions(userId, state.record?.audience ?? null, limit, state.publicId as string);
    });
  } catch (err) {
    throw err instanceof SessionError ? err : toStoreError(err, "logging in");
  }
  emit(ctx, event, state.record);
  for (const id of revoked) emit(ctx, "revoked", { id, userId, audience: state.record?.audience ?? null }, { reason: "limit" });
}
