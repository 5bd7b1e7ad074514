/**
 * `startPruning`: its timer never keeps the process alive, it pauses between batches by
 * default, the stop function and `sessions.close()` stop it, and of several instances on
 * one table only the holder of the prune lock deletes anything (the others' ticks give up
 * at once).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions, type Sessions } from "../../src/index.js";
import type { Queryable, StoreDriver } from "../../src/driver.js";
import { pgStore } from "../../src/store/pg.js";
import { DATABASE_URL, hasPostgres, pgliteTarget, uniqueSchema, type TestTarget } from "../support/db.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 20 ms, at most `tries` times; true once it holds. */
async function eventually(condition: () => boolean | Promise<boolean>, tries = 250): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return true;
    await sleep(20);
  }
  return condition();
}

/**
 * Runs `code` (an ES module) in a child node with tsx from the repo root. The child must
 * print `marker` within `startLimitMs` (loading PGlite can be slow on a busy machine) and
 * then exit within `exitLimitMs`; past either bound this child, and only it, is killed by pid.
 */
function runChild(code: string, marker: string, startLimitMs: number, exitLimitMs: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; killed: "before marker" | "after marker" | null }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      let killed: "before marker" | "after marker" | null = null;
      const kill = (when: "before marker" | "after marker") => () => {
        killed = when;
        if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
      };
      let guard = setTimeout(kill("before marker"), startLimitMs);
      child.stdout.on("data", (chunk: Buffer) => {
        const seen = stdout.includes(marker);
        stdout += chunk.toString();
        if (!seen && stdout.includes(marker) && killed === null) {
          clearTimeout(guard);
          guard = setTimeout(kill("after marker"), exitLimitMs);
        }
      });
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("error", (err) => {
        clearTimeout(guard);
        reject(err);
      });
      child.on("exit", (exitCode) => {
        clearTimeout(guard);
        resolve({ code: exitCode, stdout, stderr, killed });
      });
    },
  );
}

describe("startPruning's timer does not keep the process alive [pglite]", () => {
  it("a process that only creates sessions and starts pruning every hour exits by itself", async () => {
    const code = `
      const { createSessions } = await import("./src/index.ts");
      const { pgliteStore } = await import("./src/store/pglite.ts");
      const sessions = createSessions({ store: pgliteStore() });
      const stop = sessions.startPruning({ every: "1h" });
      console.log(typeof stop === "function" ? "pruning started" : "no stop function");
    `;
    const result = await runChild(code, "pruning started", 60_000, 20_000);
    expect(result.killed, `the child was killed ${result.killed}; stdout: ${result.stdout}; stderr: ${result.stderr}`).toBeNull();
    expect(result.stdout).toContain("pruning started");
    expect(result.code, result.stderr).toBe(0);
  }, 90_000);
});

