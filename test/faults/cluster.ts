/**
 * A throwaway PostgreSQL cluster that a test creates, restarts and removes on its own port,
 * so that the shared server is never disturbed. The binaries are found at run time
 * (PG_BINDIR, `pg_config --bindir`, the Debian layout, then PATH); as root, initdb and
 * pg_ctl run as the `postgres` user (initdb refuses root). When any of it is impossible,
 * {@link createThrowawayCluster} resolves to the reason, for the test to skip with.
 */
import { execFile as execFileCallback, execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { closedPort } from "../adapters/client.js";

const execFile = promisify(execFileCallback);

export type StopMode = "smart" | "fast" | "immediate";

export interface ThrowawayCluster {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly dir: string;
  start(): Promise<void>;
  stop(mode: StopMode): Promise<void>;
  restart(mode: StopMode): Promise<void>;
  /** Stops the server (if running) and deletes its directory. Never throws. */
  remove(): Promise<void>;
}

function hasTools(dir: string | undefined): dir is string {
  return dir !== undefined && dir.length > 0 && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"));
}

/** Where initdb and pg_ctl live, or null. */
export function findBinDir(): string | null {
  const candidates: Array<string | undefined> = [process.env.PG_BINDIR];
  try {
    candidates.push(
      execFileSync("pg_config", ["--bindir"], { encoding: "utf8", timeout: 5_000, stdio: ["ignore", "pipe", "ignore"] }).trim(),
    );
  } catch {
    // no pg_config on PATH
  }
  try {
    const versions = readdirSync("/usr/lib/postgresql")
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => `/usr/lib/postgresql/${version}/bin`));
  } catch {
    // not the Debian layout
  }
  candidates.push(...(process.env.PATH ?? "").split(delimiter));
  return candidates.find(hasTools) ?? null;
}

/** Whether `tool` is on PATH (or in the sbin directories root's PATH usually has). */
function onPath(tool: string): boolean {
  return [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin"].some((dir) => dir.length > 0 && existsSync(join(dir, tool)));
}

function postgresUser(): { uid: number; gid: number } | null {
  try {
    const uid = Number(
      execFileSync("id", ["-u", "postgres"], { encoding: "utf8", timeout: 5_000, stdio: ["ignore", "pipe", "ignore"] }).trim(),
    );
    const gid = Number(
      execFileSync("id", ["-g", "postgres"], { encoding: "utf8", timeout: 5_000, stdio: ["ignore", "pipe", "ignore"] }).trim(),
    );
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
  } catch {
    return null;
  }
}

/** Creates and starts a cluster on a free loopback port, or resolves to why it cannot. */
export async function createThrowawayCluster(): Promise<ThrowawayCluster | string> {
  const bin = findBinDir();
  if (bin === null) return "no initdb/pg_ctl found (set PG_BINDIR, or put pg_config on PATH)";
  const root = process.getuid?.() === 0;
  const owner = root ? postgresUser() : null;
  if (root && owner === null) return "running as root and there is no postgres user to run initdb as";
  if (root && !onPath("runuser")) return "running as root without runuser (util-linux)";

  const dir = mkdtempSync(join(tmpdir(), "pgsession-cluster-"));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, "data");
  const port = await closedPort();
  const run = async (tool: string, args: string[]) => {
    const file = join(bin, tool);
    const [command, argv] = root ? ["runuser", ["-u", "postgres", "--", file, ...args]] : [file, args];
    await execFile(command, argv, { timeout: 60_000, cwd: dir });
  };
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=40 -c shared_buffers=16MB`;
  let running = false;
  // Last resort if the process exits without afterAll (a crash): stop the server, delete the directory.
  const onExit = () => {
    try {
      const file = join(bin, "pg_ctl");
      const argv = ["-D", data, "-m", "immediate", "-w", "-t", "10", "stop"];
      if (running)
        execFileSync(root ? "runuser" : file, root ? ["-u", "postgres", "--", file, ...argv] : argv, { timeout: 15_000, stdio: "ignore" });
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);
  const cluster: ThrowawayCluster = {
    host: "127.0.0.1",
    port,
    dir,
    async start() {
      await run("pg_ctl", ["-D", data, "-l", join(dir, "server.log"), "-o", options, "-w", "-t", "30", "start"]);
      running = true;
    },
    async stop(mode) {
      await run("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "30", "stop"]);
      running = false;
    },
    async restart(mode) {
      await run("pg_ctl", ["-D", data, "-l", join(dir, "server.log"), "-o", options, "-m", mode, "-w", "-t", "30", "restart"]);
      running = true;
    },
    async remove() {
      process.removeListener("exit", onExit);
      if (running) await cluster.stop("immediate").catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]);
    await cluster.start();
    return cluster;
  } catch (err) {
    await cluster.remove();
    return `could not create a throwaway cluster: ${(err as Error).message.split("\n")[0]}`;
  }
}
