/**
 * What every fault test does around its fault: serve the app over real HTTP on loopback
 * with a pool the test can inspect, drive logged-in clients, capture the console, then check
 * recovery, the database and the logs. Figures go to $PGSESSION_RELIABILITY_DIR/faults.jsonl
 * when that is set (`npm run reliability` reads them).
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { format } from "node:util";
import pg from "pg";
import { createSessions, type Sessions } from "../../src/index.js";
import { hashToken } from "../../src/session/token.js";
import { pgStore } from "../../src/store/pg.js";
import { uniqueSchema } from "../support/db.js";
import { Client, COOKIE, serveApp, sumTallies, type Data, type Tally } from "./app.js";

/** The app under a fault, and the pool behind it. */
export interface FaultApp {
  sessions: Sessions<Data>;
  pool: pg.Pool;
  base: string;
  schema: string;
  applicationName: string;
  close(): Promise<void>;
}

/**
 * Starts the app on a pool of its own (`config` says where and with which timeouts). The
 * schema must exist already when `migrate` is false (the database may be down at start).
 */
export async function startFaultApp(config: pg.PoolConfig, options: { schema?: string; migrate?: boolean } = {}): Promise<FaultApp> {
  const schema = options.schema ?? uniqueSchema("fault");
  const applicationName = `pgsession_${schema}`;
  const pool = new pg.Pool({ ...config, application_name: applicationName });
  pool.on("error", () => {}); // the owner listens to idle-connection errors (backends are killed on purpose)
  // pgStore attaches its default error reporter (console.warn): the log check sees it.
  const sessions = createSessions<Data>({ store: pgStore(pool), schema, cookie: { name: COOKIE } });
  if (options.migrate !== false) await sessions.migrate();
  // Pruning runs beside the traffic through every fault (its transactions must not crash
  // the process when their connection drops); its failures are logged, and checked for tokens.
  const stopPruning = sessions.startPruning({ every: "250ms" });
  const server = await serveApp(sessions);
  return {
    sessions,
    pool,
    schema,
    applicationName,
    base: server.base,
    async close() {
      stopPruning();
      await server.close();
      await sessions.close();
      await pool.end().catch(() => {});
    },
  };
}

/** Console output captured during a fault, for the "no token in the logs" check. */
export interface CapturedLogs {
  lines: string[];
  restore(): void;
}

/** Captures everything written through console.* until `restore()`; nothing is printed meanwhile. */
export function captureConsole(): CapturedLogs {
  const lines: string[] = [];
  const methods = ["log", "info", "warn", "error", "debug", "trace"] as const;
  const saved = methods.map((name) => [name, console[name]] as const);
  for (const name of methods) {
    console[name] = (...args: unknown[]) => {
      lines.push(format(...args));
    };
  }
  return {
    lines,
    restore() {
      for (const [name, fn] of saved) console[name] = fn;
    },
  };
}

/** Every token (and its hash) found in `lines`, so that a test can assert there are none. */
export function tokensIn(lines: readonly string[], clients: readonly Client[]): string[] {
  const text = lines.join("\n");
  const found: string[] = [];
  for (const client of clients) {
    for (const token of client.tokens) {
      if (text.includes(token) || text.includes(hashToken(token))) found.push(token);
    }
  }
  return found;
}

/** Makes `count` clients and logs each in (the database must be up). */
export async function loggedInClients(app: FaultApp, count: number, violations: string[], timeoutMs: number): Promise<Client[]> {
  const clients = Array.from({ length: count }, (_, i) => new Client(app.base, `u${i}`, violations, { timeoutMs }));
  for (const client of clients) {
    if (!(await client.login())) throw new Error(`${client.user} could not log in before the fault`);
  }
  return clients;
}

/**
 * Runs write/read/rotate/login traffic from every client until `stop` resolves (and at most
 * `maxMs`, `maxSteps` steps per client). Reads are not exact: during a fault a write may be
 * stored although its answer was a 503 (the commit reached the server, the reply did not).
 */
export async function runLoad(
  clients: readonly Client[],
  stop: Promise<unknown>,
  limits = { maxMs: 60_000, maxSteps: 100_000 },
): Promise<void> {
  let stopped = false;
  void stop.finally(() => (stopped = true));
  const deadline = Date.now() + limits.maxMs;
  await Promise.all(
    clients.map(async (client) => {
      for (let step = 0; !stopped && step < limits.maxSteps && Date.now() < deadline; step++) {
        if (!(await client.settle())) {
          await sleep(2);
          continue;
        }
        await client.write();
        await client.read(false);
        // Token changes under the fault too: a rotation or login answered 503 must leave the
        // old token working, unless it was stored all the same (settle() finds that out).
        if (step % 6 === 5) await client.rotate();
        if (step % 11 === 10) await client.login();
        await sleep(2);
      }
    }),
  );
}

/**
 * Waits until every client reads its own session with a 200 again; resolves to the time the
 * slowest took (from the call), or throws after `withinMs`.
 */
export async function awaitRecovery(clients: readonly Client[], withinMs: number): Promise<number> {
  const started = Date.now();
  await Promise.all(
    clients.map(async (client) => {
      for (let attempt = 0; attempt < 10_000; attempt++) {
        if ((await client.settle()) && (await client.read(false)) === 200) return;
        if (Date.now() - started > withinMs) throw new Error(`${client.user} did not recover within ${withinMs} ms`);
        await sleep(50);
      }
    }),
  );
  return Date.now() - started;
}

