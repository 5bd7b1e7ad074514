/**
 * Run with plain Node by test/package/tarball.test.ts: CommonJS code require()s each entry
 * point named on the command line (require(esm), unflagged since Node 20.19 and 22.12) and
 * gets what `import` gets. Prints, per entry, the export names each way as JSON.
 */
"use strict";

async function main() {
  const seen = {};
  for (const entry of process.argv.slice(2)) {
    seen[entry] = { required: Object.keys(require(entry)).sort(), imported: Object.keys(await import(entry)).sort() };
  }
  console.log(JSON.stringify(seen));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
