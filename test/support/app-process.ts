/**
 * Runs a TypeScript app as a child process (node with tsx, the package's own name resolved
 * to src/ by the `pgsession-source` condition, from the repo root), reads the JSON lines it
 * prints, and stops it by its PID only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** One line the app printed, parsed. */
export type AppReport = Record<string, unknown> & { event: string };

/** A running app. */
export interface AppProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Every JSON line printed so far, in order. */
  readonly reports: AppReport[];
  /** Everything printed on stderr so far. */
  stderr(): string;
  /** Resolves to the first report (already printed or to come) that `match` accepts; rejects after `timeoutMs` or if the app exits first. */
  waitFor(match: (report: AppReport) => boolean, timeoutMs: number): Promise<AppReport>;
  /** Sends `signal` to this process (by its PID) and resolves when it has exited; SIGKILL after `graceMs` if it has not. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/**
 * Starts `file` (a path from the repo root) with `env`, and waits at most `timeoutMs` for
 * it to print a `listening` report.
 *
 * @example
 * ```ts
 * const app = await startAppProcess("test/topologies/instance-app.ts", { ...process.env, INSTANCE: "a" }, 30_000);
 * const { port } = app.reports.find((r) => r.event === "listening")!;
 * await app.stop("SIGKILL");
 * ```
 */
export async function startAppProcess(file: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<AppProcess> {
  const child = spawn(process.execPath, ["--conditions=pgsession-source", "--import", "tsx", file], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`could not start ${file}`);
  const pid = child.pid;
  const reports: AppReport[] = [];
  const waiters = new Set<() => void>();
  let stderr = "";
  let pending = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      try {
        const parsed = JSON.parse(line) as AppReport;
        if (typeof parsed === "object" && parsed !== null && typeof parsed.event === "string") reports.push(parsed);
      } catch {
        stderr += `(stdout) ${line}\n`;
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => {
    for (const wake of waiters) wake();
  });
  const running = () => child.exitCode === null && child.signalCode === null;

  const waitFor = (match: (report: AppReport) => boolean, limitMs: number) =>
    new Promise<AppReport>((resolve, reject) => {
      const check = () => {
        const found = reports.find(match);
        if (found) return finish(() => resolve(found));
        if (!running()) return finish(() => reject(new Error(`${file} (pid ${pid}) exited before the awaited report:\n${stderr}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${file} (pid ${pid}): no awaited report within ${limitMs} ms:\n${stderr}`))),
        limitMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  const stop = async (signal: NodeJS.Signals = "SIGTERM", graceMs = 5_000) => {
    if (!running()) return;
    process.kill(pid, signal);
    const timer = setTimeout(() => {
      if (running()) process.kill(pid, "SIGKILL");
    }, graceMs);
    await exited;
    clearTimeout(timer);
  };

  const app: AppProcess = { pid, child, reports, stderr: () => stderr, waitFor, stop };
  try {
    await waitFor((report) => report.event === "listening", timeoutMs);
  } catch (err) {
    await stop("SIGKILL");
    throw err;
  }
  return app;
}
