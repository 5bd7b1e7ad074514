/**
 * The benchmarked servers: what each one is, and starting and stopping its process.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** Which floor a server is compared with (`floor-<family>`). */
export type Family = "node" | "express" | "fastify" | "node-pgbouncer" | "koa" | "h3";

/** A benchmarked server. */
export interface ServerSpec {
  /** Name, also its file in bench/servers/ and (with underscores) its table. */
  name: string;
  /** One line for the report. */
  label: string;
  /** `cache`: a pgsession adapter with the read cache, measured beside the same adapter without it and their floor. */
  kind: "pgsession" | "cache" | "floor" | "peer" | "ceiling" | "diagnostic";
  family: Family;
  /** The Cookie name it sets on /login (null: no session). */
  cookie: string | null;
  /** Its file in bench/servers/ when not its name (a server run again in another setting). */
  file?: string;
  /**
   * Reaches PostgreSQL through the run's own pgbouncer in transaction mode, sending its
   * statements unnamed. Such servers run only when named in `--servers`.
   */
  pooler?: "pgbouncer";
}

/** Every server, in the order the report lists them. */
export const SERVERS: readonly ServerSpec[] = [
  { name: "pgsession-node", label: "pgsession, node:http adapter", kind: "pgsession", family: "node", cookie: "session" },
  { name: "pgsession-express", label: "pgsession, Express adapter", kind: "pgsession", family: "express", cookie: "session" },
  { name: "pgsession-fastify", label: "pgsession, Fastify adapter", kind: "pgsession", family: "fastify", cookie: "session" },
  { name: "pgsession-koa", label: "pgsession, Koa adapter", kind: "pgsession", family: "koa", cookie: "session" },
  { name: "pgsession-h3", label: "pgsession, h3 adapter", kind: "pgsession", family: "h3", cookie: "session" },
  {
    name: "pgsession-node-cache",
    label: "pgsession, node:http adapter, read cache on (LISTEN/NOTIFY)",
    kind: "cache",
    family: "node",
    cookie: "session",
  },
  {
    name: "pgsession-fastify-cache",
    label: "pgsession, Fastify adapter, read cache on (LISTEN/NOTIFY)",
    kind: "cache",
    family: "fastify",
    cookie: "session",
  },
  {
    name: "floor-node",
    label: "floor: node:http + pg, one PK SELECT (/write: + one UPDATE)",
    kind: "floor",
    family: "node",
    cookie: "sid",
  },
  { name: "floor-express", label: "floor on Express 5", kind: "floor", family: "express", cookie: "sid" },
  { name: "floor-fastify", label: "floor on Fastify 5", kind: "floor", family: "fastify", cookie: "sid" },
  { name: "floor-koa", label: "floor on Koa 3", kind: "floor", family: "koa", cookie: "sid" },
  { name: "floor-h3", label: "floor on h3 2", kind: "floor", family: "h3", cookie: "sid" },
  {
    name: "express-session",
    label: "express 5 + express-session + connect-pg-simple",
    kind: "peer",
    family: "express",
    cookie: "connect.sid",
  },
  {
    name: "fastify-session",
    label: "fastify 5 + @fastify/session + connect-pg-simple",
    kind: "peer",
    family: "fastify",
    cookie: "sessionId",
  },
  {
    name: "pgsession-core",
    label: "diagnostic: pgsession's core (resolve/commit) on node:http, no adapter",
    kind: "diagnostic",
    family: "node",
    cookie: "session",
  },
  {
    name: "pgsession-node-triggers",
    label: "diagnostic: pgsession-node, no cache, on a table with the cache's triggers (what they cost when no one listens)",
    kind: "diagnostic",
    family: "node",
    cookie: "session",
  },
  {
    name: "floor-express-middleware",
    label: "diagnostic: the Express floor with its query in a middleware, where session middleware runs",
    kind: "diagnostic",
    family: "express",
    cookie: "sid",
  },
  { name: "ceiling", label: "ceiling: node:http answering a constant", kind: "ceiling", family: "node", cookie: null },
  {
    name: "pgsession-node-pgbouncer",
    label: "pgsession, node:http adapter, through pgbouncer (transaction mode, preparedStatements: false)",
    kind: "pgsession",
    family: "node-pgbouncer",
    cookie: "session",
    file: "pgsession-node",
    pooler: "pgbouncer",
  },
  {
    name: "floor-node-pgbouncer",
    label: "floor-node through the same pgbouncer (its statements unnamed)",
    kind: "floor",
    family: "node-pgbouncer",
    cookie: "sid",
    file: "floor-node",
    pooler: "pgbouncer",
  },
];

/** Whether a server is measured interleaved with its framework's floor (see {@link roundOrder}). */
export function isInterleaved(spec: ServerSpec): boolean {
  return spec.kind === "pgsession" || spec.kind === "cache" || spec.kind === "floor";
}

/**
 * The servers of one round, in blocks of one framework (its pgsession adapter, with the
 * cache too when selected, its floor, its peer, diagnostics), so that a pgsession server
 * and the floor it is compared with run back to back, seconds apart: on a shared machine
 * the CPU that is free drifts over minutes, and a ratio of two runs far apart measures that
 * drift. The order alternates: the blocks rotate by one per round, and inside a block the
 * interleaved group reverses its order every round while the other servers rotate after it.
 *
 * @example
 * ```ts
 * roundOrder(SERVERS, 2)[0]?.map((s) => s.name); // the second round's first block
 * ```
 */
