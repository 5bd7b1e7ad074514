/** The test PostgreSQL server: DATABASE_URL, else the local one. Kept apart from `db.ts`, which connects when imported. */
export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
