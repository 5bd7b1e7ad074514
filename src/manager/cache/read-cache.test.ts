/** The read cache's rules, without a database: answering, forgetting, in-flight reads, own writes, the LRU bound. */
import { describe, expect, it } from "vitest";
import type { SessionRecord } from "../../session/table.js";
import { entryOf, mergedText, recordOf, savedEntry } from "./entry.js";
import { ReadCache } from "./read-cache.js";

const T0 = Date.parse("2030-01-01T00:00:00Z");

function record(id: string, version = 1, lastSeenAt = T0): SessionRecord {
  return {
    id,
    userId: "u1",
    audience: null,
    data: { n: 1 },
    version,
    remember: false,
    createdAt: new Date(T0),
    lastSeenAt: new Date(lastSeenAt),
    updatedAt: new Date(T0),
    tokenIssuedAt: new Date(T0),
    authenticatedAt: new Date(T0),
    expiresAt: new Date(lastSeenAt + 3_600_000),
    absoluteExpiresAt: new Date(T0 + 7_200_000),
    current: true,
    touched: false,
    dataLength: 10,
  };
}

/** A cache on a clock the test moves, answering (as if the feed vouched for it). */
function answeringCache(max = 10) {
  let now = T0;
  const cache = new ReadCache(max, () => new Date(now));
  cache.alive({ verifiedAt: Date.now(), until: Date.now() + 60_000, clockOffsetMs: 0 });
  return {
    cache,
    at(ms: number) {
      now = ms;
    },
    fill(key: string, rec: SessionRecord, touchAfterMs = 60_000) {
      cache.settle(cache.beginFill(key), entryOf(rec, JSON.stringify(rec.data), touchAfterMs));
    },
  };
}

