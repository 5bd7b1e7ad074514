#!/usr/bin/env node
/**
 * The `pgsession` executable. Everything happens in {@link runCli}; this file only binds it
 * to the process: arguments, streams, signals and the exit code.
 * @module
 */
import { runCli } from "./run.js";

const controller = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => controller.abort());
}

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: { write: (text) => void process.stdout.write(text) },
  stderr: { write: (text) => void process.stderr.write(text) },
  terminal: process.stderr.isTTY ? process.stderr : null,
  signal: controller.signal,
});
process.exitCode = code;
