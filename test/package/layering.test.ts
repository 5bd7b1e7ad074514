/** The lint rule that keeps the layers of DESIGN.md §4: a layer that imports one above it fails `npm run lint`. */
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const cwd = fileURLToPath(new URL("../..", import.meta.url));
const eslint = new ESLint({ cwd });

/** The rules a snippet breaks when it stands at `path` (a file that need not exist). */
async function brokenRules(path: string, code: string): Promise<Array<string | null>> {
  const [result] = await eslint.lintText(code, { filePath: `${cwd}${path}` });
  return result?.messages.map((message) => message.ruleId) ?? ["no result"];
}

describe("the layering rule", () => {
  it("forbids src/manager/ to import the store", async () => {
    expect(await brokenRules("src/manager/x.ts", 'import { pgStore } from "../store/pg.js";\nexport const store = pgStore;\n')).toEqual([
      "no-restricted-imports",
    ]);
    expect(await brokenRules("src/manager/x.ts", 'export const load = () => import("../store/pg.js");\n')).toEqual([
      "no-restricted-syntax",
    ]);
  });

  it("forbids src/store/ to import the manager", async () => {
    expect(await brokenRules("src/store/x.ts", 'export { createSessions } from "../manager/manager.js";\n')).toEqual([
      "no-restricted-imports",
    ]);
  });

  it("lets a layer import the layers below it", async () => {
    const code =
      'import { SessionError } from "../errors.js";\nimport type { Session } from "../session/session.js";\nexport type Either = Session | SessionError;\n';
    expect(await brokenRules("src/manager/x.ts", code)).toEqual([]);
  });

  it("makes the examples import pgsession by its name, as users do", async () => {
    expect(await brokenRules("examples/x.ts", 'export { createSessions } from "../src/index.js";\n')).toEqual(["no-restricted-imports"]);
    expect(await brokenRules("examples/x.ts", 'export { createSessions } from "pgsession";\n')).toEqual([]);
  });
});
