/**
 * Compile-only checks of the error union: `npm test` type-checks this file, and every
 * `@ts-expect-error` below must stay an error.
 */
import { SessionError, SessionManager, Sessions, type AnySessionError } from "../../src/index.js";

export function statusOf(err: AnySessionError): number {
  switch (err.code) {
    case "ERR_SESSION_STORE": {
      // Narrowed to SessionStoreError: its SQLSTATE is typed.
      const state: string | undefined = err.sqlState;
      return state === "57P01" ? 503 : 503;
    }
    case "ERR_SESSION_DATA_TOO_LARGE":
      return err.limit > 0 ? 413 : 413;
    case "ERR_SESSION_CONFIG":
      // @ts-expect-error only a store error has a SQLSTATE
      return err.sqlState ? 500 : 500;
    default:
      return 500;
  }
}

export function narrow(err: unknown): number | null {
  return err instanceof SessionError ? statusOf(err as AnySessionError) : null;
}

// The old name stays an alias of the class.
export const sameClass: typeof SessionManager = Sessions;
