/**
 * The revocation window of the read cache: a session revoked on one instance, and how long
 * the other instances (separate processes, each with its own cache, all holding the
 * session) still answer it. Each trial: one instance creates a session, the others read it
 * until their caches answer it, start reading it every `pollMs` as requests would, and the
 * first instance revokes it; the window is from the revoke's commit being acknowledged to
 * the first read that refuses the session, per observing instance. The instance revoking
 * rotates. Processes share the wall clock, read with sub-millisecond precision.
 * @module
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createSessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import type { WorkerReply, WorkerRequest } from "./revocation-worker.js";

/** What the revocation-window benchmark measured. */
export interface RevocationReport {
  processes: number;
  trials: number;
  /** Windows measured: (processes - 1) per trial. */
  samples: number;
  /** The observers' read interval, ms (the windows' resolution). */
  pollMs: number;
  /** The cache's heartbeat, ms. */
  heartbeatMs: number;
  /** Concurrent readers keeping each instance busy (0: idle instances). */
  busyLoops: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** How long the revoking instance's `revokeSession` took (the statement's round trip), median, ms. */
  revokeMs: number;
  /** The window counted from the revoke's call instead (an upper bound): p50 and p99, ms. */
  fromCallP50Ms: number;
  fromCallP99Ms: number;
  /** Windows below zero: an observer refused the session before the revoking instance had the commit's answer. */
  negative: number;
}

/** Settings of the revocation-window benchmark. */
export interface RevocationSettings {
  databaseUrl: string;
  schema: string;
  processes: number;
  trials: number;
  pollMs: number;
  heartbeatMs: number;
  /** Concurrent readers keeping each instance busy (0: idle instances). */
  busyLoops: number;
}

const WORKER = fileURLToPath(new URL("./revocation-worker.ts", import.meta.url));
const TABLE = "revocation_bench";

/** A worker process and a way to ask it things. */
class Worker {
  readonly #child: ChildProcess;
  #waiters: Array<{ type: WorkerReply["type"]; resolve: (reply: WorkerReply) => void; reject: (err: Error) => void }> = [];

  constructor(settings: RevocationSettings) {
    this.#child = fork(
      WORKER,
      [settings.databaseUrl, settings.schema, TABLE, `${settings.heartbeatMs}ms`, String(settings.pollMs), String(settings.busyLoops)],
      { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] },
    );
    this.#child.on("message", (reply: WorkerReply) => {
      if (reply.type === "error") {
        for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error(`revocation worker: ${reply.message}`));
        return;
      }
      const index = this.#waiters.findIndex((waiter) => waiter.type === reply.type);
      if (index === -1) return;
      const [waiter] = this.#waiters.splice(index, 1);
      waiter?.resolve(reply);
    });
    this.#child.once("exit", (code) => {
      for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error(`revocation worker exited (${code})`));
    });
  }

  /** Resolves to the next reply of `type` (within `timeoutMs`). */
  next<T extends WorkerReply["type"]>(type: T, timeoutMs = 15_000): Promise<Extract<WorkerReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`revocation worker: no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        type,
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply as Extract<WorkerReply, { type: T }>);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
    });
  }

  /** Sends `request` and resolves to the reply of `type`. */
  ask<T extends WorkerReply["type"]>(request: WorkerRequest, type: T): Promise<Extract<WorkerReply, { type: T }>> {
    const reply = this.next(type);
    this.#child.send(request);
    return reply;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.disconnect();
    const kill = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(kill);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/**
 * Runs the trials and summarizes the windows.
 *
 * @example
 * ```ts
 * const report = await runRevocationBench({ databaseUrl, schema: "pgsession_bench", processes: 3, trials: 100, pollMs: 1, heartbeatMs: 1000 }, console.log);
 * ```
 */
export async function runRevocationBench(settings: RevocationSettings, log: (line: string) => void): Promise<RevocationReport> {
  const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: 1 });
  await createSessions({ store: pgStore(pool), schema: settings.schema, table: TABLE }).migrate({ cache: true });
  await pool.end();
  const workers = Array.from({ length: settings.processes }, () => new Worker(settings));
  const windows: number[] = [];
  const fromCall: number[] = [];
  const revokes: number[] = [];
  try {
    await Promise.all(workers.map((worker) => worker.next("ready", 30_000)));
    for (let trial = 0; trial < settings.trials; trial++) {
      const revoker = workers[trial % workers.length] as Worker;
      const observers = workers.filter((worker) => worker !== revoker);
      const { cookie, id } = await revoker.ask({ type: "create", user: `user-${trial}` }, "created");
      await Promise.all(workers.map((worker) => worker.ask({ type: "warm", cookie }, "warm")));
      const refused = observers.map((worker) => worker.next("refused"));
      await Promise.all(observers.map((worker) => worker.ask({ type: "watch", cookie }, "watching")));
      const { startedAt, committedAt } = await revoker.ask({ type: "revoke", id }, "revoked");
      revokes.push(committedAt - startedAt);
      for (const { at } of await Promise.all(refused)) {
        windows.push(at - committedAt);
        fromCall.push(at - startedAt);
      }
      if ((trial + 1) % 50 === 0) log(`  revocation window: ${trial + 1}/${settings.trials} trials`);
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
  }
  const sorted = [...windows].sort((a, b) => a - b);
  const clamped = sorted.map((w) => Math.max(0, w));
  const calls = [...fromCall].sort((a, b) => a - b);
  return {
    busyLoops: settings.busyLoops,
    fromCallP50Ms: percentile(calls, 50),
    fromCallP99Ms: percentile(calls, 99),
    processes: settings.processes,
    trials: settings.trials,
    samples: windows.length,
    pollMs: settings.pollMs,
    heartbeatMs: settings.heartbeatMs,
    p50Ms: percentile(clamped, 50),
    p90Ms: percentile(clamped, 90),
    p99Ms: percentile(clamped, 99),
    maxMs: clamped.at(-1) ?? 0,
    revokeMs: percentile(
      [...revokes].sort((a, b) => a - b),
      50,
    ),
    negative: sorted.filter((w) => w < 0).length,
  };
}
