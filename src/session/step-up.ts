/**
 * Step-up checks on the time of the last login (`session.authenticatedAt`), for actions
 * that want a fresh password or second factor: changing the e-mail, deleting the account.
 * @module
 */
import { parseDuration, type Duration } from "../lib/duration.js";
import { SessionReauthRequiredError } from "../errors.js";
import type { Session } from "./session.js";

/**
 * Whether the session's user logged in within `maxAge` of `now` (default: the current
 * time). False for an anonymous session.
 *
 * @example
 * ```ts
 * if (!isRecentLogin(session, "10m")) return redirect("/login?step-up");
 * ```
 */
export function isRecentLogin(session: Pick<Session, "authenticatedAt" | "userId">, maxAge: Duration, now: Date = new Date()): boolean {
  const maxAgeMs = parseDuration(maxAge, "maxAge");
  const at = session.userId === null ? null : session.authenticatedAt;
  return at !== null && now.getTime() - at.getTime() <= maxAgeMs;
}

/**
 * Throws {@link SessionReauthRequiredError} unless the session's user logged in within
 * `maxAge` (a login is `session.login()`; rotations do not count). `now` defaults to the
 * current time; pass the clock you gave `createSessions` in tests.
 *
 * @example
 * ```ts
 * import { requireRecentLogin } from "pgsession";
 * requireRecentLogin(session, "10m"); // throws unless logged in during the last 10 minutes
 * await deleteAccount(session.userId!);
 * ```
 */
export function requireRecentLogin(session: Pick<Session, "authenticatedAt" | "userId">, maxAge: Duration, now: Date = new Date()): void {
  if (!isRecentLogin(session, maxAge, now)) {
    throw new SessionReauthRequiredError(session.userId === null ? null : session.authenticatedAt, parseDuration(maxAge, "maxAge"));
  }
}
