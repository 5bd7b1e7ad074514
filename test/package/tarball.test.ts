/**
 * The packed package, as an application gets it. `npm pack` runs once (it builds), then:
 * the tarball's files; publint and arethetypeswrong on it; the import graph of the library's
 * entry points; and scratch applications, outside the repository, that install it with npm
 * (each once, npm's cache first) and run the programs in test/package/consumer/:
 * - next to Express 4 and express-session: the install resolves, the app serves sessions
 *   over real HTTP on PostgreSQL, and its types check;
 * - with nothing but fastify: pgsession/fastify loads and serves (no fastify-plugin);
 * - next to Express 5, express-session, Fastify and Hono: every adapter's types check with
 *   the session data registered once, and CommonJS require()s every entry point.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort } from "../adapters/client.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CONSUMER = join(ROOT, "test/package/consumer");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const BIN = join(ROOT, "node_modules/.bin");

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  license: string;
  engines: { node: string };
  files: string[];
  main: string;
  types: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  repository: { url: string };
  homepage: string;
  bugs: { url: string };
};

const execFileAsync = promisify(execFile);

/** Runs a command; rejects with its output when it fails. */
async function run(command: string, args: string[], cwd: string, timeout = 170_000): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(command, args, { cwd, timeout, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } });
  } catch (err) {
    const { stdout = "", stderr = "" } = err as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout}\n${stderr}`, { cause: err });
  }
}

let scratch: string;
let tarball: string;
let packedFiles: string[];

/** A scratch application in its own folder: package.json, then `npm install` of the tarball and `deps`, once. */
async function installApp(name: string, deps: string[]): Promise<string> {
  const dir = join(scratch, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `scratch-${name}`, private: true, type: "module" }));
  await run(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error", tarball, ...deps],
    dir,
  );
  return dir;
}

/** Type-checks a consumer program (test/package/consumer/types) inside `app` with the repository's tsc. */
async function typecheck(app: string, project: string): Promise<void> {
  const dir = join(app, "types");
  if (!existsSync(dir)) cpSync(join(CONSUMER, "types"), dir, { recursive: true });
  await run(process.execPath, [TSC, "-p", join(dir, project)], dir);
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "pgsession-package-"));
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", scratch], ROOT);
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!packed) throw new Error(`npm pack printed no package:\n${stdout}`);
  tarball = join(scratch, packed.filename);
  packedFiles = packed.files.map((file) => file.path).sort();
}, 180_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("the tarball", () => {
  it("ships the build, the SQL, the README and the LICENSE, and nothing else", () => {
    const outside = packedFiles.filter((file) => !file.startsWith("dist/") && !file.startsWith("sql/"));
    expect(outside.sort()).toEqual(["LICENSE", "README.md", "package.json"]);
    expect(pkg.files).toEqual(["dist", "sql"]);
    expect(packedFiles.filter((file) => file.startsWith("sql/"))).toEqual(
      expect.arrayContaining(["sql/001_init.sql", "sql/functions.sql"]),
    );
    // No source map (they would point at src/, which is not shipped), no test, no source.
    expect(packedFiles.filter((file) => !/^(dist\/.+\.(js|d\.ts)|sql\/.+\.sql|LICENSE|README\.md|package\.json)$/.test(file))).toEqual([]);
    expect(packedFiles.filter((file) => /\.test\./.test(file))).toEqual([]);
    for (const file of packedFiles.filter((f) => f.endsWith(".js") || f.endsWith(".d.ts"))) {
      expect(readFileSync(join(ROOT, file), "utf8"), file).not.toContain("sourceMappingURL");
    }
  });

  it("has every file package.json points at (the repository's pgsession-source condition aside)", () => {
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin)];
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string") targets.push(target);
      else {
        for (const [condition, file] of Object.entries(target)) {
          // Names src/ for the repository's own tools (tsconfig.json); no application's tool sets it.
          if (condition === "pgsession-source") expect(file, subpath).toMatch(/^\.\/src\//);
          else targets.push(file);
        }
      }
    }
    for (const target of targets) expect(packedFiles, target).toContain(posix.normalize(target));
  });

  it("says its license (MIT, in a LICENSE file), where it lives, and the Node versions that can require() it", () => {
    expect(pkg.license).toBe("MIT");
    const license = readFileSync(join(ROOT, "LICENSE"), "utf8");
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} pgsession contributors\n/);
    expect(pkg.repository.url).toMatch(/^git\+https:\/\/github\.com\/[\w-]+\/pgsession\.git$/);
    expect(pkg.homepage).toMatch(/^https:\/\/github\.com\/[\w-]+\/pgsession#readme$/);
    expect(pkg.bugs.url).toMatch(/^https:\/\/github\.com\/[\w-]+\/pgsession\/issues$/);
    expect(pkg.engines.node).toBe("^20.19.0 || >=22.12.0");
  });

  it("passes publint", async () => {
    const { stdout } = await run(join(BIN, "publint"), ["run", tarball, "--strict"], scratch);
    expect(stdout).toContain("All good!");
  });

  it("passes arethetypeswrong as an ESM-only package (types resolve for node16 ESM and bundlers)", async () => {
    // esm-only: the CommonJS resolutions are not promised (require() of ESM reaches the same files).
    await run(join(BIN, "attw"), [tarball, "--profile", "esm-only", "--format", "table-flipped"], scratch);
  });

  it("reaches no CLI code and no dependency but its own and its optional peers from the library's entry points", async () => {
    const unpacked = join(scratch, "unpacked");
    mkdirSync(unpacked);
    await run("tar", ["-xzf", tarball, "-C", unpacked], scratch);
    const root = join(unpacked, "package");
    const seen = new Set<string>();
    const bare = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = readFileSync(join(root, file), "utf8");
      // Imports, re-exports, import() and require() as TypeScript's scanner finds them (not
      // in comments), and the one createRequire(import.meta.url)("...") form the code uses.
      const specifiers = [
        ...ts.preProcessFile(code, true, true).importedFiles.map((ref) => ref.fileName),
        ...[...code.matchAll(/createRequire\(import\.meta\.url\)\("([^"]+)"\)/g)].map((match) => match[1] as string),
      ];
      for (const specifier of specifiers) {
        if (specifier.startsWith(".")) visit(posix.join(posix.dirname(file), specifier));
        else bare.add(specifier);
      }
    };
    for (const target of Object.values(pkg.exports)) {
      if (typeof target !== "string" && target.default) visit(posix.normalize(target.default));
    }
    expect(seen.size).toBeGreaterThan(20);
    expect([...seen].filter((file) => file.startsWith("dist/cli/"))).toEqual([]);
    // Found in each form: a static import (cookie, pg), import() (pglite, through ./pglite.js) and createRequire.
    expect([...bare]).toEqual(expect.arrayContaining(["cookie", "pg", "@electric-sql/pglite", "express-session"]));
    // A subpath (next/headers.js) counts as its package.
    const packageOf = (specifier: string) => specifier.split("/", specifier.startsWith("@") ? 2 : 1).join("/");
    const packages = [...new Set([...bare].map(packageOf))].filter((name) => !name.startsWith("node:") && !builtinModules.includes(name));
    const allowed = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)];
    expect(packages.filter((name) => !allowed.includes(name))).toEqual([]);
    // Every dependency is the library's: none is there for the CLI alone.
    for (const dependency of Object.keys(pkg.dependencies)) expect(packages, dependency).toContain(dependency);
  });
});

describe("an application with nothing but pgsession and fastify", () => {
  let app: string;
  beforeAll(async () => {
    app = await installApp("fastify-only", ["fastify@^5"]);
  }, 180_000);

  it("installs pgsession's own dependencies, all the library's, and nothing for the CLI", async () => {
    const { stdout } = await run("npm", ["ls", "--all", "--json"], app);
    type Tree = { version?: string; dependencies?: Record<string, Tree> };
    const installed = (JSON.parse(stdout) as Tree).dependencies?.pgsession?.dependencies ?? {};
    // npm lists the peers too, with no version unless the application installed them.
    const own = Object.entries(installed).filter(([name, tree]) => tree.version && !(name in pkg.peerDependencies));
    expect(own.map(([name]) => name).sort()).toEqual(Object.keys(pkg.dependencies).sort());
    expect(existsSync(join(app, "node_modules/cli-progress"))).toBe(false);
  });

  it("imports pgsession/fastify and serves a request, without fastify-plugin", async () => {
    expect(existsSync(join(app, "node_modules/fastify-plugin"))).toBe(false);
    cpSync(join(CONSUMER, "fastify-only.mjs"), join(app, "fastify-only.mjs"));
    const { stdout } = await run(process.execPath, ["fastify-only.mjs"], app);
    expect(JSON.parse(stdout)).toEqual({ status: 200, body: { isNew: true, user: null }, hasPlugin: true });
  });

  it("runs the CLI", async () => {
    const { stdout } = await run(join(app, "node_modules/.bin/pgsession"), ["--help"], app);
    expect(stdout).toContain("prune");
  });
});

describe("an application on Express 4 and express-session", () => {
  let app: string;
  beforeAll(async () => {
    // Before pgsession took Express 4, this install failed with ERESOLVE.
    app = await installApp("express4", [
      "express@^4.18",
      "express-session@^1.18",
      "pg@^8.11",
      "@types/express@^4.17",
      "@types/express-session",
      "@types/node@^20.19",
    ]);
  }, 180_000);

  it("installs Express 4 next to pgsession", () => {
    const express = JSON.parse(readFileSync(join(app, "node_modules/express/package.json"), "utf8")) as { version: string };
    expect(express.version).toMatch(/^4\./);
  });

  it("type-checks the Express programs, req.session typed by the registered data and PgSessionStore an express-session Store", async () => {
    await typecheck(app, "tsconfig.express.json");
  }, 120_000);

  describe.skipIf(!hasPostgres)("serving over real HTTP on PostgreSQL", () => {
    const schema = uniqueSchema("pkg_express4");
    let child: ChildProcess;
    let base: string;
    let output = "";

    beforeAll(async () => {
      cpSync(join(CONSUMER, "express-app.mjs"), join(app, "express-app.mjs"));
      const downUrl = `postgres://postgres@127.0.0.1:${await closedPort()}/down`;
      child = spawn(process.execPath, ["express-app.mjs"], {
        cwd: app,
        env: { ...process.env, DATABASE_URL, PGSESSION_SCHEMA: schema, DOWN_URL: downUrl },
        stdio: ["ignore", "pipe", "pipe"],
      });
      base = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the app did not start in 30 s:\n${output}`)), 30_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        };
        child.stdout?.on("data", onData);
        child.stderr?.on("data", onData);
        child.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`the app exited with ${code}:\n${output}`));
        });
      });
    }, 40_000);

    afterAll(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill();
        await once(child, "exit");
      }
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    });

    /** Sends a request with `cookie` (name=value, or none); resolves to status, JSON body and Set-Cookie lines. */
    async function send(method: string, path: string, cookie?: string) {
      const response = await fetch(base + path, { method, headers: cookie ? { cookie } : {} });
      const text = await response.text();
      const body = response.headers.get("content-type")?.startsWith("application/json") ? (JSON.parse(text) as unknown) : text;
      return { status: response.status, body, setCookie: response.headers.getSetCookie() };
    }
    const cookieOf = (setCookie: string[]) => (setCookie[0] ?? "").split(";")[0] as string;

    it("pgsession's middleware: creates lazily, persists, rotates on login, logs out", async () => {
      const first = await send("GET", "/pg/me");
      expect(first).toEqual({ status: 200, body: { user: null, visits: 0 }, setCookie: [] });
      const counted = await send("POST", "/pg/count");
      expect(counted.body).toEqual({ visits: 1 });
      const anonymous = cookieOf(counted.setCookie);
      expect(anonymous).toMatch(/^session=[\w-]{43}$/);
      expect((await send("POST", "/pg/count", anonymous)).body).toEqual({ visits: 2 });
      const login = await send("POST", "/pg/login", anonymous);
      expect(login.body).toEqual({ user: "ada" });
      const signedIn = cookieOf(login.setCookie);
      expect(signedIn).toMatch(/^session=[\w-]{43}$/);
      expect(signedIn).not.toBe(anonymous);
      expect((await send("GET", "/pg/me", signedIn)).body).toEqual({ user: "ada", visits: 2 });
      expect((await send("GET", "/pg/me", anonymous)).body).toEqual({ user: null, visits: 0 });
      const logout = await send("POST", "/pg/logout", signedIn);
      expect(logout.setCookie[0]).toMatch(/^session=; Max-Age=0/);
      expect((await send("GET", "/pg/me", signedIn)).body).toEqual({ user: null, visits: 0 });
    });

    it("answers 503 with no Set-Cookie when the database does not answer", async () => {
      const answered = await send("GET", "/down", `session=${"A".repeat(43)}`);
      expect(answered.status).toBe(503);
      expect(answered.setCookie).toEqual([]);
    });

    it("express-session with PgSessionStore: counts, destroys", async () => {
      const counted = await send("POST", "/es/count");
      expect(counted.body).toEqual({ visits: 1 });
      const sid = cookieOf(counted.setCookie);
      expect(sid).toMatch(/^connect\.sid=/);
      expect((await send("POST", "/es/count", sid)).body).toEqual({ visits: 2 });
      expect((await send("POST", "/es/logout", sid)).body).toEqual({ ok: true });
      expect((await send("POST", "/es/count", sid)).body).toEqual({ visits: 1 });
      expect(child.exitCode, output).toBeNull();
    });
  });
});

describe("an application on Express 5, express-session, Fastify and Hono", () => {
  let app: string;
  beforeAll(async () => {
    app = await installApp("frameworks", [
      "express@^5",
      "express-session@^1.18",
      "fastify@^5",
      "hono@^4",
      "react-router@^7.18",
      "pg@^8.11",
      "@types/express@^5",
      "@types/express-session",
      "@types/node@^20.19",
    ]);
  }, 180_000);

  it("type-checks every adapter's program, the session data registered once, express-session's types beside", async () => {
    await typecheck(app, "tsconfig.json");
  }, 120_000);

  it("types req.session as pgsession's alone when express-session's types are not in the program", async () => {
    await typecheck(app, "tsconfig.express-alone.json");
  }, 120_000);

  it("require()s every entry point from CommonJS and gets what import gets", async () => {
    // pgsession/pglite needs @electric-sql/pglite, not installed here.
    const entries = Object.keys(pkg.exports)
      .filter((subpath) => subpath !== "./package.json" && subpath !== "./pglite")
      .map((subpath) => posix.join(pkg.name, subpath));
    cpSync(join(CONSUMER, "require-esm.cjs"), join(app, "require-esm.cjs"));
    const { stdout } = await run(process.execPath, ["require-esm.cjs", ...entries], app);
    const seen = JSON.parse(stdout) as Record<string, { required: string[]; imported: string[] }>;
    expect(Object.keys(seen)).toEqual(entries);
    for (const [entry, { required, imported }] of Object.entries(seen)) {
      expect(required.length, entry).toBeGreaterThan(0);
      expect(required, entry).toEqual(imported);
    }
    expect(seen.pgsession?.required).toContain("createSessions");
  });
});
