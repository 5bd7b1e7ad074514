/**
 * A private pgbouncer in front of the test PostgreSQL server: its own ini, auth file, pid
 * file, log and unix socket directory in a temporary directory, listening on 127.0.0.1 on a
 * free port, started as a child process and stopped by its pid. Never the system service.
 * No vitest here: the tests start it once per run (`pgbouncer-setup.ts`), the benchmark
 * (`bench/run.ts`) for its pooled servers.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { accessSync, chownSync, closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** One database entry of the pgbouncer: an alias of the upstream database, with its pooling. */
export interface PooledDatabase {
  /** The name clients connect to. */
  alias: string;
  /** pgbouncer's pool_mode for this entry. */
  poolMode: "transaction" | "session";
  /** Server connections of this entry's pool (pgbouncer's pool_size). */
  poolSize: number;
}

/** What {@link startPgbouncer} needs. */
export interface PgbouncerOptions {
  /** The PostgreSQL server it forwards to, as a URL (host, port, user, password, database). */
  upstream: string;
  databases: readonly PooledDatabase[];
  /** Client connections it accepts in all (max_client_conn). Default 400. */
  maxClientConnections?: number;
}

/** A running pgbouncer. */
export interface RunningPgbouncer {
  pid: number;
  port: number;
  /** The URL of each alias, by alias (the upstream's user and password, the pgbouncer's address). */
  urls: Record<string, string>;
  /** Its log so far (for failures). */
  log(): string;
  /** Stops it (SIGTERM to its pid) and removes its directory. */
  stop(): Promise<void>;
}

/** Where Debian and others install it: sbin is not on every PATH. */
const EXTRA_DIRS = ["/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin"];

/**
 * The pgbouncer executable: `$PGBOUNCER`, else the first on PATH or in the sbin directories; null if none.
 *
 * @example
 * ```ts
 * const binary = findPgbouncer(); // "/usr/sbin/pgbouncer"
 * ```
 */
export function findPgbouncer(): string | null {
  const candidates = process.env.PGBOUNCER
    ? [process.env.PGBOUNCER]
    : [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), ...EXTRA_DIRS].map((dir) => join(dir, "pgbouncer"));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not there: the next one
    }
  }
  return null;
}

/** A free TCP port on 127.0.0.1 (free when asked; pgbouncer binds it a moment later). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * pgbouncer refuses to run as root: as root it is started with `-u` as this account (the
 * one PostgreSQL runs as, else nobody), which must own its directory.
 */
function unprivilegedUser(): { name: string; uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const name of ["postgres", "nobody"]) {
    const uid = spawnSync("id", ["-u", name], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
    if (uid.status === 0 && gid.status === 0) return { name, uid: Number(uid.stdout), gid: Number(gid.stdout) };
  }
  throw new Error("pgbouncer does not run as root, and neither a postgres nor a nobody account exists to run it as");
}

/** A value of pgbouncer's connection strings and ini (quoted when it holds spaces or quotes). */
function iniValue(value: string): string {
  return /^[\w.\-/:]+$/.test(value) ? value : `'${value.replaceAll("'", "''")}'`;
}

