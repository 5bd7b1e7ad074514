// @ts-check
/**
 * The example's SvelteKit configuration: adapter-node, and "pgsession" resolved from this
 * repository's source. An application that installed pgsession needs no alias; here each
 * entry of pgsession's package.json "exports" becomes one (as the "pgsession-source"
 * condition names it for the other examples), because Vite, which bundles the server, does
 * not resolve a package's own name from inside it. Only exported subpaths resolve, and
 * kit.alias serves both Vite and the tsconfig SvelteKit generates.
 */
import adapter from "@sveltejs/adapter-node";
import { readFileSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";

const repository = new URL("../../", import.meta.url);
const { exports } = JSON.parse(readFileSync(new URL("package.json", repository), "utf8"));
/** @type {Record<string, string>} */
const alias = {};
// Longest first: a Vite alias also matches what starts with its name and a slash.
const entries = Object.entries(exports).sort(([a], [b]) => b.length - a.length);
for (const [subpath, target] of entries) {
  const source = typeof target === "object" ? target["pgsession-source"] : undefined;
  if (source) alias[`pgsession${subpath.slice(1)}`] = fileURLToPath(new URL(source, repository));
}

/** @type {import("@sveltejs/kit").Config} */
export default {
  kit: { adapter: adapter({ precompress: false }), alias },
};
