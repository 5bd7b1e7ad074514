/**
 * vitest globalSetup: one private pgbouncer for the whole test run (see `pgbouncer.ts`),
 * stopped by its pid at the end. The suites read its URLs with `inject("pgbouncer")`
 * (through `pooler.ts`); when it cannot start, they read why, and skip or (with
 * PGSESSION_REQUIRE_POSTGRES=1) fail.
 */
import type { TestProject } from "vitest/node";
import { DATABASE_URL } from "./database-url.js";
import { findPgbouncer, startPgbouncer } from "./pgbouncer.js";

/** What the suites receive: the alias URLs, or why there are none. */
export interface ProvidedPgbouncer {
  urls: Record<string, string> | null;
  reason: string | null;
}

declare module "vitest" {
  export interface ProvidedContext {
    pgbouncer: ProvidedPgbouncer;
  }
}

/** The aliases of the test database the suites use (all in front of DATABASE_URL's database). */
export const POOLED_DATABASES = [
  // Transaction mode, as pgbouncer is run in front of many app instances.
  { alias: "pooled", poolMode: "transaction", poolSize: 8 },
  // Transaction mode with one server connection: every client shares it (the leak tests).
  { alias: "pooled_single", poolMode: "transaction", poolSize: 1 },
  // Session mode: one server connection per client for as long as the client stays.
  { alias: "pooled_session", poolMode: "session", poolSize: 4 },
] as const;

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const binary = findPgbouncer();
  if (binary === null) {
    project.provide("pgbouncer", {
      urls: null,
      reason: "pgbouncer is not installed (Debian: apt-get install pgbouncer; or set PGBOUNCER)",
    });
    return undefined;
  }
  try {
    const bouncer = await startPgbouncer({ upstream: DATABASE_URL, databases: POOLED_DATABASES }, binary);
    project.provide("pgbouncer", { urls: bouncer.urls, reason: null });
    return () => bouncer.stop();
  } catch (err) {
    project.provide("pgbouncer", { urls: null, reason: `${binary} did not start: ${(err as Error).message}` });
    return undefined;
  }
}