/** The ini and auth file of one instance. */
function configure(dir: string, port: number, options: PgbouncerOptions): { ini: string; urls: Record<string, string> } {
  const upstream = new URL(options.upstream);
  const user = decodeURIComponent(upstream.username || "postgres");
  const password = decodeURIComponent(upstream.password);
  const database = decodeURIComponent(upstream.pathname.slice(1)) || user;
  const host = upstream.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
  const server = [
    `host=${iniValue(host)}`,
    `port=${upstream.port || "5432"}`,
    `dbname=${iniValue(database)}`,
    `user=${iniValue(user)}`,
    ...(password ? [`password=${iniValue(password)}`] : []),
  ].join(" ");
  const urls: Record<string, string> = {};
  const credentials = upstream.username ? `${upstream.username}${upstream.password ? `:${upstream.password}` : ""}@` : "";
  for (const db of options.databases) urls[db.alias] = `postgres://${credentials}127.0.0.1:${port}/${encodeURIComponent(db.alias)}`;
  // trust: pgbouncer asks clients for nothing (loopback only), but still wants them in the auth file.
  writeFileSync(join(dir, "userlist.txt"), `"${user.replaceAll('"', '""')}" "${password.replaceAll('"', '""')}"\n`);
  const ini = [
    "[databases]",
    ...options.databases.map((db) => `${db.alias} = ${server} pool_mode=${db.poolMode} pool_size=${db.poolSize}`),
    "",
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    `unix_socket_dir = ${dir}`,
    "auth_type = trust",
    `auth_file = ${join(dir, "userlist.txt")}`,
    `pidfile = ${join(dir, "pgbouncer.pid")}`,
    `logfile = ${join(dir, "pgbouncer.log")}`,
    "pool_mode = transaction",
    `max_client_conn = ${options.maxClientConnections ?? 400}`,
    "",
  ].join("\n");
  return { ini, urls };
}

/** Resolves once 127.0.0.1:`port` accepts a connection; rejects when `child` exits first or after `ms`. */
async function listening(child: ChildProcess, port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pgbouncer exited (${child.exitCode ?? child.signalCode})`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`pgbouncer did not listen on 127.0.0.1:${port} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Starts a private pgbouncer in front of `options.upstream` (a free port, a new temporary
 * directory) and resolves once it listens.
 *
 * @example
 * ```ts
 * const bouncer = await startPgbouncer({
 *   upstream: "postgres://postgres@127.0.0.1:5432/test",
 *   databases: [{ alias: "test", poolMode: "transaction", poolSize: 8 }],
 * });
 * const pool = new pg.Pool({ connectionString: bouncer.urls.test });
 * await bouncer.stop();
 * ```
 */
export async function startPgbouncer(options: PgbouncerOptions, binary = findPgbouncer()): Promise<RunningPgbouncer> {
  if (binary === null) throw new Error("pgbouncer is not installed (Debian: apt-get install pgbouncer)");
  const account = unprivilegedUser();
  let lastError: Error | undefined;
  // The port is free when chosen; another process may take it before pgbouncer binds it: try again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), "pgsession-pgbouncer-"));
    const port = await freePort();
    const { ini, urls } = configure(dir, port, options);
    const iniFile = join(dir, "pgbouncer.ini");
    writeFileSync(iniFile, ini);
    if (account) for (const file of ["", "pgbouncer.ini", "userlist.txt"]) chownSync(join(dir, file), account.uid, account.gid);
    // Its stderr (what it says before its log file is open) goes to a file too: no pipe to drain.
    const stderr = openSync(join(dir, "stderr.log"), "w");
    const child = spawn(binary, [...(account ? ["-u", account.name] : []), iniFile], { stdio: ["ignore", "ignore", stderr] });
    closeSync(stderr);
    const log = () =>
      ["stderr.log", "pgbouncer.log"]
        .map((file) => {
          try {
            return readFileSync(join(dir, file), "utf8");
          } catch {
            return ""; // not written (yet)
          }
        })
        .join("");
    const remove = () => rmSync(dir, { recursive: true, force: true });
    // A test run that dies without its teardown must not leave the pgbouncer running.
    const onExit = () => child.kill("SIGTERM");
    process.once("exit", onExit);
    try {
      await listening(child, port, 5_000);
    } catch (err) {
      process.removeListener("exit", onExit);
      child.kill("SIGKILL");
      lastError = new Error(`${(err as Error).message}:\n${log()}`, { cause: err });
      remove();
      continue;
    }
    return {
      pid: child.pid as number,
      port,
      urls,
      log,
      async stop() {
        process.removeListener("exit", onExit);
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
          child.kill("SIGTERM");
          const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
          await exited;
          clearTimeout(force);
        }
        remove();
      },
    };
  }
  throw lastError ?? new Error("pgbouncer did not start");
}
