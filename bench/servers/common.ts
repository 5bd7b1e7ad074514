/**
 * What every benchmark server shares: its settings (from the environment the runner
 * sets), its PostgreSQL pool, the control port the runner uses between runs, and the
 * "ready" line the runner waits for.
 * @module
 */
import { createServer, type Server } from "node:http";
import pg from "pg";

/** A server's settings, read from the environment the runner passes. */
export interface ServerEnv {
  /** Port of the benchmarked HTTP server (127.0.0.1). */
  port: number;
  /** Port of the control server (flushing PostgreSQL statistics). */
  controlPort: number;
  databaseUrl: string;
  schema: string;
  table: string;
  poolSize: number;
  /** pgsession's `touchAfter`, when the runner overrides it (the HOT run uses 0). */
  touchAfter: string | undefined;
  /** False behind a pooler in transaction mode: every statement goes unnamed (pgsession's and the floor's). */
  preparedStatements: boolean;
}

/**
 * Reads the server's settings from the environment.
 *
 * @example
 * ```ts
 * const env = readServerEnv(); // BENCH_PORT, BENCH_CONTROL_PORT, DATABASE_URL, BENCH_SCHEMA, BENCH_TABLE, BENCH_POOL_SIZE, ...
 * ```
 */
export function readServerEnv(): ServerEnv {
  const need = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`bench server: ${name} is not set (servers are started by bench/run.ts)`);
    return value;
  };
  return {
    port: Number(need("BENCH_PORT")),
    controlPort: Number(need("BENCH_CONTROL_PORT")),
    databaseUrl: need("DATABASE_URL"),
    schema: process.env.BENCH_SCHEMA ?? "pgsession_bench",
    table: process.env.BENCH_TABLE ?? "sessions",
    poolSize: Number(process.env.BENCH_POOL_SIZE ?? 10),
    touchAfter: process.env.BENCH_TOUCH_AFTER || undefined,
    preparedStatements: process.env.BENCH_PREPARED_STATEMENTS !== "false",
  };
}

/**
 * The server's pool: the same size for every server, idle connections kept between runs.
 *
 * @example
 * ```ts
 * const pool = createPool(readServerEnv());
 * ```
 */
export function createPool(env: ServerEnv): pg.Pool {
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: env.poolSize, idleTimeoutMillis: 120_000 });
  pool.on("error", (err) => console.warn(`bench server: idle connection failed: ${err.message}`));
  return pool;
}

/**
 * Runs one statement on every connection of the pool, so that each backend flushes its
 * pending statistics (PostgreSQL 15 flushes at the end of a transaction at most once a
 * second, and an idle backend only after 10 s). Resolves to the number of statements run.
 */
async function pokeConnections(pool: pg.Pool): Promise<number> {
  const clients = await Promise.all(Array.from({ length: pool.totalCount }, () => pool.connect()));
  try {
    await Promise.all(clients.map((client) => client.query("SELECT 1")));
  } finally {
    for (const client of clients) client.release();
  }
  return clients.length;
}

/**
 * Starts the control server on its own port: `GET /flush` pokes every pool connection
 * and answers `{"statements": n}` (the statements the poke itself ran, which the runner
 * subtracts). Exits the process on SIGTERM/SIGINT so that `--cpu-prof` profiles are written.
 */
export function startControl(env: ServerEnv, pool: pg.Pool | null): Server {
  const control = createServer((req, res) => {
    if (req.url !== "/flush") return void res.writeHead(404).end();
    (pool ? pokeConnections(pool) : Promise.resolve(0)).then(
      (statements) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ statements })),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  control.listen(env.controlPort, "127.0.0.1");
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => process.exit(0));
  return control;
}

/**
 * Prints the line the runner waits for once the server listens.
 *
 * @example
 * ```ts
 * server.listen(env.port, "127.0.0.1", () => announceReady("floor-node"));
 * ```
 */
export function announceReady(name: string): void {
  console.log(`ready ${name} pid=${process.pid}`);
}

/**
 * The value of cookie `name` in a Cookie header (the floors' minimal parser).
 *
 * @example
 * ```ts
 * cookieValue("a=1; sid=xyz", "sid"); // "xyz"
 * ```
 */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The quoted `schema.table` of a validated name (letters, digits and underscores only). */
export function qualified(env: ServerEnv, table = env.table): string {
  for (const name of [env.schema, table]) {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bench server: bad identifier ${name}`);
  }
  return `"${env.schema}"."${table}"`;
}

/** Loads a module without its types (the peers' declarations clash with pgsession's on `req.session`). */
export async function importUntyped(specifier: string): Promise<any> {
  const loaded: any = await import(specifier);
  return loaded.default ?? loaded;
}

/** The secret of the peers' signed cookies (fixed: the benchmark only). */
export const PEER_SECRET = "pgsession-bench-secret-0123456789abcdef";
/** Cookie lifetime of the peers: one day. */
export const ONE_DAY_MS = 24 * 60 * 60 * 1000;