/**
 * Checks, straight in the database, that every write answered 2xx is stored in the
 * session it was written to: the client's current one, and any it left by signing in
 * again. Resolves to the number of writes verified; missing ones become violations.
 */
export async function verifyWrites(
  sql: (text: string, params: unknown[]) => Promise<Array<Record<string, any>>>,
  schema: string,
  clients: readonly Client[],
  violations: string[],
): Promise<number> {
  let verified = 0;
  for (const client of clients) {
    const written: Array<[string, Set<string>]> = [...client.earlier];
    if (client.id !== null) written.push([client.id, client.acked]);
    for (const [id, keys] of written) {
      const rows = await sql(`SELECT user_id, data FROM "${schema}".sessions WHERE id = $1`, [id]);
      const row = rows[0];
      if (!row) {
        violations.push(`${client.user}: session ${id} is gone from the database`);
        continue;
      }
      if (row.user_id !== client.user) violations.push(`${client.user}: session ${id} belongs to ${row.user_id}`);
      for (const key of keys) {
        if (Object.hasOwn(row.data as object, key)) verified++;
        else violations.push(`${client.user}: write ${key} was answered 200 but is not stored`);
      }
    }
  }
  return verified;
}

/** Waits (bounded) until the pool has no waiting request and every connection is back and idle. */
export async function poolSettled(pool: pg.Pool, withinMs = 5_000): Promise<{ total: number; idle: number; waiting: number }> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline && (pool.waitingCount > 0 || pool.idleCount !== pool.totalCount)) await sleep(20);
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/** Figures of one fault, as docs/reliability.md shows them. */
export interface FaultFigures {
  fault: string;
  injected: number;
  tally: Tally;
  boundMs: number;
  recoveryMs: number;
  writesVerified: number;
  violations: number;
  tokensInLogs: number;
  logLines: number;
}

/** Appends one fault's figures to the reliability results, when a run collects them. */
export function recordFault(fault: string, detail: Omit<FaultFigures, "fault" | "tally">, clients: readonly Client[]): FaultFigures {
  const figures: FaultFigures = { fault, tally: sumTallies(clients), ...detail };
  const dir = process.env.PGSESSION_RELIABILITY_DIR;
  if (dir) {
    mkdirSync(dir, { recursive: true });
    appendFileSync(join(dir, "faults.jsonl"), `${JSON.stringify(figures)}\n`);
  }
  return figures;
}

export { sleep };

/** How one fault is run: `inject` causes it, waits, heals it, and resolves to how many faults it injected. */
export interface FaultPlan {
  fault: string;
  clients: number;
  /** No request may take longer than this (the configured timeouts, plus scheduling slack). */
  boundMs: number;
  /** The service must answer every client again within this long after the heal. */
  recoverWithinMs?: number;
  /** Runs SQL on a connection outside the app, for the final check (the database must be up). */
  sql: (text: string, params: unknown[]) => Promise<Array<Record<string, any>>>;
  inject(app: FaultApp): Promise<number>;
}

/** The outcome of {@link runFault}; the test asserts on it. */
export interface FaultOutcome {
  figures: FaultFigures;
  violations: string[];
  tokensLogged: string[];
  pool: { total: number; idle: number; waiting: number };
  logs: string[];
}

/**
 * Logs clients in, runs load, injects the fault under it, and after the heal measures the
 * recovery and checks every acknowledged write in the database and the captured logs.
 */
export async function runFault(app: FaultApp, plan: FaultPlan): Promise<FaultOutcome> {
  const violations: string[] = [];
  const logs = captureConsole();
  let clients: Client[];
  try {
    clients = await loggedInClients(app, plan.clients, violations, plan.boundMs * 3);
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const load = runLoad(clients, stopped);
    await sleep(300); // traffic before the fault
    let injected: number;
    try {
      injected = await plan.inject(app);
    } finally {
      stop();
    }
    const healedAt = Date.now();
    await load;
    await awaitRecovery(clients, plan.recoverWithinMs ?? 5_000);
    const recoveryMs = Date.now() - healedAt;
    // Traffic after recovery: all of it must succeed.
    for (const client of clients) {
      if ((await client.write()) !== 200) violations.push(`${client.user}: write after recovery was not 200`);
      if ((await client.read(false)) !== 200) violations.push(`${client.user}: read after recovery was not 200`);
    }
    const writesVerified = await verifyWrites(plan.sql, app.schema, clients, violations);
    const pool = await poolSettled(app.pool);
    logs.restore();
    if (process.env.PGSESSION_FAULT_LOGS === "1") console.log(`${plan.fault}: console output during the fault:\n${logs.lines.join("\n")}`);
    const tokensLogged = tokensIn(logs.lines, clients);
    const figures = recordFault(
      plan.fault,
      {
        injected,
        boundMs: plan.boundMs,
        recoveryMs,
        writesVerified,
        violations: violations.length,
        tokensInLogs: tokensLogged.length,
        logLines: logs.lines.length,
      },
      clients,
    );
    return { figures, violations, tokensLogged, pool, logs: logs.lines };
  } finally {
    logs.restore();
  }
}
