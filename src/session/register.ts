/**
 * The one place an application types its session data, for every adapter at once (as
 * Lucia's `Register`): `createSessions()`, Express's `req.session`, Fastify's
 * `request.session`, Hono's `c.get("session")` and the node and fetch handlers all use
 * the data type registered here, so no route needs a cast.
 * @module
 */
import type { SessionData } from "./data.js";

/**
 * Declaration-merging point: register your session data type once, in any `.ts` file of
 * the application that TypeScript compiles.
 *
 * @example
 * ```ts
 * declare module "pgsession" {
 *   interface Register {
 *     data: { visits: number; cart: string[] };
 *   }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by the application's declaration merging
export interface Register {}

/**
 * The session data type registered in {@link Register}, or `Record<string, unknown>`
 * when none is.
 *
 * @example
 * ```ts
 * const visits = (session: Session<RegisteredSessionData>) => session.get("visits");
 * ```
 */
export type RegisteredSessionData = Register extends {
  /** The session data type the application registered. */
  data: infer Data extends object;
}
  ? Data
  : SessionData;
