/** Every `pgsession/<entry>` the README names is in package.json `exports`, and every export has a source file. */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { exports: Record<string, string | { types: string; default: string }> };

describe("packaging", () => {
  it("exports every subpath the README mentions", () => {
    const readme = readFileSync(`${ROOT}README.md`, "utf8");
    const named = new Set([...readme.matchAll(/["`]pgsession\/([a-z-]+)["`]/g)].map((m) => `./${m[1]}`));
    expect([...named].filter((entry) => !(entry in pkg.exports))).toEqual([]);
  });

  it("points every export at a module that exists in src", () => {
    for (const [entry, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string") continue;
      const source = target.default.replace("./dist/", "src/").replace(/\.js$/, ".ts");
      expect(existsSync(`${ROOT}${source}`), `${entry} -> ${source}`).toBe(true);
    }
  });
});
