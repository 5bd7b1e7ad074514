/**
 * The load: pre-creating sessions over HTTP, and running wrk as a separate process.
 * @module
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("../wrk/sessions.lua", import.meta.url));

/** What one wrk run measured. */
export interface WrkResult {
  requests: number;
  durationUs: number;
  /** Requests per second over the run. */
  rps: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
}

/** How to load a server. */
export interface LoadOptions {
  port: number;
  path: string;
  /** File of Cookie header values (none: requests carry no cookie). */
  cookieFile: string | null;
  connections: number;
  threads: number;
  /** Seconds. */
  durationS: number;
  /** Stops wrk early (SIGINT: wrk still prints its results) when this signal aborts. */
  stop?: AbortSignal;
}

/**
 * Runs wrk once and parses the line its Lua `done` prints.
 *
 * @example
 * ```ts
 * const result = await runWrk({ port: 21100, path: "/read", cookieFile, connections: 50, threads: 2, durationS: 7 });
 * ```
 */
export function runWrk(options: LoadOptions): Promise<WrkResult> {
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.durationS}s`,
    "--timeout",
    "10s",
    "-s",
    SCRIPT,
    `http://127.0.0.1:${options.port}`,
    "--",
    options.path,
    options.cookieFile ?? "",
  ];
  const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
  const onStop = () => child.kill("SIGINT");
  options.stop?.addEventListener("abort", onStop, { once: true });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      options.stop?.removeEventListener("abort", onStop);
      const line = stdout.split("\n").find((l) => l.startsWith("WRK_JSON "));
      if (!line) return reject(new Error(`wrk exited with ${code} without results:\n${stdout}\n${stderr}`));
      const parsed = JSON.parse(line.slice("WRK_JSON ".length)) as Omit<WrkResult, "rps">;
      resolve({ ...parsed, rps: parsed.requests / (parsed.durationUs / 1e6) });
    });
  });
}

/**
 * Creates `count` sessions by calling GET /login (20 at a time) and writes their
 * Cookie header values to `file`, one a line. Checks that the first one reads back.
 *
 * @example
 * ```ts
 * await createSessionCookies(21100, "session", 1000, "pgsession-node.cookies");
 * ```
 */
export async function createSessionCookies(port: number, cookieName: string, count: number, file: string): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const cookies: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const response = await fetch(`${base}/login`);
      await response.arrayBuffer();
      const cookie = response.headers
        .getSetCookie()
        .map((c) => c.split(";", 1)[0] ?? "")
        .find((c) => c.startsWith(`${cookieName}=`));
      if (response.status !== 200 || !cookie) throw new Error(`GET ${base}/login: status ${response.status}, no ${cookieName} cookie`);
      cookies.push(cookie);
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  const check = await fetch(`${base}/read`, { headers: { cookie: cookies[0] as string } });
  const body = await check.text();
  if (check.status !== 200 || body !== "0") throw new Error(`GET ${base}/read with a new session answered ${check.status} ${body}`);
  writeFileSync(file, `${cookies.join("\n")}\n`);
}
