/**
 * `startPruning`: its timer never keeps the process alive, it pauses between batches by
 * default, the stop function and `sessions.close()` stop it, and of several instances on
 * one table only the holder of the prune lock deletes anything (the others' ticks give up
 * at once).
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions, type Sessions } from "../../src/index.js";
import type { Queryable, StoreDriver } from "../../src/driver.js";
import { pgStore } from "../../src/store/pg.js";
import { runChild } from "../support/child.js";
import { DATABASE_URL, hasPostgres, pgliteTarget, uniqueSchema, type TestTarget } from "../support/db.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 20 ms, at most `tries` times; true once it holds. */
async function eventually(condition: () => boolean | Promise<boolean>, tries = 250): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return true;
    await sleep(20);
  }
  return condition();
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

describe("the automatic prune of createSessions [pglite]", () => {
  let target: TestTarget;
  let driver: StoreDriver;
  const schema = uniqueSchema("pra");
  beforeAll(async () => {
    target = pgliteTarget();
    driver = await target.open();
    await createSessions({ store: driver, schema, prune: false }).migrate();
  });
  afterAll(async () => {
    await target.sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await target.end();
  });

  /** Stores `count` sessions that expired a month ago. */
  async function expired(count: number): Promise<void> {
    const old = createSessions({ store: driver, schema, prune: false, now: () => new Date(Date.now() - 30 * 86_400_000) });
    for (let i = 0; i < count; i++) {
      const session = await old.resolve(undefined);
      session.set("i", i);
      await old.commit(session);
    }
  }
  const rows = async () => Number((await target.sql(`SELECT count(*)::int AS n FROM "${schema}".sessions`))[0]!.n);

  it("is on by default, every 15 minutes, and checked like startPruning's options", () => {
    expect(createSessions({ store: driver, schema }).options.prune).toMatchObject({ everyMs: 900_000, batchSize: 1000, pauseMs: 20 });
    expect(createSessions({ store: driver, schema, prune: false }).options.prune).toBeNull();
    expect(() => createSessions({ store: driver, schema, prune: { every: "soon" } })).toThrow(/prune\.every/);
    expect(() => createSessions({ store: driver, schema, prune: { batchSize: 0 } })).toThrow(/prune\.batchSize/);
    expect(() => createSessions({ store: driver, schema, prune: true as never })).toThrow(/prune/);
  });

  it("deletes expired sessions on its own, and not with prune: false", async () => {
    await expired(3);
    const off = createSessions({ store: driver, schema, prune: false });
    let offTicks = 0;
    off.on("pruned", () => {
      offTicks += 1;
    });
    const on = createSessions({ store: driver, schema, prune: { every: 50 } });
    expect(await eventually(async () => (await rows()) === 0)).toBe(true);
    await on.close();
    expect(offTicks).toBe(0);
    await off.close();
  });

  it("stops when the app starts its own startPruning", async () => {
    const sessions = createSessions({ store: driver, schema, prune: { every: 40 } });
    let ticks = 0;
    sessions.on("pruned", () => {
      ticks += 1;
    });
    expect(await eventually(() => ticks >= 1)).toBe(true);
    const stop = sessions.startPruning({ every: "1h" });
    const after = ticks;
    await sleep(300);
    // A tick already running when startPruning was called may still report once.
    expect(ticks - after).toBeLessThanOrEqual(1);
    stop();
    await sessions.close();
  });

  it("never keeps the process alive", async () => {
    const code = `
      const { createSessions } = await import("./src/index.ts");
      const { pgliteStore } = await import("./src/store/pglite.ts");
      const sessions = createSessions({ store: pgliteStore() });
      console.log(sessions.options.prune ? "automatic prune on" : "off");
    `;
    const result = await runChild(code, "automatic prune on", 60_000, 20_000);
    expect(result.killed, result.stderr).toBeNull();
    expect(result.code, result.stderr).toBe(0);
  }, 90_000);
});

describe("createSessions without a store under NODE_ENV=production", () => {
  const script = (store: boolean) => `
    const { createSessions } = await import("./src/index.ts");
    const { pgliteStore } = await import("./src/store/pglite.ts");
    createSessions(${store ? "{ store: pgliteStore(), prune: false }" : "{ prune: false }"});
    createSessions(${store ? "{ store: pgliteStore(), prune: false }" : "{ prune: false }"});
    console.log("created");
  `;
  const warning = /PGSESSION_NO_STORE.*createSessions\(\) has no `store`/g;

  it("warns once, naming what to pass instead", async () => {
    const result = await runChild(script(false), "created", 60_000, 20_000, { ...process.env, NODE_ENV: "production" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr.match(warning)).toHaveLength(1);
    expect(result.stderr).toContain("pgStore(pool)");
  }, 90_000);

  it("says nothing with a store, or outside production", async () => {
    const withStore = await runChild(script(true), "created", 60_000, 20_000, { ...process.env, NODE_ENV: "production" });
    expect(withStore.stderr).not.toMatch(warning);
    const development = await runChild(script(false), "created", 60_000, 20_000, { ...process.env, NODE_ENV: "development" });
    expect(development.code, development.stderr).toBe(0);
    expect(development.stderr).not.toMatch(warning);
  }, 90_000);
});
