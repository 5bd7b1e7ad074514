/**
 * Issue 36, point 11: `maxDataSize` holds for the stored row, not only for what one request
 * read. Two parallel requests that each add a key that fits alone could together store
 * more than the limit, because each checked the data as it read it; the merge in SQL now
 * refuses the write whose result would pass the limit. The low-level store enforces the
 * limit too, and the TypeScript check and the SQL one measure the same bytes.
 */
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { SessionDataTooLargeError } from "../../src/errors.js";
import { jsonbTextBytes } from "../../src/lib/jsonb-size.js";
import { describeEachTarget, tokenOf } from "../support/suite.js";

const LIMIT = 2000;
const blob = (char: string) => char.repeat(1200);

describeEachTarget("maxDataSize under parallel saves", (ctx) => {
  const stored = async (id: string) => {
    const rows = await ctx().target.sql(`SELECT data, octet_length(data::text) AS size FROM "${ctx().schema}".sessions WHERE id = $1`, [
      id,
    ]);
    return rows[0] as { data: Record<string, unknown>; size: number };
  };

  /** A stored session, and two requests that each read it before either writes. */
  async function twoRequests(options: Parameters<ReturnType<typeof ctx>["sessions"]>[0] = {}) {
    const sessions = ctx().sessions({ maxDataSize: LIMIT, ...options });
    const first = await sessions.resolve(undefined);
    first.set("n", 1);
    const cookie = `session=${tokenOf(await sessions.commit(first))}`;
    const [a, b] = await Promise.all([sessions.resolve(cookie), sessions.resolve(cookie)]);
    a.set("a", blob("a"));
    b.set("b", blob("b"));
    return { sessions, a, b, id: first.id, cookie };
  }

  it("two parallel saves of different keys: one succeeds, the other gets SessionDataTooLargeError, the row stays within the limit", async () => {
    const { sessions, a, b, id } = await twoRequests();
    const results = await Promise.allSettled([sessions.commit(a), sessions.commit(b)]);
    const refused = results.filter((r) => r.status === "rejected");
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const error = (refused[0] as PromiseRejectedResult).reason as SessionDataTooLargeError;
    expect(error).toBeInstanceOf(SessionDataTooLargeError);
    expect(error).toMatchObject({ code: "ERR_SESSION_DATA_TOO_LARGE", limit: LIMIT });
    expect(error.size).toBeGreaterThan(LIMIT);
    const row = await stored(id);
    expect(row.size).toBeLessThanOrEqual(LIMIT);
    expect(Object.keys(row.data).sort()).toHaveLength(2); // n, and the key of the write that won
    expect(row.data.n).toBe(1);
  });

  it("the same when the saves delete a key too (the general merge statement)", async () => {
    const { sessions, a, b, id } = await twoRequests();
    a.delete("n");
    b.delete("n");
    const results = await Promise.allSettled([sessions.commit(a), sessions.commit(b)]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason).toBeInstanceOf(SessionDataTooLargeError);
    expect((await stored(id)).size).toBeLessThanOrEqual(LIMIT);
  });

  it("a rotation that merges changes racing a save: the one that would pass the limit is refused", async () => {
    const { sessions, a, b, id } = await twoRequests();
    const results = await Promise.allSettled([sessions.commit(a), b.rotate()]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason).toBeInstanceOf(SessionDataTooLargeError);
    expect((await stored(id)).size).toBeLessThanOrEqual(LIMIT);
  });

  it("with sealed (encrypted) data, the compare-and-set loop checks the merged data too", async () => {
    const { sessions, a, b } = await twoRequests({ encrypt: { keys: [{ id: "k1", key: randomBytes(32) }] } });
    const results = await Promise.allSettled([sessions.commit(a), sessions.commit(b)]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason).toBeInstanceOf(SessionDataTooLargeError);
  });

  it("writes that fit after the other still succeed, and data exactly at the limit is stored", async () => {
    const { sessions, a, b, id, cookie } = await twoRequests();
    b.set("b", "b".repeat(500));
    await Promise.all([sessions.commit(a), sessions.commit(b)]);
    const row = await stored(id);
    expect(Object.keys(row.data).sort()).toEqual(["a", "b", "n"]);
    // Fill up to exactly the limit, as PostgreSQL measures it: the same size passes both checks.
    const again = await sessions.resolve(cookie);
    again.set("pad", "");
    const padding = LIMIT - jsonbTextBytes(JSON.stringify(again.toJSON()));
    again.set("pad", "p".repeat(padding));
    await sessions.commit(again);
    expect((await stored(id)).size).toBe(LIMIT);
    const over = await sessions.resolve(cookie);
    over.set("pad", "p".repeat(padding + 1));
    await expect(sessions.commit(over)).rejects.toBeInstanceOf(SessionDataTooLargeError);
  });

  it("sessions.store.create and set refuse data past the limit, and leave the row as it was", async () => {
    const sessions = ctx().sessions({ maxDataSize: LIMIT });
    await expect(sessions.store.create({ data: { a: blob("a"), b: blob("b") } })).rejects.toBeInstanceOf(SessionDataTooLargeError);
    const token = await sessions.store.create({ data: { a: blob("a") } });
    const error = await sessions.store.set(token, { a: blob("a"), b: blob("b") }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SessionDataTooLargeError);
    expect(error).toMatchObject({ limit: LIMIT });
    expect((await sessions.store.get(token))?.data).toEqual({ a: blob("a") });
    await expect(sessions.store.withForeignKeys().put("sid-1", { a: blob("a"), b: blob("b") }, { ttl: "1h" })).rejects.toBeInstanceOf(
      SessionDataTooLargeError,
    );
  });

  it("the TypeScript measure of data is PostgreSQL's: the bytes of the jsonb's text", async () => {
    // PostgreSQL refuses NUL and unpaired surrogates in jsonb (session.set refuses them too).
    const json = fc
      .jsonValue({ maxDepth: 3, noUnicodeString: false })
      .map((value) => JSON.stringify(value))
      .filter((text) => !/\\u(0000|d[89a-f])/i.test(text));
    const extremes = fc.constantFrom(1e21, 1.5e-7, -2.5e300, 5e-324, 123.456, -0, 1e-6, 123456789012345680000);
    const samples = fc.sample(
      fc.oneof(
        json,
        extremes.map((n) => JSON.stringify({ n, list: [n, 'é\n\u0001"', {}] })),
      ),
      300,
    );
    const rows = await ctx().target.sql(
      `SELECT octet_length(value::text) AS size FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS e(value, i) ORDER BY i`,
      [`[${samples.join(",")}]`],
    );
    expect(rows.map((row) => Number(row.size))).toEqual(samples.map((text) => jsonbTextBytes(text)));
  });
});