describe("stopping startPruning [pglite]", () => {
  let target: TestTarget;
  let driver: StoreDriver;
  const schema = uniqueSchema("prs");
  beforeAll(async () => {
    target = pgliteTarget();
    driver = await target.open();
    await createSessions({ store: driver, schema }).migrate();
  });
  afterAll(async () => {
    await target.sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await target.end();
  });

  // Ticks never overlap, so while a `pruned` listener runs no other prune is in flight:
  // stopping from inside it leaves no tick that could still report afterwards.
  it("the function startPruning returns stops the ticks", async () => {
    const sessions = createSessions({ store: driver, schema });
    let events = 0;
    const timer: { stop?: () => void } = {};
    sessions.on("pruned", () => {
      events += 1;
      if (events === 3) timer.stop?.();
    });
    timer.stop = sessions.startPruning({
      every: 50,
      onError: (err) => {
        throw err;
      },
    });
    expect(await eventually(() => events >= 3)).toBe(true);
    await sleep(300);
    expect(events).toBe(3);
    await sessions.close();
  });

  it("sessions.close() stops every pruning timer of the instance", async () => {
    const sessions = createSessions({ store: driver, schema });
    let events = 0;
    let closing: Promise<void> | undefined;
    sessions.on("pruned", () => {
      events += 1;
      if (events === 4) closing = sessions.close(); // the driver is the target's: close() leaves it open
    });
    sessions.startPruning({ every: 50 });
    sessions.startPruning({ every: "60ms" });
    expect(await eventually(() => events >= 4)).toBe(true);
    await closing;
    await sleep(300);
    expect(events).toBe(4);
    // The database is still usable: close() only stopped the timers.
    expect(await target.sql("SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });
});

/** A driver that runs every statement on `driver` and records when each prune batch ran. */
function timingBatches(driver: StoreDriver, at: number[]): StoreDriver {
  const observe = (tx: Queryable): Queryable => ({
    async query(statement, params) {
      if (statement.name.startsWith("pgsession_prune_batch_")) at.push(performance.now());
      return tx.query(statement, params);
    },
    exec: (script) => tx.exec(script),
  });
  return { ...driver, transaction: (fn) => driver.transaction((tx) => fn(observe(tx))) };
}

describe("startPruning's pause between batches [pglite]", () => {
  let target: TestTarget;
  let driver: StoreDriver;
  const schema = uniqueSchema("prp");
  beforeAll(async () => {
    target = pgliteTarget();
    driver = await target.open();
    const old = createSessions({ store: driver, schema, now: () => new Date(Date.now() - 30 * 86_400_000) });
    await old.migrate();
    for (let i = 0; i < 8; i++) {
      const session = await old.resolve(undefined);
      session.set("i", i);
      await old.commit(session);
    }
  });
  afterAll(async () => {
    await target.sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await target.end();
  });

  /** The first tick of a background pruner (`batchSize` 2): how many it deleted, and when each batch ran. */
  async function firstTick(pause?: number | string): Promise<{ at: number[]; deleted: number }> {
    const at: number[] = [];
    const sessions = createSessions({ store: timingBatches(driver, at), schema });
    const pruned = new Promise<number>((resolve) => sessions.on("pruned", ({ deleted }) => resolve(deleted)));
    const errors: unknown[] = [];
    const stop = sessions.startPruning({
      every: 50,
      batchSize: 2,
      ...(pause !== undefined && { pause }),
      onError: (err) => errors.push(err),
    });
    const deleted = await pruned;
    stop();
    await sessions.close();
    expect(errors).toEqual([]);
    return { at, deleted };
  }

  it("waits 20 ms between batches by default, and not at all with pause 0", async () => {
    const paused = await firstTick();
    expect(paused.deleted).toBe(8);
    // Four full batches and the empty one that ends the scan. A lower bound only: a pause
    // never ends early, however busy the machine.
    expect(paused.at).toHaveLength(5);
    for (let i = 1; i < paused.at.length; i++) expect(paused.at[i]! - paused.at[i - 1]!).toBeGreaterThanOrEqual(18);

    const old = createSessions({ store: driver, schema, now: () => new Date(Date.now() - 30 * 86_400_000) });
    for (let i = 0; i < 8; i++) {
      const session = await old.resolve(undefined);
      session.set("i", i);
      await old.commit(session);
    }
    const unpaused = await firstTick(0);
    expect(unpaused.deleted).toBe(8);
    expect(unpaused.at).toHaveLength(5);
  });
});

/** A driver that runs every statement on `driver` and records what each prune lock attempt answered. */
function observingLocks(driver: StoreDriver, answers: boolean[]): StoreDriver {
  const observe = (tx: Queryable): Queryable => ({
    async query(statement, params) {
      const rows = await tx.query(statement, params);
      if (statement.text.includes("pg_try_advisory_xact_lock")) answers.push(rows[0]?.locked === true);
      return rows as never;
    },
    exec: (script) => tx.exec(script),
  });
  return { ...driver, transaction: (fn) => driver.transaction((tx) => fn(observe(tx))) };
}

describe.skipIf(!hasPostgres)("startPruning under another holder of the prune lock [pg]", () => {
  const schema = uniqueSchema("prl");
  const lockKey = `pgsession:prune:${schema}.sessions`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  admin.on("error", () => {}); // the owner listens to idle-connection errors (backends are killed on purpose)
  const pools: pg.Pool[] = [];
  const instances: Sessions[] = [];
  const open = (options: Parameters<typeof createSessions>[0] = {}, wrap = (d: StoreDriver) => d) => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    pool.on("error", () => {}); // the owner listens to idle-connection errors (backends are killed on purpose)
    pools.push(pool);
    const sessions = createSessions({ ...options, store: wrap(pgStore(pool)), schema });
    instances.push(sessions);
    return sessions;
  };
  const count = async (where: string) =>
    (await admin.query(`SELECT count(*)::int AS n FROM "${schema}".sessions WHERE ${where}`)).rows[0].n as number;

  afterAll(async () => {
    for (const sessions of instances) await sessions.close();
    await Promise.all(pools.map((pool) => pool.end()));
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it("a tick deletes nothing while another connection holds the lock, and the next tick after its release deletes the expired rows", async () => {
    const past = () => new Date(Date.now() - 30 * 86_400_000);
    const old = open({ now: past });
    await old.migrate();
    for (let i = 0; i < 3; i++) {
      const session = await old.resolve(undefined);
      session.set("i", i);
      await old.commit(session);
    }
    const answers: boolean[] = [];
    const pruner = open({}, (driver) => observingLocks(driver, answers));
    const live = await pruner.resolve(undefined);
    live.set("live", true);
    await pruner.commit(live);
    expect(await count("idle_expires_at < now()")).toBe(3);
    expect(await count("true")).toBe(4);

    const holder = new pg.Client({ connectionString: DATABASE_URL });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(hashtext($1::text))", [lockKey]);
      const pruned: Array<{ deleted: number }> = [];
      const expired: string[] = [];
      pruner.on("pruned", (event) => {
        pruned.push(event);
      });
      pruner.on("expired", (event) => {
        expired.push(event.id);
      });
      const errors: unknown[] = [];
      const stop = pruner.startPruning({ every: 50, onError: (err) => errors.push(err) });

      // Ticks ran and tried the lock (without waiting for it) and got no for an answer.
      expect(await eventually(() => answers.length >= 3)).toBe(true);
      expect(answers.slice(0, 3)).toEqual([false, false, false]);
      expect(pruned).toEqual([]);
      expect(expired).toEqual([]);
      expect(await count("true")).toBe(4);

      await holder.query("SELECT pg_advisory_unlock(hashtext($1::text))", [lockKey]);
      expect(await eventually(() => pruned.length > 0)).toBe(true);
      stop();
      expect(pruned[0]!.deleted).toBe(3);
      expect(expired).toHaveLength(3);
      expect(await count("true")).toBe(1);
      expect(await count(`id = '${live.id}'`)).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await holder.end();
    }
  });
});