export function roundOrder(servers: readonly ServerSpec[], round: number): ServerSpec[][] {
  const families = [...new Set(servers.map((s) => s.family))];
  const blocks = families.map((family) => {
    const members = servers.filter((s) => s.family === family);
    const pair = members.filter(isInterleaved);
    const rest = members.filter((s) => !pair.includes(s));
    const shift = rest.length ? (round - 1) % rest.length : 0;
    return [...(round % 2 ? pair : [...pair].reverse()), ...rest.slice(shift), ...rest.slice(0, shift)];
  });
  const shift = (round - 1) % blocks.length;
  return [...blocks.slice(shift), ...blocks.slice(0, shift)];
}

/** The table a server uses. */
export function tableOf(name: string): string {
  return name.replaceAll("-", "_");
}

/** Settings every server receives. */
export interface LaunchSettings {
  databaseUrl: string;
  schema: string;
  poolSize: number;
  port: number;
  /** Table override (the HOT and prune runs use their own tables). */
  table?: string;
  touchAfter?: string;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /** False: the server sends its statements unnamed (behind a pooler in transaction mode). Default true. */
  preparedStatements?: boolean;
}

/** A running server process. */
export interface RunningServer {
  spec: ServerSpec;
  port: number;
  controlPort: number;
  pid: number;
  process: ChildProcess;
}

const BENCH_DIR = fileURLToPath(new URL("../", import.meta.url));
const BUILD_DIR = `${BENCH_DIR}.build/`;
const SERVER_DIR = `${BUILD_DIR}bench/servers/`;

/**
 * Compiles the servers and the library with tsc into bench/.build (the servers run as
 * plain JavaScript, as an application runs the published package: no loader, no
 * transpiler helpers on the hot path), and copies the migrations beside it.
 */
export function compileServers(): void {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", `${BENCH_DIR}tsconfig.servers.json`], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`compiling the servers failed:\n${result.stdout}${result.stderr}`);
  cpSync(`${BENCH_DIR}../sql`, `${BUILD_DIR}sql`, { recursive: true });
}

/**
 * Starts a server process (compiled by {@link compileServers}) and resolves once it prints "ready" (or rejects after 30 s).
 *
 * @example
 * ```ts
 * const server = await startServer(SERVERS[0], { databaseUrl, schema: "pgsession_bench", poolSize: 10, port: 21100 });
 * ```
 */
export function startServer(spec: ServerSpec, settings: LaunchSettings): Promise<RunningServer> {
  const controlPort = settings.port + 100;
  const child = spawn(process.execPath, [...(settings.nodeArgs ?? []), `${SERVER_DIR}${spec.file ?? spec.name}.js`], {
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: settings.databaseUrl,
      BENCH_PORT: String(settings.port),
      BENCH_CONTROL_PORT: String(controlPort),
      BENCH_SCHEMA: settings.schema,
      BENCH_TABLE: settings.table ?? tableOf(spec.name),
      BENCH_POOL_SIZE: String(settings.poolSize),
      BENCH_TOUCH_AFTER: settings.touchAfter ?? "",
      BENCH_PREPARED_STATEMENTS: String(settings.preparedStatements ?? true),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${spec.name} did not start within 30 s`)), 30_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(err);
    };
    let output = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      if (output.includes("ready ")) {
        clearTimeout(timer);
        child.stdout?.resume();
        resolve({ spec, port: settings.port, controlPort, pid: child.pid as number, process: child });
      }
    });
    child.once("exit", (code) => fail(new Error(`${spec.name} exited with code ${code} before it was ready:\n${output}`)));
  });
}

/**
 * Stops a server (SIGTERM to its own pid; the server exits cleanly, writing any CPU
 * profile) and resolves once it has exited.
 */
export async function stopServer(server: RunningServer): Promise<void> {
  const child = server.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.removeAllListeners("exit");
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timeout = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timeout);
}

/**
 * The resident memory of a process, in MiB (VmRSS from /proc), or null off Linux.
 *
 * @example
 * ```ts
 * residentMiB(server.pid); // 84.2
 * ```
 */
export function residentMiB(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

// USER_HZ: 100 on every Linux architecture Node runs on.
const CLOCK_TICKS = 100;

/**
 * CPU time (user + system) a process has used, in seconds, from /proc; null off Linux.
 *
 * @example
 * ```ts
 * const before = cpuSeconds(server.pid);
 * ```
 */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
/** The machine's CPU time so far (all cores, in clock ticks): busy and total, from /proc/stat. */
export function machineCpu(): { busy: number; total: number } | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/**
 * Asks the server's control port to flush its connections' statistics; resolves to the
 * number of statements that flush ran.
 */
export async function flushServerStats(server: RunningServer): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${server.controlPort}/flush`);
  if (!response.ok) throw new Error(`${server.spec.name}: flush failed: ${await response.text()}`);
  return ((await response.json()) as { statements: number }).statements;
}
