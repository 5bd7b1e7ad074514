/**
 * The SQL side of pgsession on the embedded PGlite database: Row-Level Security through
 * sessions.transaction, session_handler in SQL, encryption at rest and lifecycle events.
 * Run with `npm run example:sql-side`.
 */
import { randomBytes } from "node:crypto";
import { createSessions } from "pgsession";
import { pgliteStore } from "pgsession/pglite";

const store = pgliteStore();
const sessions = createSessions({ store, encrypt: { keys: [{ id: "k1", key: randomBytes(32) }] }, maxSessionsPerUser: 5 });
await sessions.migrate();
sessions.on("created", (e) => console.log("event created", e.id, e.userId));
sessions.on("revoked", (e) => console.log("event revoked", e.id, e.reason));

// A table that each user sees only their part of. The application role is not a superuser.
await store.exec(`
  CREATE ROLE app_user NOLOGIN;
  CREATE TABLE notes (id serial PRIMARY KEY, owner text NOT NULL DEFAULT pgsession.user_id(), body text NOT NULL);
  ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
  CREATE POLICY own_notes ON notes USING (owner = pgsession.user_id()) WITH CHECK (owner = pgsession.user_id());
  GRANT USAGE ON SCHEMA pgsession TO app_user;
  GRANT SELECT, INSERT ON notes TO app_user;
  GRANT USAGE ON SEQUENCE notes_id_seq TO app_user;`);

const alice = await sessions.resolve(undefined);
await alice.login("alice");
const bob = await sessions.resolve(undefined);
await bob.login("bob");

for (const [session, body] of [
  [alice, "alice's note"],
  [bob, "bob's note"],
] as const) {
  await sessions.transaction(session, async (sql) => {
    await sql.query("SET LOCAL ROLE app_user");
    await sql`INSERT INTO notes (body) VALUES (${body})`;
  });
}
const seen = await sessions.transaction(alice, async (sql) => {
  await sql.query("SET LOCAL ROLE app_user");
  return sql`SELECT owner, body FROM notes`;
});
console.log("alice sees", seen);

// session_handler: a session made in SQL, used from TypeScript.
const [row] = await store.query({ name: "", text: "SELECT pgsession.session_handler(NULL) AS token" }, []);
const fromSql = await sessions.resolveToken(row?.token as string);
console.log("session made in SQL resolves in TypeScript:", !fromSql.isNew, fromSql.id);

// Encryption: what the table holds.
alice.set("secret", "the plans");
await sessions.commit(alice);
const [stored] = await store.query({ name: "", text: "SELECT data::text AS data FROM pgsession.sessions WHERE id = $1" }, [alice.id]);
console.log("stored data column:", String(stored?.data).slice(0, 80), "...");

await sessions.close();
