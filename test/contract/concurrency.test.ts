/**
 * Concurrency properties on the real database clock: several app instances on one table,
 * pruning beside live traffic, logouts and rotations racing requests in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions, type Sessions } from "../../src/index.js";
import { SessionConflictError, SessionGoneError } from "../../src/errors.js";
import type { StoreDriver } from "../../src/driver.js";
import { allTargets, hasPostgres, uniqueSchema, type TestTarget } from "../support/db.js";

const cookieOf = (setCookie: string | null) => (setCookie as string).split(";")[0] as string;

for (const kind of allTargets) {
  describe.skipIf(kind.needsServer && !hasPostgres)(`concurrency on ${kind.name}`, () => {
    let target: TestTarget;
    let driver: StoreDriver;
    let appA: Sessions;
    let appB: Sessions;
    const schema = uniqueSchema("conc");

    beforeAll(async () => {
      target = kind.make();
      driver = await target.open();
      // Two app instances sharing one table, each with its own connection pool.
      appA = createSessions({ store: driver, schema });
      appB = createSessions({ store: await target.open(), schema });
      await Promise.all([appA.migrate(), appB.migrate()]);
    });

    afterAll(async () => {
      await target?.sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await target?.end();
    });

    it("a session revoked on one instance is refused on the very next request to another", async () => {
      const s = await appA.resolve(undefined);
      await s.login("eve");
      const cookie = cookieOf(await appA.commit(s));
      expect((await appB.resolve(cookie)).userId).toBe("eve");
      await appA.revokeUserSessions("eve");
      expect((await appB.resolve(cookie)).isNew).toBe(true);
    });

    it("a logout racing slow in-flight writes never brings the session back", async () => {
      const s = await appA.resolve(undefined);
      s.set("n", 0);
      const cookie = cookieOf(await appA.commit(s));
      const inFlight = await Promise.all(Array.from({ length: 10 }, () => appB.resolve(cookie)));
      const out = await appA.resolve(cookie);
      const results = await Promise.allSettled([
        out.logout(),
        ...inFlight.map(async (held, i) => {
          held.set(`k${i}`, i);
          await new Promise((r) => setTimeout(r, i * 3));
          return appB.commit(held);
        }),
      ]);
      for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(SessionGoneError);
      const [row] = await target.sql(`SELECT count(*)::int AS n FROM "${schema}".sessions WHERE id = $1`, [s.id]);
      expect(row?.n).toBe(0);
      expect((await appA.resolve(cookie)).isNew).toBe(true);
    });

    it("a rotation racing in-flight requests leaves exactly one successor, and their writes land", async () => {
      const s = await appA.resolve(undefined);
      s.set("n", 0);
      const cookie = cookieOf(await appA.commit(s));
      const holders = await Promise.all(Array.from({ length: 8 }, () => appB.resolve(cookie)));
      const rotations = await Promise.allSettled(holders.slice(0, 4).map((h) => h.rotate()));
      expect(rotations.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of rotations) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(SessionConflictError);
      // The other in-flight requests still hold the old token, inside the grace window.
      await Promise.all(holders.slice(4).map((h, i) => (h.set(`late${i}`, true), appB.commit(h))));
      const [row] = await target.sql(`SELECT data FROM "${schema}".sessions WHERE id = $1`, [s.id]);
      expect(Object.keys(row?.data as object).sort()).toEqual(["late0", "late1", "late2", "late3", "n"]);
    });

    it("prune beside live traffic removes every expired session and no live one", async () => {
      const past = createSessions({ store: driver, schema, now: () => new Date(Date.now() - 30 * 86_400_000) });
      const expired: string[] = [];
      for (let i = 0; i < 60; i++) {
        const s = await past.resolve(undefined);
        s.set("old", i);
        await past.commit(s);
        expired.push(s.id);
      }
      const live: Array<{ id: string; cookie: string }> = [];
      for (let i = 0; i < 40; i++) {
        const s = await appA.resolve(undefined);
        s.set("n", 0);
        live.push({ id: s.id, cookie: cookieOf(await appA.commit(s)) });
      }
      const traffic = (async () => {
        for (let round = 0; round < 5; round++) {
          await Promise.all(
            live.map(async ({ cookie }) => {
              const s = await appB.resolve(cookie);
              expect(s.isNew).toBe(false);
              s.set("n", ((s.get("n") as number) ?? 0) + 1);
              await appB.commit(s);
            }),
          );
        }
      })();
      const pruned = await Promise.all([appA.prune({ batchSize: 10 }), traffic]);
      expect(pruned[0]).toBeGreaterThanOrEqual(60);
      const ids = (await target.sql(`SELECT id, data FROM "${schema}".sessions`)).map((r) => r.id as string);
      for (const { id } of live) expect(ids).toContain(id);
      for (const id of expired) expect(ids).not.toContain(id);
      const counts = await target.sql(`SELECT (data->>'n')::int AS n FROM "${schema}".sessions WHERE id = ANY($1::text[])`, [
        live.map((l) => l.id),
      ]);
      expect(counts.every((c) => c.n === 5)).toBe(true);
    });
  });
}
