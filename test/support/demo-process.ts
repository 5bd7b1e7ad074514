/**
 * Runs `pgsession demo` as a child process (the way `npm start` does) and stops it by PID.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cliArgv } from "./cli.js";

/** A running demo. */
export interface DemoProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * Starts `pgsession demo ...args` (default: `--port 0`, any free port) and waits (at most
 * `timeoutMs`) for the line with its URL.
 */
export function startDemoProcess(options: {
  cwd: string;
  env: NodeJS.ProcessEnv;
  args?: string[];
  timeoutMs?: number;
}): Promise<DemoProcess> {
  const child = spawn(process.execPath, cliArgv(["demo", ...(options.args ?? ["--port", "0"])]), {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const stop = async (graceMs = 10_000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop(1000);
      reject(new Error(`pgsession demo did not start within ${options.timeoutMs ?? 60_000} ms:\n${log}`));
    }, options.timeoutMs ?? 60_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString("utf8");
      const match = /pgsession demo: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, child, output: () => log, stop });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`pgsession demo exited with ${code} before listening:\n${log}`));
    });
  });
}
