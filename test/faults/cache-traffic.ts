/**
 * Traffic for the read cache's fault tests: readers on a caching instance, a writer on
 * another, every read and commit timed, and the check that no read was stale.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "vitest";
import type { Sessions } from "../../src/index.js";

/** The most a read answered from memory may trail a commit here: generous, for a loaded test machine. */
export const WINDOW_MS = 250;

/** Polls `check` every `everyMs`; the milliseconds it took, or a throw after `withinMs`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, withinMs = 5_000, everyMs = 5): Promise<number> {
  const started = Date.now();
  for (let attempt = 0; attempt < 100_000; attempt++) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await sleep(everyMs);
  }
  throw new Error(`${what}: gave up`);
}

/**
 * Watches `sessions`' cache through an outage that starts after this call: resolves to when
 * the loss was first seen (`lostAt`) and the last moment after it that the cache was seen
 * not answering (`backAt`): every read that started between the two went to the database.
 * Polls every 2 ms, for at most `withinMs`.
 */
export async function watchOutage(sessions: Sessions, withinMs = 10_000): Promise<{ lostAt: number; backAt: number }> {
  const lossesBefore = sessions.cacheStatus()?.losses ?? 0;
  let lostAt = 0;
  let backAt = 0;
  await until(
    "the cache is lost and answers again",
    () => {
      const now = performance.now();
      const status = sessions.cacheStatus();
      if (lostAt === 0 && (status?.losses ?? 0) > lossesBefore) lostAt = now;
      if (lostAt === 0) return false;
      if (status?.answering === true) return true;
      backAt = now;
      return false;
    },
    withinMs,
    2,
  );
  return { lostAt, backAt: Math.max(backAt, lostAt) };
}

/**
 * The reads of `seen` (see {@link watch}) that missed `value`, written at `writtenAt`, among
 * those that started after the loss was seen (`lostAt`): any that started before `backAt`
 * (the cache was not answering: the read went to the database), or later than
 * {@link WINDOW_MS} after the write.
 */
export function missed(
  seen: Array<{ startedAt: number; n: unknown }>,
  value: unknown,
  writtenAt: number,
  outage: { lostAt: number; backAt: number },
) {
  return seen.filter(
    (read) =>
      read.n !== value &&
      read.startedAt > Math.max(writtenAt, outage.lostAt) &&
      (read.startedAt < outage.backAt || read.startedAt > writtenAt + WINDOW_MS),
  );
}

/**
 * Reads `cookie` through `cached` every few ms until `stop` resolves (at most 30 s): the
 * values read, in order, with when each read started.
 */
export async function watch(cached: Sessions, cookie: string, stop: Promise<unknown>): Promise<Array<{ startedAt: number; n: unknown }>> {
  const seen: Array<{ startedAt: number; n: unknown }> = [];
  let stopped = false;
  void stop.finally(() => (stopped = true));
  const deadline = Date.now() + 30_000;
  while (!stopped && Date.now() < deadline) {
    const startedAt = performance.now();
    const session = await cached.resolve(cookie).catch(() => null);
    if (session) seen.push({ startedAt, n: session.get("n") });
    await sleep(5);
  }
  return seen;
}

/** One read of the traffic: when it started, what it read, whether memory answered it. */
interface Read {
  session: number;
  startedAt: number;
  n: number;
  hit: boolean;
}

/**
 * Traffic on `cookies`: readers on the caching instance, one writer on another instance
 * raising each session's `n` in turn; every commit's time is recorded, every read too.
 */
export function startTraffic(cached: Sessions, writer: Sessions, cookies: readonly string[], readers = 4) {
  const reads: Read[] = [];
  // Failures (a database restarting answers none): counted, and the loop goes on.
  let failures = 0;
  // committed[s][n]: when the write that set session s's n to n returned (its commit is before).
  const committed = cookies.map(() => [0]);
  let running = true;
  const deadline = Date.now() + 30_000;
  const read = async (id: number) => {
    for (let step = 0; running && Date.now() < deadline && step < 200_000; step++) {
      const session = (id + step) % cookies.length;
      const startedAt = performance.now();
      const hitsBefore = cached.cacheStatus()?.hits ?? 0;
      const resolved = await cached.resolve(cookies[session]).catch(() => null);
      if (resolved === null) {
        failures++;
        await sleep(10);
        continue;
      }
      // Reads interleave: a hit counted meanwhile may be another reader's, so "hit" is a superset.
      reads.push({ session, startedAt, n: resolved.get("n") as number, hit: (cached.cacheStatus()?.hits ?? 0) > hitsBefore });
      if (step % 20 === 19) await sleep(1);
    }
  };
  const write = async () => {
    for (let step = 0; running && Date.now() < deadline && step < 100_000; step++) {
      const session = step % cookies.length;
      try {
        const resolved = await writer.resolve(cookies[session]);
        const n = (resolved.get("n") as number) + 1;
        resolved.set("n", n);
        await writer.commit(resolved);
        const times = committed[session] as number[];
        const now = performance.now();
        // A write whose answer was lost committed before this one: it is dated with it (a lenient oracle, never a strict one).
        for (let k = times.length; k < n; k++) times[k] = now;
        times[n] = now;
      } catch {
        // A write that failed may still have committed (its answer lost): the next one reads it back.
        failures++;
        await sleep(10);
      }
      await sleep(2);
    }
  };
  const done = Promise.all([...Array.from({ length: readers }, (_, i) => read(i)), write()]);
  return {
    reads,
    committed,
    get failures() {
      return failures;
    },
    /** The value session s had committed at `at` (the last write that returned before it). */
    committedAt(session: number, at: number): number {
      // The writes of one session run one after another: their times ascend.
      const times = committed[session] as number[];
      let low = 0;
      let high = times.length - 1;
      while (low < high) {
        const mid = (low + high + 1) >> 1;
        if ((times[mid] as number) < at) low = mid;
        else high = mid - 1;
      }
      return low;
    },
    async stop() {
      running = false;
      await done;
    },
  };
}

/**
 * No read that started between `lostAt` (the loss observed) and `backAt` (the last moment
 * the cache was seen not answering) returned a value older than the one committed when it started; none after `lostAt`
 * trailed a commit by more than {@link WINDOW_MS}.
 */
export function expectNoStaleRead(traffic: ReturnType<typeof startTraffic>, lostAt: number, backAt: number): void {
  const after = traffic.reads.filter((read) => read.startedAt > lostAt);
  expect(after.filter((read) => read.startedAt < backAt).length).toBeGreaterThan(0);
  const stale = after.filter((read) => read.startedAt < backAt && read.n < traffic.committedAt(read.session, read.startedAt));
  expect(stale).toEqual([]);
  const late = after.filter((read) => read.n < traffic.committedAt(read.session, read.startedAt - WINDOW_MS));
  expect(late).toEqual([]);
}
