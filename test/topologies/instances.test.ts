/**
 * Three app instances on one database, each a real child process (instance-app.ts: plain
 * node:http on pgsession/node, its own pool and loopback port, the automatic prune on),
 * all on one schema of the real PostgreSQL server: what one instance writes or revokes,
 * the others see on their next request; parallel writes to one session from all three keep
 * every key; and of the three prunes one runs at a time, also when the instance holding
 * the prune lock is killed in the middle of a batch.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppProcess, type AppProcess, type AppReport } from "../support/app-process.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";

const NAMES = ["A", "B", "C"] as const;
type Name = (typeof NAMES)[number];
/** The automatic prune of every instance: small batches with a pause, so that one prune spans many ticks of the others. */
const PRUNE = { everyMs: 250, batch: 100, pauseMs: 40 };
/** Expired rows seeded for each prune test: 30 batches, over a second of pruning. */
const SEEDED = 3_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const wallClock = () => performance.timeOrigin + performance.now();

/** Polls `condition` every `everyMs` until it holds or `limitMs` has passed; true once it holds. */
async function eventually(condition: () => boolean | Promise<boolean>, limitMs: number, everyMs = 25): Promise<boolean> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    if (await condition()) return true;
    await sleep(everyMs);
  }
  return condition();
}

interface Instance {
  name: Name;
  process: AppProcess;
  base: string;
}

interface Answer {
  status: number;
  body: any;
  /** The session cookie the answer set, "" when it cleared it, null when it set none. */
  cookie: string | null;
}

/** One request to an instance, with the session cookie `cookie` when given; bounded in time. */
async function send(instance: Instance, method: string, path: string, cookie?: string | null): Promise<Answer> {
  const res = await fetch(instance.base + path, {
    method,
    headers: cookie ? { cookie: `sid=${cookie}` } : {},
    signal: AbortSignal.timeout(10_000),
  });
  let set: string | null = null;
  for (const line of res.headers.getSetCookie()) {
    const match = /^sid=([^;]*)/.exec(line);
    if (match) set = /max-age=0/i.test(line) ? "" : (match[1] ?? "");
  }
  return { status: res.status, body: await res.json(), cookie: set };
}

/** A prune batch one instance reported: it held the prune lock from `start` to `end` at least. */
interface Batch {
  name: Name;
  start: number;
  end: number;
  after: string;
  deleted: number;
}

/** One prune of one instance: its batches, from the one that started at the first key. */
interface Run {
  name: Name;
  batches: Batch[];
  start: number;
  end: number;
}

function batchesOf(instances: readonly Instance[]): Batch[] {
  return instances
    .flatMap((instance) => instance.process.reports.filter((report) => report.event === "batch").map((report) => batchOf(report)))
    .sort((a, b) => a.start - b.start);
}

function batchOf(report: AppReport): Batch {
  return {
    name: report.name as Name,
    start: report.start as number,
    end: report.end as number,
    after: report.after as string,
    deleted: report.deleted as number,
  };
}

/** Each instance's batches grouped into its prunes (a prune's first batch starts after ""). */
function runsOf(batches: readonly Batch[]): Run[] {
  const runs: Run[] = [];
  const current = new Map<Name, Run>();
  for (const batch of batches) {
    let run = current.get(batch.name);
    if (run === undefined || batch.after === "") {
      run = { name: batch.name, batches: [], start: batch.start, end: batch.end };
      runs.push(run);
      current.set(batch.name, run);
    }
    run.batches.push(batch);
    run.end = batch.end;
  }
  return runs;
}

/** Pairs of batches of different instances whose lock intervals overlap. */
function overlappingBatches(batches: readonly Batch[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < batches.length; i++) {
    for (let j = i + 1; j < batches.length && batches[j]!.start < batches[i]!.end; j++) {
      if (batches[j]!.name !== batches[i]!.name) found.push(`${batches[i]!.name} and ${batches[j]!.name} at ${batches[j]!.start}`);
    }
  }
  return found;
}

/** Prunes of one instance during which another instance ran a batch. */
function interleavedRuns(runs: readonly Run[], batches: readonly Batch[]): string[] {
  const found: string[] = [];
  for (const run of runs) {
    const intruders = batches.filter((batch) => batch.name !== run.name && batch.start > run.start && batch.start < run.end);
    if (intruders.length > 0) {
      found.push(
        `${run.name}'s prune (${run.batches.length} batches, ${Math.round(run.end - run.start)} ms) had ${intruders.length} batches of ` +
          `${[...new Set(intruders.map((b) => b.name))].join(", ")} in it`,
      );
    }
  }
  return found;
}

