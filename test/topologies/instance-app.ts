/**
 * One app instance for the topology tests, run as a child process: plain node:http on
 * `pgsession/node`, imported as users import it (`--conditions=pgsession-source` resolves
 * the package's own name to src/, which tsx runs), with a pool of its own on the shared
 * schema and the automatic prune on. Configured by the environment:
 *
 *   DATABASE_URL, PGSESSION_SCHEMA, INSTANCE (its name; the pool's application_name is
 *   <schema>_<name>), PRUNE_EVERY_MS, PRUNE_BATCH, PRUNE_PAUSE_MS
 *
 * Routes (answers are JSON):
 *
 *   POST /login?user=u                 -> { user, id }
 *   GET  /me                           -> { user, id, isNew, keys }   (keys sorted)
 *   POST /write?key=k                  -> sets k to true
 *   POST /logout                       -> { ok }
 *   POST /admin/revoke-session?id=p    -> { revoked }   (sessions.revokeSession)
 *   POST /admin/revoke-user?user=u     -> { revoked }   (sessions.revokeUserSessions)
 *
 * It reports on stdout, one JSON object a line: `listening` with its port and pid once it
 * serves; `batch` for every prune batch it ran, with `start` (the prune lock was granted)
 * and `end` (the batch's DELETE answered, before COMMIT), both on the wall clock in ms, so
 * that the interval lies within the time this process held the lock; `refused` for every
 * prune tick that found another prune under way (the lock or the lease taken); and
 * `pruned` for every prune that deleted rows (the `pruned` event).
 */
import { createServer } from "node:http";
import pg from "pg";
import { createSessions, type Queryable, type StoreDriver } from "pgsession";
import { withSession } from "pgsession/node";
import { pgStore } from "pgsession/pg";

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`instance-app: ${name} is not set`);
  return value;
};
const name = env("INSTANCE");
const schema = env("PGSESSION_SCHEMA");
const wallClock = () => performance.timeOrigin + performance.now();
const report = (event: string, fields: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ event, name, ...fields })}\n`);

/**
 * The pg driver, observed: every transaction that takes the prune lock and runs a batch is
 * reported, and every one that tried and was refused. The batch's `after` parameter (the
 * key it starts after) is empty for the first batch of a prune, so the reports say where
 * each prune starts.
 */
function observePrune(driver: StoreDriver): StoreDriver {
  const observe = (tx: Queryable): Queryable => {
    let lockedAt: number | null = null;
    return {
      async query(statement, params) {
        const rows = await tx.query(statement, params);
        if (statement.text.includes("pg_try_advisory_xact_lock") && rows[0]?.locked !== true)
          report("refused", { at: wallClock(), by: "lock" });
        if (/pg_(try_)?advisory_xact_lock/.test(statement.text) && rows[0]?.locked === true) lockedAt = wallClock();
        if (statement.name.startsWith("pgsession_prune_lease_claim") && rows.length === 0)
          report("refused", { at: wallClock(), by: "lease" });
        if (statement.name.startsWith("pgsession_prune_batch")) {
          const row = rows[0] ?? {};
          report("batch", {
            start: lockedAt,
            end: wallClock(),
            after: params[params.length - 2],
            deleted: row.deleted,
            scanned: row.scanned,
          });
        }
        return rows as never;
      },
      exec: (script) => tx.exec(script),
    };
  };
  return { ...driver, transaction: (fn) => driver.transaction((tx) => fn(observe(tx))) };
}

const pool = new pg.Pool({ connectionString: env("DATABASE_URL"), max: 6, application_name: `${schema}_${name}` });
const sessions = createSessions({
  store: observePrune(pgStore(pool)),
  schema,
  cookie: { name: "sid" },
  prune: { every: Number(env("PRUNE_EVERY_MS")), batchSize: Number(env("PRUNE_BATCH")), pause: Number(env("PRUNE_PAUSE_MS")) },
});
sessions.on("pruned", ({ deleted, scanned }) => {
  if (deleted > 0) report("pruned", { at: wallClock(), deleted, scanned });
});
// Every instance migrates at start, as apps do; the migration lock makes it happen once.
await sessions.migrate();

const json = (status: number, body: unknown) => ({ status, body });

const server = createServer(
  withSession(sessions, async (req, res, session) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const param = (key: string) => url.searchParams.get(key) ?? "";
    let answer: { status: number; body: unknown };
    switch (`${req.method} ${url.pathname}`) {
      case "POST /login":
        await session.login(param("user"));
        answer = json(200, { user: session.userId, id: session.id });
        break;
      case "GET /me":
        answer = json(200, { user: session.userId, id: session.id, isNew: session.isNew, keys: session.keys().sort() });
        break;
      case "POST /write":
        session.set(param("key"), true);
        answer = json(200, { id: session.id });
        break;
      case "POST /logout":
        await session.logout();
        answer = json(200, { ok: true });
        break;
      case "POST /admin/revoke-session":
        answer = json(200, { revoked: await sessions.revokeSession(param("id")) });
        break;
      case "POST /admin/revoke-user":
        answer = json(200, { revoked: await sessions.revokeUserSessions(param("user")) });
        break;
      default:
        answer = json(404, { error: "not found" });
    }
    res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
  }),
);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  report("listening", { port: typeof address === "object" && address !== null ? address.port : null, pid: process.pid });
});
