// @ts-check
/**
 * Lint: ESLint's and typescript-eslint's recommended rules (syntax only, no type-aware
 * rules), tuned to the project's conventions, and the layering of DESIGN.md §4.
 */
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

/**
 * The layers under src/: what each may not import. A layer imports only the ones below
 * it, so no import cycle can run between layers (a cycle needs one import pointing up);
 * cycles inside one layer are left to review.
 *
 *   errors.ts  imports nothing of pgsession
 *   lib/       lib, errors
 *   session/   lib, errors, session
 *   manager/   lib, errors, session, manager
 *   store/     lib, errors, session, store
 *   index.ts, create-sessions.ts (the composition root): everything but adapters and cli
 *   adapters/  everything but cli
 *   cli/       everything
 */
const ROOT = ["index", "create-sessions"];
const layers = [
  { name: "src/lib/", files: ["src/lib/**"], forbidden: ["session", "manager", "store", "adapters", "cli", ...ROOT] },
  { name: "src/session/", files: ["src/session/**"], forbidden: ["manager", "store", "adapters", "cli", ...ROOT] },
  { name: "src/manager/", files: ["src/manager/**"], forbidden: ["store", "adapters", "cli", ...ROOT] },
  { name: "src/store/", files: ["src/store/**"], forbidden: ["manager", "adapters", "cli", ...ROOT] },
  { name: "The composition root", files: ROOT.map((file) => `src/${file}.ts`), forbidden: ["adapters", "cli"], fromTop: true },
  { name: "src/adapters/", files: ["src/adapters/**"], forbidden: ["cli"] },
  { name: "src/cli/", files: ["src/cli/**"], forbidden: [] },
];

/**
 * Forbids the specifiers matching `regex`: in imports and re-exports (`no-restricted-imports`,
 * with `also`, more of its patterns) and in `import()` (`no-restricted-syntax`).
 */
function forbid(/** @type {string} */ regex, /** @type {string} */ message, /** @type {object[]} */ also = []) {
  return {
    "no-restricted-imports": ["error", { patterns: [...also, { regex, message }] }],
    // esquery ends a regex at its first slash: spell the slashes as \x2F.
    "no-restricted-syntax": ["error", { selector: `ImportExpression[source.value=/${regex.replaceAll("/", "\\x2F")}/]`, message }],
  };
}

/**
 * The rules for one layer. A forbidden specifier climbs to src/ with `../` (from the top
 * of src/: starts with `./`) and enters a forbidden folder or top-level file. It is
 * matched as written, so no folder inside a layer may be named after another layer.
 */
function layerRules(/** @type {{ name: string, forbidden: string[], fromTop?: boolean }} */ { name, forbidden, fromTop = false }) {
  // Inside src/ the package is imported by relative path; its own name is for examples and users.
  const self = { group: ["pgsession", "pgsession/*"], message: "Inside src/, import by relative path, not by the package's own name." };
  if (forbidden.length === 0) return { "no-restricted-imports": ["error", { patterns: [self] }] };
  const named = forbidden.map((target) => (ROOT.includes(target) ? `${target}.ts` : `${target}/`));
  const regex = `^${fromTop ? "\\./" : "(?:\\.\\./)+"}(?:${forbidden.join("|")})(?:/|\\.js$)`;
  return forbid(regex, `${name} may not import ${named.join(", ")} (DESIGN.md §4: a layer imports only the layers below it).`, [self]);
}

export default defineConfig(
  globalIgnores(["dist/", "coverage/", "bench/.build/", "bench/results/", ".pgsession/", ".reliability/", "docs/api/"]),
  // What `vite build` writes in the SvelteKit example.
  globalIgnores(["examples/sveltekit/build/", "examples/sveltekit/.svelte-kit/"]),
  // The Next.js example's build output, and the declarations `next build` writes.
  globalIgnores(["examples/next/.next/", "examples/next/next-env.d.ts"]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a parameter or binding kept on purpose (a handler's
      // signature, a property left out of a rest spread).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      // `interface PgSessionData extends Record<string, unknown> {}` is the declaration-merging idiom.
      "@typescript-eslint/no-empty-object-type": ["error", { allowInterfaces: "with-single-extends" }],
      // Every control character in a pattern here is there on purpose: the code rejects them in names and headers.
      "no-control-regex": "off",
    },
  },
  // errors.ts is the leaf: no relative import at all.
  {
    files: ["src/errors.ts"],
    rules: forbid("^\\.", "src/errors.ts imports nothing of pgsession (DESIGN.md §4)."),
  },
  layers.map(({ files, ...layer }) => ({ files, rules: layerRules(layer) })),
  {
    files: ["examples/**"],
    rules: forbid("^(?:\\.\\./)+src/", 'Examples import pgsession as users do: "pgsession", "pgsession/pg", "pgsession/express", ...'),
  },
  {
    // Scripts that test/package/tarball.test.ts runs with plain Node in scratch applications;
    // require-esm.cjs is CommonJS on purpose, to require() the package.
    files: ["test/package/consumer/**/*.{mjs,cjs}"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
  {
    files: ["test/package/consumer/**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Tests and benchmark servers read untyped JSON bodies and peers' untyped sessions.
    files: ["test/**", "bench/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
