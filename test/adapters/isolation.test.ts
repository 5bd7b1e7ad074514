/**
 * Each adapter entry loads only its own framework: importing `pgsession/hono` loads
 * nothing of Express or Fastify, and no adapter loads a database driver. Checked in a
 * fresh process on the CommonJS module cache, where Express, express-session, Fastify and
 * pg land even when imported from ESM (an ESM-only package such as hono would not show).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PROBE = `
await import(process.argv[1]);
const { createRequire } = await import("node:module");
const names = Object.keys(createRequire(import.meta.url).cache).map((p) => (p.match(/node_modules[\\\\/]((@[^\\\\/]+[\\\\/])?[^\\\\/]+)/) || [])[1]);
console.log(JSON.stringify([...new Set(names.filter(Boolean))]));
`;

function loadedPackages(entry: string): string[] {
  const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", PROBE, `./src/adapters/${entry}.ts`], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 30_000,
  });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").at(-1) as string) as string[];
}

const FRAMEWORKS = ["express", "express-session", "fastify", "fastify-plugin", "hono", "koa"];
const DRIVERS = ["pg", "postgres", "@electric-sql/pglite"];

describe("adapter isolation", () => {
  const allowed: Record<string, string[]> = {
    node: [],
    fetch: [],
    hono: ["hono"],
    fastify: ["fastify"],
    express: ["express", "express-session"],
    koa: ["koa"],
    h3: [],
  };
  for (const [entry, own] of Object.entries(allowed)) {
    it(`pgsession/${entry} loads no other framework and no driver`, () => {
      const loaded = loadedPackages(entry);
      const foreign = loaded.filter((name) => (FRAMEWORKS.includes(name) && !own.includes(name)) || DRIVERS.includes(name));
      expect(foreign).toEqual([]);
    });
  }
});
