/**
 * A user's sessions: listing them, revoking one or all.
 * @module
 */
import type { SessionSummary } from "../session/table.js";
import { emit, type ManagerContext } from "./context.js";

/** A session as listed for its user. */
export interface UserSession extends SessionSummary {
  /** True for the session passed as `current`. */
  current: boolean;
}

/** The audience a per-user call works in: the one asked for; by default this instance's (null: all). */
function audienceOf(ctx: ManagerContext, options: { audience?: string | null }): string | null {
  return options.audience === undefined ? ctx.options.audience : options.audience;
}

/** Live sessions of a user, most recently seen first, with `current` marking the one whose public id is `currentId`. */
export async function listUserSessions(
  ctx: ManagerContext,
  userId: string,
  options: { audience?: string | null },
  currentId: string | undefined,
): Promise<UserSession[]> {
  const rows = await ctx.table.listByUser(userId, audienceOf(ctx, options));
  return rows.map((row) => ({ ...row, current: row.id === currentId }));
}

/** Revokes one session by its public id; whether it existed. */
export async function revokeSession(ctx: ManagerContext, publicId: string): Promise<boolean> {
  if (typeof publicId !== "string" || publicId.length === 0 || publicId.length > 64) return false;
  const removed = await ctx.table.revokeById(publicId);
  if (removed) emit(ctx, "revoked", removed, { reason: "revoked" });
  return removed !== null;
}

/** Revokes a user's sessions (all, all but `exceptId`, or those issued before `issuedBefore`); the count. */
export async function revokeUserSessions(
  ctx: ManagerContext,
  userId: string,
  options: { audience?: string | null; issuedBefore?: Date },
  exceptId: string | null,
): Promise<number> {
  const removed = await ctx.table.revokeByUser(userId, {
    audience: audienceOf(ctx, options),
    exceptId,
    issuedBefore: options.issuedBefore ?? null,
  });
  for (const session of removed) emit(ctx, "revoked", session, { reason: "revoked" });
  return removed.length;
}