describe("ReadCache", () => {
  it("answers only while the feed vouches for the subscription, and forgets everything when it is lost", () => {
    const cache = new ReadCache(10, () => new Date(T0));
    cache.settle(cache.beginFill("k"), entryOf(record("a"), "{}", 60_000));
    expect(cache.status().entries).toBe(0); // not answering when the read was sent: not kept
    cache.alive({ verifiedAt: Date.now(), until: Date.now() + 60_000, clockOffsetMs: 0 });
    cache.settle(cache.beginFill("k"), entryOf(record("a"), "{}", 60_000));
    expect(cache.lookup("k")?.id).toBe("a");
    cache.alive({ verifiedAt: Date.now(), until: Date.now() - 1, clockOffsetMs: 0 }); // the vouching lapsed
    expect(cache.lookup("k")).toBeUndefined();
    cache.alive({ verifiedAt: Date.now(), until: Date.now() + 60_000, clockOffsetMs: 0 });
    expect(cache.lookup("k")?.id).toBe("a"); // the same connection answered again: nothing was missed
    cache.lost();
    expect(cache.status()).toMatchObject({ answering: false, entries: 0, losses: 1 });
  });

  it("keeps no read that was in flight when its session changed, or when everything was forgotten", () => {
    const { cache } = answeringCache();
    const ticket = cache.beginFill("k");
    cache.changed({ key: "k", version: 2 });
    cache.settle(ticket, entryOf(record("a", 1), "{}", 60_000));
    expect(cache.lookup("k")).toBeUndefined();
    const before = cache.beginFill("k");
    cache.lost();
    cache.alive({ verifiedAt: Date.now(), until: Date.now() + 60_000, clockOffsetMs: 0 });
    cache.settle(before, entryOf(record("a", 2), "{}", 60_000));
    expect(cache.lookup("k")).toBeUndefined();
    const after = cache.beginFill("k");
    cache.settle(after, entryOf(record("a", 2), "{}", 60_000));
    expect(cache.lookup("k")?.version).toBe(2);
    // A change the read already holds (its version or an older one) does not spoil it; one without a version does.
    const holding = cache.beginFill("k");
    cache.changed({ key: "k", version: 3 });
    cache.settle(holding, entryOf(record("a", 3), "{}", 60_000));
    expect(cache.lookup("k")?.version).toBe(3);
    const deleted = cache.beginFill("k");
    cache.changed({ key: "k", version: null });
    cache.settle(deleted, entryOf(record("a", 9), "{}", 60_000));
    expect(cache.lookup("k")).toBeUndefined();
  });

  it("drops an entry older than a reported change, and keeps one that already holds it (its own write)", () => {
    const { cache, fill } = answeringCache();
    fill("k", record("a", 3));
    cache.changed({ key: "k", version: 3 });
    expect(cache.lookup("k")?.version).toBe(3);
    cache.changed({ key: "k", version: 4 });
    expect(cache.lookup("k")).toBeUndefined();
    fill("k", record("a", 4));
    cache.changed({ key: "k", version: null });
    expect(cache.lookup("k")).toBeUndefined();
    fill("k", record("a", 5));
    cache.flushed();
    expect(cache.status().entries).toBe(0);
  });

  it("answers until the idle expiry or a due touch, whichever comes first", () => {
    const { cache, at, fill } = answeringCache();
    fill("k", record("a"), 600_000);
    at(T0 + 599_999);
    expect(cache.lookup("k")).toBeDefined();
    at(T0 + 600_000);
    expect(cache.lookup("k")).toBeUndefined();
    fill("k", record("a", 1), 7_200_000); // touch_after longer than the idle timeout: the idle expiry rules
    at(T0 + 3_599_999);
    expect(cache.lookup("k")).toBeDefined();
    at(T0 + 3_600_000);
    expect(cache.lookup("k")).toBeUndefined();
  });

  it("holds at most maxEntries, the least recently used going first, and finds entries by public id", () => {
    const { cache, fill } = answeringCache(3);
    for (const id of ["a", "b", "c"]) fill(id, record(id));
    cache.lookup("a");
    fill("d", record("d"));
    expect(cache.status().entries).toBe(3);
    expect(cache.lookup("b")).toBeUndefined();
    expect(cache.lookup("a")).toBeDefined();
    cache.deleteById("a");
    expect(cache.lookup("a")).toBeUndefined();
    cache.deleteById("b"); // evicted: nothing to do
    expect(cache.status().entries).toBe(2);
  });

  it("gives each hit a record of its own: a handler that changes it changes nothing cached", () => {
    const { cache, fill } = answeringCache();
    fill("k", { ...record("a"), data: { cart: ["x"] } });
    const first = recordOf(cache.lookup("k")!);
    (first.data.cart as string[]).push("y");
    first.createdAt.setTime(0);
    first.version = 99;
    const second = recordOf(cache.lookup("k")!);
    expect(second.data).toEqual({ cart: ["x"] });
    expect(second.createdAt.getTime()).toBe(T0);
    expect(second.version).toBe(1);
  });
});

describe("own writes", () => {
  it("merge as the database does: cleared, deleted keys, then the keys set; __proto__ stays data", () => {
    const text = JSON.stringify({ a: 1, b: 2, c: 3 });
    expect(JSON.parse(mergedText(text, { deleted: '["a"]', set: '{"b":20,"d":4}', cleared: false }))).toEqual({ b: 20, c: 3, d: 4 });
    expect(JSON.parse(mergedText(text, { deleted: '["a"]', set: '{"z":1}', cleared: true }))).toEqual({ z: 1 });
    const merged = JSON.parse(mergedText("{}", { deleted: "[]", set: '{"__proto__":{"admin":true}}', cleared: false }));
    expect(Object.keys(merged)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it("a saved entry carries the new version, data and time", () => {
    const entry = entryOf(record("a", 1), '{"n":1}', 60_000);
    const saved = savedEntry(entry, { deleted: "[]", set: '{"n":2}', cleared: false }, 2, T0 + 5);
    expect(saved).toMatchObject({ version: 2, dataText: '{"n":2}', updatedAt: T0 + 5, validUntil: entry.validUntil });
    expect(saved.dataLength).toBeGreaterThanOrEqual(saved.dataText.length);
  });
});
