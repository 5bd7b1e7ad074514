/**
 * The prune lease, on every driver: a prune holds it across the pauses between its
 * batches, so another instance's prune neither starts in one of them (a background tick
 * gives up) nor interleaves with it (an explicit prune waits for it to end); a lease left
 * by a prune that died keeps the others out until it expires; a prune whose lease was
 * taken over stops where it is (a background tick, reporting what it deleted) or waits and
 * goes on (an explicit prune).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions, type Sessions } from "../../src/index.js";
import type { Queryable, StoreDriver } from "../../src/driver.js";
import { allTargets, hasPostgres, uniqueSchema, type TestTarget } from "../support/db.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 20 ms for at most `limitMs`; true once it holds. */
async function eventually(condition: () => boolean | Promise<boolean>, limitMs = 5_000): Promise<boolean> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    if (await condition()) return true;
    await sleep(20);
  }
  return condition();
}

/** `driver`, counting the prunes it was refused because another held the lease. */
function countingRefusals(driver: StoreDriver, refusals: { count: number }): StoreDriver {
  const observe = (tx: Queryable): Queryable => ({
    async query(statement, params) {
      const rows = await tx.query(statement, params);
      if (statement.name.startsWith("pgsession_prune_lease_claim") && rows.length === 0) refusals.count += 1;
      return rows as never;
    },
    exec: (script) => tx.exec(script),
  });
  return { ...driver, transaction: (fn) => driver.transaction((tx) => fn(observe(tx))) };
}

for (const kind of allTargets) {
  describe.skipIf(kind.needsServer && !hasPostgres)(`the prune lease on ${kind.name}`, () => {
    let target: TestTarget;
    const schema = uniqueSchema("lease");
    const lease = `"${schema}".sessions_prune_lease`;
    let first: Sessions;
    let second: Sessions;
    const refusals = { count: 0 };

    beforeAll(async () => {
      target = kind.make();
      // Two instances on one table, each with its own client; neither prunes by itself.
      first = createSessions({ store: await target.open(), schema, prune: false });
      second = createSessions({ store: countingRefusals(await target.open(), refusals), schema, prune: false });
      await first.migrate();
    });
    afterAll(async () => {
      await target?.sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await target?.end();
    });

    /** Stores `count` sessions that expired a month ago. */
    async function seedExpired(count: number): Promise<void> {
      const old = createSessions({ store: await target.open(), schema, prune: false, now: () => new Date(Date.now() - 30 * 86_400_000) });
      for (let i = 0; i < count; i++) {
        const session = await old.resolve(undefined);
        session.set("i", i);
        await old.commit(session);
      }
    }
    const expiredRows = async () =>
      Number((await target.sql(`SELECT count(*)::int AS n FROM "${schema}".sessions WHERE idle_expires_at <= now()`))[0]!.n);
    const leaseRows = async () => (await target.sql(`SELECT holder FROM ${lease}`)).map((row) => row.holder);

    it("a background tick landing in another prune's pause gives up; the prune deletes everything alone", async () => {
      await seedExpired(8);
      const deletedBySecond: number[] = [];
      const off = second.on("pruned", ({ deleted }) => {
        deletedBySecond.push(deleted);
      });
      const before = refusals.count;
      const errors: unknown[] = [];
      let stop: (() => void) | undefined;
      const deleted = await first.prune({
        batchSize: 2,
        pause: 150,
        onProgress: () => {
          stop ??= second.startPruning({ every: 25, pause: 0, onError: (err) => errors.push(err) });
        },
      });
      const refusedDuring = refusals.count - before;
      stop?.();
      off();
      expect(errors).toEqual([]);
      expect(deleted).toBe(8);
      expect(refusedDuring).toBeGreaterThan(0);
      expect(deletedBySecond.filter((n) => n !== 0)).toEqual([]);
      expect(await leaseRows()).toEqual([]); // the last batch released it
    });

    it("an explicit prune started during another prune waits for it to end instead of interleaving", async () => {
      await seedExpired(5);
      const order: string[] = [];
      let waiting: Promise<number> | undefined;
      const deleted = await first.prune({
        batchSize: 2,
        pause: 100,
        onProgress: ({ deleted }) => {
          order.push(`first ${deleted}`);
          waiting ??= second.prune({ batchSize: 2, onProgress: ({ deleted }) => order.push(`second ${deleted}`) });
        },
      });
      order.push("first done");
      expect(deleted).toBe(5);
      expect(await waiting).toBe(0);
      expect(order).toEqual(["first 2", "first 4", "first 5", "first done", "second 0"]);
    });

    it("a lease left by a prune that died keeps the others out until it expires", async () => {
      await seedExpired(4);
      await target.sql(`INSERT INTO ${lease} (holder, expires_at) VALUES ('died', clock_timestamp() + interval '1500 milliseconds')`);
      const stop = second.startPruning({ every: 25 });
      try {
        await sleep(300);
        expect(await expiredRows()).toBe(4);
        expect(await eventually(async () => (await expiredRows()) === 0)).toBe(true);
      } finally {
        stop();
      }
      expect(await leaseRows()).toEqual([]);
    });

    it("an explicit prune whose lease was taken over waits for the new holder, then goes on", async () => {
      await seedExpired(5);
      let taken: Promise<unknown> | undefined;
      const started = performance.now();
      const progress: number[] = [];
      const deleted = await first.prune({
        batchSize: 2,
        pause: 150,
        onProgress: ({ deleted }) => {
          progress.push(deleted);
          taken ??= target.sql(`UPDATE ${lease} SET holder = 'other', expires_at = clock_timestamp() + interval '400 milliseconds'`);
        },
      });
      await taken;
      expect(deleted).toBe(5);
      expect(progress).toEqual([2, 4, 5]);
      expect(performance.now() - started).toBeGreaterThanOrEqual(400);
    });

    it("a background prune whose lease was taken over stops where it is and reports what it deleted", async () => {
      await seedExpired(6);
      const pruned: number[] = [];
      let taken: Promise<unknown> | undefined;
      const offExpired = second.on("expired", () => {
        taken ??= target.sql(`UPDATE ${lease} SET holder = 'other', expires_at = clock_timestamp() + interval '1 hour'`);
      });
      const offPruned = second.on("pruned", ({ deleted }) => {
        pruned.push(deleted);
      });
      const stop = second.startPruning({ every: 25, batchSize: 2, pause: 200 });
      try {
        expect(await eventually(() => pruned.length > 0)).toBe(true);
        await sleep(200); // more ticks, all refused
      } finally {
        stop();
        offExpired();
        offPruned();
      }
      await taken;
      expect(pruned).toEqual([2]);
      expect(await expiredRows()).toBe(4);
      await target.sql(`DELETE FROM ${lease}`);
      expect(await first.prune()).toBe(4);
    });
  });
}
