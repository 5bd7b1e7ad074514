/**
 * Internal: which `Store` class {@link PgSessionStore} builds on. express-session calls three
 * methods of its own base class on every store (`createSession`, `regenerate`, `load`), so
 * the store takes them from the express-session the application uses: handed over as
 * connect-pg-simple takes it (`{ session }`), else resolved as the application resolves it.
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { SessionConfigError } from "../errors.js";

/** A session middleware's base `Store` class, as {@link PgSessionStore} uses it. */
export type StoreBase = abstract new (...args: never[]) => object;

/** The methods express-session's `Store` gives every store, which the middleware calls. */
export const INHERITED = ["createSession", "regenerate", "load"] as const;

/** Whether `base` is express-session's `Store` (it has the methods the middleware calls). */
export function isExpressStore(base: StoreBase): boolean {
  const proto = base.prototype as Record<string, unknown>;
  return INHERITED.every((name) => typeof proto[name] === "function");
}

/**
 * Where the application resolves its packages from: its entry script's folder and the
 * working directory, then this package's own folder (the same copy in a flat install).
 */
export function applicationDirs(): string[] {
  const dirs: string[] = [];
  if (process.argv[1]) dirs.push(dirname(process.argv[1]));
  dirs.push(process.cwd());
  return dirs;
}

/** express-session's `Store`, resolved from the first of `dirs` (then from pgsession) that has it; null if none does. */
export function resolveExpressStore(dirs: readonly string[]): StoreBase | null {
  const requirers = [...dirs.map((dir) => createRequire(join(dir, "index.js"))), createRequire(import.meta.url)];
  for (const require of requirers) {
    let loaded: unknown;
    try {
      loaded = require("express-session");
    } catch {
      continue;
    }
    const base = (loaded as { Store?: unknown } | null)?.Store;
    if (typeof base === "function" && isExpressStore(base as StoreBase)) return base as StoreBase;
  }
  return null;
}

/**
 * The base class for a store: the `Store` of `handed` (express-session's or
 * @fastify/session's default export) when given, else express-session's as the application
 * resolves it. Throws {@link SessionConfigError} when there is none: a store without
 * express-session's methods would fail only at the first request.
 */
export function findStoreBase(handed: unknown, dirs: readonly string[] = applicationDirs()): StoreBase {
  if (handed !== undefined) {
    const base = (handed as { Store?: unknown } | null)?.Store;
    if (typeof base !== "function") {
      throw new SessionConfigError(
        "session",
        "must be express-session's default export (import session from 'express-session'), or @fastify/session's, as connect-pg-simple takes it",
      );
    }
    return base as StoreBase;
  }
  const found = resolveExpressStore(dirs);
  if (found) return found;
  throw new SessionConfigError(
    "session",
    "PgSessionStore needs express-session's Store (express-session calls its createSession, regenerate and load), " +
      "and express-session could not be resolved from the application. Install it, or hand it over as connect-pg-simple " +
      "takes it: new PgSessionStore({ session, pool }) with `import session from 'express-session'` " +
      "(for @fastify/session: { session: fastifySession }).",
  );
}
