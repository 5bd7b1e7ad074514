/** Packaging: every export points at a source file, and every subpath the README names is exported. */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  exports: Record<string, string | { "pgsession-source": string; types: string; default: string }>;
  files: string[];
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
const root = new URL("../../", import.meta.url);

describe("package.json", () => {
  it("maps every subpath to a built file whose source exists", () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string") continue; // ./package.json
      expect(target.default, subpath).toMatch(/^\.\/dist\/.+\.js$/);
      expect(target.types, subpath).toBe(target.default.replace(/\.js$/, ".d.ts"));
      const source = target.default.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts");
      expect(existsSync(new URL(source, root)), `${subpath} -> ${source}`).toBe(true);
      // The condition the examples and tsc resolve the package's own name with (tsconfig.json).
      expect(target["pgsession-source"], subpath).toBe(`./${source}`);
    }
  });

  it("exports every pgsession/* subpath the README mentions", () => {
    const readme = readFileSync(new URL("README.md", root), "utf8");
    const named = new Set([...readme.matchAll(/pgsession\/([a-z0-9-]+)/g)].map((m) => `./${m[1]}`));
    expect(named.size).toBeGreaterThan(0);
    for (const subpath of named) expect(Object.keys(pkg.exports), subpath).toContain(subpath);
  });

  it("installs next to express 4 or 5 and any fastify-plugin, every framework and driver an optional peer", () => {
    // npm refuses to install next to a present optional peer outside its range: an app on
    // express 4 could not add pgsession at all. The Fastify plugin marks itself as
    // fastify-plugin would, so no range of fastify-plugin (5, or 6 that @fastify/session brings) can clash.
    const majors = (range: string | undefined) => (range ?? "").split("||").map((part) => /^\s*\^(\d+)\.\d+(?:\.\d+)?\s*$/.exec(part)?.[1]);
    expect(majors(pkg.peerDependencies.express)).toEqual(["4", "5"]);
    expect(pkg.peerDependencies["fastify-plugin"]).toBeUndefined();
    for (const name of Object.keys(pkg.peerDependencies)) expect(pkg.peerDependenciesMeta[name]?.optional, name).toBe(true);
  });

  it("ships the compiled code and the SQL migrations", () => {
    expect(pkg.files).toEqual(expect.arrayContaining(["dist", "sql"]));
  });
});
