/**
 * One instance of the revocation-window benchmark (bench/lib/revocation.ts): its own
 * process, pool and read cache over the shared table, driven by the parent's messages.
 * Times are wall-clock milliseconds with sub-millisecond precision
 * (`performance.timeOrigin + performance.now()`), comparable between the processes.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { createSessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";

/** What the parent asks of a worker. */
export type WorkerRequest =
  | { type: "create"; user: string }
  | { type: "warm"; cookie: string }
  | { type: "watch"; cookie: string }
  | { type: "revoke"; id: string }
  | { type: "status" };

/** What a worker answers. */
export type WorkerReply =
  | { type: "ready" }
  | { type: "created"; cookie: string; id: string }
  | { type: "warm"; hits: number }
  | { type: "watching" }
  | { type: "refused"; at: number; polls: number }
  | { type: "revoked"; startedAt: number; committedAt: number }
  | { type: "status"; status: unknown }
  | { type: "error"; message: string };

const now = () => performance.timeOrigin + performance.now();
const send = (reply: WorkerReply) => process.send?.(reply);

const [databaseUrl, schema, table, heartbeat, pollMs, busyLoops] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
pool.on("error", () => {});
const sessions = createSessions({ store: pgStore(pool), schema, table, prune: false, cache: { heartbeat } });
const poll = Number(pollMs);

/** Reads `cookie` until the cache answers it from memory (at most 10 s). */
async function warm(cookie: string): Promise<number> {
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const before = sessions.cacheStatus()?.hits ?? 0;
    await sessions.resolve(cookie);
    if ((sessions.cacheStatus()?.hits ?? 0) > before) return attempt;
    await sleep(1);
  }
  throw new Error("the cache did not answer within 10 s");
}

/** Reads `cookie` every `poll` ms (as requests would) until it is refused; at most 10 s. */
async function watch(cookie: string): Promise<void> {
  send({ type: "watching" });
  const deadline = now() + 10_000;
  for (let polls = 1; now() < deadline; polls++) {
    const at = now();
    if ((await sessions.resolve(cookie)).isNew) return void send({ type: "refused", at, polls });
    await sleep(poll);
  }
  send({ type: "error", message: "the revocation was not seen within 10 s" });
}

/**
 * Keeps the instance busy, as a server answering requests is: `loops` concurrent readers of
 * a session of its own, answered from memory, each yielding to the event loop between reads.
 */
async function keepBusy(loops: number): Promise<void> {
  if (loops === 0) return;
  const session = await sessions.resolve(undefined);
  session.set("n", 0);
  const cookie = ((await sessions.commit(session)) as string).split(";")[0] as string;
  for (let i = 0; i < loops; i++) {
    void (async () => {
      for (;;) {
        await sessions.resolve(cookie).catch(() => null);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
  }
}

process.on("message", (request: WorkerRequest) => {
  const run = async () => {
    switch (request.type) {
      case "create": {
        const session = await sessions.resolve(undefined);
        session.set("n", 0);
        await session.login(request.user);
        const cookie = ((await sessions.commit(session)) as string).split(";")[0] as string;
        return send({ type: "created", cookie, id: session.id });
      }
      case "warm":
        return send({ type: "warm", hits: await warm(request.cookie) });
      case "watch":
        return watch(request.cookie);
      case "revoke": {
        const startedAt = now();
        await sessions.revokeSession(request.id);
        return send({ type: "revoked", startedAt, committedAt: now() });
      }
      case "status":
        return send({ type: "status", status: sessions.cacheStatus() });
    }
  };
  run().catch((err: Error) => send({ type: "error", message: err.message }));
});
process.once("disconnect", () => {
  void sessions
    .close()
    .then(() => pool.end())
    .finally(() => process.exit(0));
});
void keepBusy(Number(busyLoops)).then(() => send({ type: "ready" }));
