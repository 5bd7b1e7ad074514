/**
 * Runs a snippet of TypeScript in a child node process (tsx, from the repo root), bounded in time.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Runs `code` (an ES module) in a child node with tsx from the repo root. The child must
 * print `marker` within `startLimitMs` (loading PGlite can be slow on a busy machine) and
 * then exit within `exitLimitMs`; past either bound this child, and only it, is killed by pid.
 */
export function runChild(code: string, marker: string, startLimitMs: number, exitLimitMs: number, env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; killed: "before marker" | "after marker" | null }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      let killed: "before marker" | "after marker" | null = null;
      const kill = (when: "before marker" | "after marker") => () => {
        killed = when;
        if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
      };
      let guard = setTimeout(kill("before marker"), startLimitMs);
      child.stdout.on("data", (chunk: Buffer) => {
        const seen = stdout.includes(marker);
        stdout += chunk.toString();
        if (!seen && stdout.includes(marker) && killed === null) {
          clearTimeout(guard);
          guard = setTimeout(kill("after marker"), exitLimitMs);
        }
      });
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("error", (err) => {
        clearTimeout(guard);
        reject(err);
      });
      child.on("exit", (exitCode) => {
        clearTimeout(guard);
        resolve({ code: exitCode, stdout, stderr, killed });
      });
    },
  );
}