describe.skipIf(!hasPostgres)("three app instances (processes) on one database", () => {
  const schema = uniqueSchema("instances");
  const lockKey = `pgsession:prune:${schema}.sessions`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
  admin.on("error", () => {}); // the owner listens to idle-connection errors
  const started: AppProcess[] = [];
  const instances = {} as Record<Name, Instance>;
  const count = async (where: string): Promise<number> =>
    (await admin.query(`SELECT count(*)::int AS n FROM "${schema}".sessions WHERE ${where}`)).rows[0].n as number;
  const expired = () => count("idle_expires_at <= now()");
  const live = () => count("idle_expires_at > now()");
  /** The application_name (the instance) and backend pid holding the prune lock now, if any. */
  const lockHolder = async (): Promise<{ app: string; pid: number } | null> => {
    const { rows } = await admin.query(
      `SELECT a.application_name AS app, l.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid)
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.objid::bigint = (hashtext($1::text)::bigint & 4294967295)`,
      [lockKey],
    );
    return (rows[0] as { app: string; pid: number } | undefined) ?? null;
  };
  /** Inserts `n` sessions that expired a day ago, keyed `x<prefix><n>` (no cookie can reach them). */
  const seedExpired = (prefix: string, n: number) =>
    admin.query(
      `INSERT INTO "${schema}".sessions (id, token_hash, created_at, last_seen_at, idle_timeout, touch_after,
                                         idle_expires_at, absolute_expires_at)
       SELECT 'x' || $1::text || lpad(i::text, 6, '0'), sha256(convert_to($1::text || i, 'UTF8')),
              now() - interval '2 days', now() - interval '2 days', interval '1 day', interval '1 hour',
              now() - interval '1 day', now() - interval '1 day'
         FROM generate_series(1, $2::int) AS i`,
      [prefix, n],
    );

  beforeAll(async () => {
    const env = {
      ...process.env,
      DATABASE_URL,
      PGSESSION_SCHEMA: schema,
      PRUNE_EVERY_MS: String(PRUNE.everyMs),
      PRUNE_BATCH: String(PRUNE.batch),
      PRUNE_PAUSE_MS: String(PRUNE.pauseMs),
    };
    // All three start (and migrate) at once, as a deploy starts them.
    const processes = await Promise.allSettled(
      NAMES.map((name) => startAppProcess("test/topologies/instance-app.ts", { ...env, INSTANCE: name }, 60_000)),
    );
    for (const result of processes) if (result.status === "fulfilled") started.push(result.value);
    for (const result of processes) if (result.status === "rejected") throw result.reason;
    NAMES.forEach((name, i) => {
      const process = started[i]!;
      const listening = process.reports.find((report) => report.event === "listening")!;
      instances[name] = { name, process, base: `http://127.0.0.1:${String(listening.port)}` };
    });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(started.map((process) => process.stop("SIGKILL")));
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it("a login on A is read on B and C", async () => {
    const { A, B, C } = instances;
    const login = await send(A, "POST", "/login?user=ada");
    expect(login.status).toBe(200);
    expect(login.cookie).toBeTruthy();
    const cookie = login.cookie!;
    expect((await send(A, "POST", "/write?key=seen-on-a", cookie)).status).toBe(200);
    for (const other of [B, C]) {
      const me = await send(other, "GET", "/me", cookie);
      expect(me.body, other.name).toEqual({ user: "ada", id: login.body.id, isNew: false, keys: ["seen-on-a"] });
    }
  });

  /** Logs `user` in on A and checks that A and B both know the session; its cookie and public id. */
  async function loggedIn(user: string, via: Instance = instances.A): Promise<{ cookie: string; id: string }> {
    const login = await send(via, "POST", `/login?user=${user}`);
    expect(login.status).toBe(200);
    for (const instance of [instances.A, instances.B]) {
      expect((await send(instance, "GET", "/me", login.cookie)).body).toMatchObject({ user, id: login.body.id, isNew: false });
    }
    return { cookie: login.cookie!, id: login.body.id as string };
  }

  /** The next request with `cookie` on A and on B finds no session: a new visitor. */
  async function refusedOnAAndB(cookie: string): Promise<void> {
    for (const instance of [instances.A, instances.B]) {
      const me = await send(instance, "GET", "/me", cookie);
      expect(me.status, instance.name).toBe(200);
      expect(me.body, instance.name).toMatchObject({ user: null, isNew: true, keys: [] });
    }
  }

  it("a session revoked on C (revokeSession) is refused by A and B on their next request", async () => {
    const session = await loggedIn("bea");
    expect((await send(instances.C, "POST", `/admin/revoke-session?id=${session.id}`)).body).toEqual({ revoked: true });
    await refusedOnAAndB(session.cookie);
  });

  it("a user's sessions revoked on C (revokeUserSessions) are refused by A and B on their next request", async () => {
    const phone = await loggedIn("cyd", instances.A);
    const laptop = await loggedIn("cyd", instances.B);
    expect((await send(instances.C, "POST", "/admin/revoke-user?user=cyd")).body).toEqual({ revoked: 2 });
    await refusedOnAAndB(phone.cookie);
    await refusedOnAAndB(laptop.cookie);
  });

  it("a logout on C is refused by A and B on their next request", async () => {
    const session = await loggedIn("dov");
    const logout = await send(instances.C, "POST", "/logout", session.cookie);
    expect(logout.status).toBe(200);
    expect(logout.cookie).toBe("");
    await refusedOnAAndB(session.cookie);
  });

  it("parallel writes from A, B and C to one session, 20 keys each, lose no key", async () => {
    const login = await send(instances.A, "POST", "/login?user=eve");
    const cookie = login.cookie!;
    const keys = NAMES.flatMap((name) => Array.from({ length: 20 }, (_, i) => `${name}${String(i).padStart(2, "0")}`));
    // All 60 requests at once, each to the instance its key names.
    const answers = await Promise.all(keys.map((key) => send(instances[key[0] as Name], "POST", `/write?key=${key}`, cookie)));
    expect(answers.map((answer) => answer.status)).toEqual(keys.map(() => 200));
    expect(answers.every((answer) => answer.cookie === null)).toBe(true);
    for (const name of NAMES) {
      expect((await send(instances[name], "GET", "/me", cookie)).body).toEqual({
        user: "eve",
        id: login.body.id,
        isNew: false,
        keys: keys.sort(),
      });
    }
  });

  /** The `refused` reports (a prune tick that found another prune under way) of instances other than `name`, between `from` and `to`. */
  const refusalsBesides = (name: Name, from: number, to: number) =>
    Object.values(instances)
      .filter((instance) => instance.name !== name)
      .flatMap((instance) => instance.process.reports)
      .filter((report) => report.event === "refused" && (report.at as number) > from && (report.at as number) < to);

  const describeRuns = (runs: readonly Run[]) =>
    runs.map((run) => `${run.name}: ${run.batches.length} batches in ${Math.round(run.end - run.start)} ms`).join("; ");

  it("one prune runs at a time across the instances: no batch, and no prune, of one overlaps another's", async () => {
    // Leftovers of the tests above (none expected) are pruned first.
    expect(await eventually(async () => (await expired()) === 0, 10_000)).toBe(true);
    const liveBefore = await live();
    const seededAt = wallClock();
    await seedExpired("a", SEEDED);
    expect(await eventually(async () => (await expired()) === 0, 20_000, 50)).toBe(true);
    const prunedAt = wallClock();
    expect(await live()).toBe(liveBefore);

    const batches = batchesOf(Object.values(instances)).filter((batch) => batch.end > seededAt);
    const runs = runsOf(batches);
    const working = runs.filter((run) => run.batches.some((batch) => batch.deleted > 0));
    console.log(
      `prune of ${SEEDED} expired rows (batches of ${PRUNE.batch}, ${PRUNE.pauseMs} ms apart, ticks every ${PRUNE.everyMs} ms ± 20 % on 3 instances): ` +
        `${Math.round(prunedAt - seededAt)} ms; ${batches.length} batches in ${runs.length} prunes; ${describeRuns(working)}`,
    );
    expect(batches.reduce((sum, batch) => sum + batch.deleted, 0)).toBe(SEEDED);
    expect(overlappingBatches(batches)).toEqual([]);
    expect(interleavedRuns(runs, batches)).toEqual([]);
    // The others did try meanwhile, and were turned away.
    const longest = working.reduce((a, b) => (b.end - b.start > a.end - a.start ? b : a));
    expect(refusalsBesides(longest.name, longest.start, longest.end).length).toBeGreaterThan(0);
  });

  it("when the instance pruning is killed (SIGKILL) in the middle of a batch, another one prunes the rest", async () => {
    expect(await eventually(async () => (await expired()) === 0, 10_000)).toBe(true);
    const liveBefore = await live();
    const seededAt = wallClock();
    await seedExpired("b", SEEDED);
    // A row in the middle stays locked by another transaction: the batch that reaches it
    // waits, holding the prune lock, until the instance running it has been killed.
    const blocker = await admin.connect();
    let blocking = true;
    try {
      await blocker.query("BEGIN");
      await blocker.query(`SELECT id FROM "${schema}".sessions WHERE id = 'xb001500' FOR UPDATE`);
      // The batch that waits on that row (its instance's application_name, its backend).
      const seen: { waiting?: { app: string; pid: number } | undefined } = {};
      const found = await eventually(async () => {
        const { rows } = await admin.query(
          `SELECT a.application_name AS app, a.pid FROM pg_stat_activity a
            WHERE a.application_name LIKE $1 AND a.wait_event_type = 'Lock' AND a.query LIKE '%DELETE FROM%'`,
          [`${schema}\\_%`],
        );
        seen.waiting = rows[0] as { app: string; pid: number } | undefined;
        return seen.waiting !== undefined;
      }, 10_000);
      expect(found, "no prune batch came to wait on the locked row").toBe(true);
      const holder = seen.waiting!;
      expect(await lockHolder()).toEqual(holder);
      const victim = instances[holder.app.slice(schema.length + 1) as Name];
      const killedAt = wallClock();
      await victim.process.stop("SIGKILL");
      const victimDeleted = batchesOf([victim])
        .filter((batch) => batch.end > seededAt)
        .reduce((sum, batch) => sum + batch.deleted, 0);
      expect(victimDeleted).toBeGreaterThan(0);

      // Its backend, blocked, does not notice yet that its client is gone (unless the server
      // checks the socket during queries); once the row is free it finds out, rolls its batch
      // back and ends, and the prune lock goes with it.
      const checksClient = (await admin.query("SHOW client_connection_check_interval")).rows[0].client_connection_check_interval !== "0";
      if (!checksClient) expect(await lockHolder()).toEqual(holder);
      await blocker.query("COMMIT");
      blocking = false;
      const backendGone = await eventually(
        async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [holder.pid])).rowCount === 0,
        10_000,
      );
      expect(backendGone).toBe(true);
      // Its batch was rolled back: the row it waited for, and the rest of that batch, are still there.
      expect(await count("id = 'xb001500'")).toBe(1);
      expect(await expired()).toBe(SEEDED - victimDeleted);

      // The survivors take over once the dead prune's lease has expired.
      expect(await eventually(async () => (await expired()) === 0, 20_000, 50)).toBe(true);
      const doneAt = wallClock();
      expect(await live()).toBe(liveBefore);
      const batches = batchesOf(Object.values(instances)).filter((batch) => batch.end > seededAt);
      const runs = runsOf(batches);
      const after = batches.filter((batch) => batch.start > killedAt && batch.deleted > 0);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((batch) => batch.name !== victim.name)).toBe(true);
      expect(after.reduce((sum, batch) => sum + batch.deleted, 0)).toBe(SEEDED - victimDeleted);
      console.log(
        `${victim.name} killed ${Math.round(killedAt - seededAt)} ms into the prune, after deleting ${victimDeleted} rows; ` +
          `${after[0]!.name} took over ${Math.round(after[0]!.start - killedAt)} ms after the kill and finished ` +
          `${Math.round(doneAt - killedAt)} ms after it; ${describeRuns(runs.filter((run) => run.batches.some((batch) => batch.deleted > 0)))}`,
      );
      expect(overlappingBatches(batches)).toEqual([]);
      expect(interleavedRuns(runs, batches)).toEqual([]);
      // No pool kept the lock: with the survivors idle, nobody holds it.
      expect(await eventually(async () => (await lockHolder()) === null, 5_000)).toBe(true);
    } finally {
      if (blocking) await blocker.query("ROLLBACK").catch(() => {});
      blocker.release();
    }
  });
});
