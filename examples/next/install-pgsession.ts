/**
 * Installs pgsession, built from this repository's src/, as examples/next/node_modules/pgsession:
 * its package.json, dist/ and sql/, what `npm install pgsession` gives an application. The
 * app then reaches `pgsession/next` through the package's "exports", as any application
 * does. The build goes there, not to the repository's dist/, which `npm pack` deletes and
 * rebuilds while other tests may run.
 *
 * `npm run example:next` runs it; so does the test that builds the app.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Where the app finds pgsession. */
export const INSTALLED = fileURLToPath(new URL("node_modules/pgsession", import.meta.url));

/** Builds pgsession into {@link INSTALLED} with the repository's TypeScript (bounded in time). */
export async function installPgsession(): Promise<void> {
  rmSync(INSTALLED, { recursive: true, force: true });
  mkdirSync(INSTALLED, { recursive: true });
  cpSync(join(ROOT, "package.json"), join(INSTALLED, "package.json"));
  cpSync(join(ROOT, "sql"), join(INSTALLED, "sql"), { recursive: true });
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  await promisify(execFile)(process.execPath, [tsc, "-p", join(ROOT, "tsconfig.build.json"), "--outDir", join(INSTALLED, "dist")], {
    cwd: ROOT,
    timeout: 120_000,
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await installPgsession();
