/**
 * Runs an app of examples/ as its own process, as `npm run example:*` does: node with tsx,
 * from the repo root, "pgsession" resolved to src/ through package.json's
 * "pgsession-source" export condition (see tsconfig.json), so no build is needed. The app
 * prints where it listens; it is stopped by its PID only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A running example. */
export interface ExampleProcess {
  readonly child: ChildProcess;
  /** Its origin, e.g. `http://127.0.0.1:41234`. */
  readonly base: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Ends it (SIGTERM, then SIGKILL after `graceMs`) and resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `file` (a path from the repo root) with `env` added to this process's
 * environment; resolves once it prints `listening on http://127.0.0.1:<port>`, rejects
 * (and kills it) if it exits first or says nothing of the kind within `timeoutMs`.
 *
 * @example
 * ```ts
 * const app = await startExample("examples/express.ts", { PORT: "0", DATABASE_URL, PGSESSION_SCHEMA: schema });
 * await fetch(app.base + "/");
 * await app.stop();
 * ```
 */
export async function startExample(file: string, env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<ExampleProcess> {
  const child = spawn(process.execPath, ["--conditions=pgsession-source", "--import", "tsx", file], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = once(child, "exit").then(() => undefined);
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async (graceMs = 5_000) => {
    if (!running()) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => {
      if (running()) child.kill("SIGKILL");
    }, graceMs);
    await exited;
    clearTimeout(timer);
  };
  let output = "";
  try {
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${file} did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${file} exited with ${child.exitCode ?? child.signalCode}:\n${output}`));
      });
    });
    return { child, base, output: () => output, stop };
  } catch (err) {
    await stop(0);
    throw err;
  }
}
