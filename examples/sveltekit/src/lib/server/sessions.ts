/**
 * The session manager: PostgreSQL at DATABASE_URL, in the schema PGSESSION_SCHEMA if set.
 * Migrate before the app starts (`npx pgsession migrate`), not in a hook.
 */
import { env } from "$env/dynamic/private";
import { createSessions } from "pgsession";
import { pgStore } from "pgsession/pg";

export type ExampleData = { visits: number };

export const sessions = createSessions<ExampleData>({
  store: pgStore({ connectionString: env.DATABASE_URL }),
  ...(env.PGSESSION_SCHEMA && { schema: env.PGSESSION_SCHEMA }),
});
