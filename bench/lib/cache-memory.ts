/**
 * Bytes per cached session: the heap a read cache full of `entries` sessions takes, over
 * the heap without it, divided by the count. Runs in a process started with
 * `--expose-gc` (bench/cache-memory.ts), without a database: the entries are made from
 * records as a read from the database decodes them (the packed row's JSON), each with
 * strings of its own, as in a server. Counts everything the cache holds per session: the
 * key, the entry, its strings and numbers, the LRU's slots and the public-id index.
 * @module
 */
import { randomBytes } from "node:crypto";
import { entryOf } from "../../src/manager/cache/entry.js";
import { ReadCache } from "../../src/manager/cache/read-cache.js";
import type { SessionRecord } from "../../src/session/table.js";

/** Bytes per cached session, for one shape of data. */
export interface CacheMemoryResult {
  /** What the sessions held. */
  data: string;
  /** Sessions cached. */
  entries: number;
  /** Heap used by the cache, over the heap without it, per session. */
  bytesPerEntry: number;
  /** Length of one session's data as JSON text. */
  dataBytes: number;
}

const b64 = (bytes: number) => randomBytes(bytes).toString("base64url");

/** A record as `recordOf` (src/store/row.ts) decodes one: fresh strings and Dates. */
function record(data: Record<string, unknown>): SessionRecord {
  const now = Date.now();
  return JSON.parse(
    JSON.stringify({
      id: b64(24),
      userId: `user-${b64(6)}`,
      audience: null,
      data,
      version: 3,
      remember: false,
      createdAt: now,
      lastSeenAt: now,
      updatedAt: now,
      tokenIssuedAt: now,
      authenticatedAt: now,
      expiresAt: now + 86_400_000,
      absoluteExpiresAt: now + 7 * 86_400_000,
      current: true,
      touched: false,
      dataLength: 64,
    }),
    (key, value: unknown) => (key.endsWith("At") && typeof value === "number" ? new Date(value) : value),
  ) as SessionRecord;
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("cache-memory: run node with --expose-gc");
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Fills a cache with `entries` sessions holding `data()` and measures its heap.
 *
 * @example
 * ```ts
 * measureCacheMemory("the benchmark's { userId, n }", 100_000, () => ({ userId: "u1", n: 0 }));
 * ```
 */
export function measureCacheMemory(label: string, entries: number, data: () => Record<string, unknown>): CacheMemoryResult {
  const before = heapAfterGc();
  const cache = new ReadCache(entries, null);
  cache.alive({ verifiedAt: Date.now(), until: Date.now() + 3_600_000, clockOffsetMs: 0 });
  let dataBytes = 0;
  for (let i = 0; i < entries; i++) {
    const rec = record(data());
    const text = JSON.stringify(rec.data);
    dataBytes = text.length;
    cache.settle(cache.beginFill(randomBytes(32).toString("base64")), entryOf(rec, text, 8_640_000));
  }
  if (cache.status().entries !== entries) throw new Error("cache-memory: not every entry was kept");
  const after = heapAfterGc();
  // Kept reachable until measured.
  if (cache.status().entries === 0) console.log("");
  return { data: label, entries, bytesPerEntry: (after - before) / entries, dataBytes };
}
