import { defineConfig } from "vitest/config";

/** The fault suite, slow parts included, one file at a time: `npm run faults` and `npm run reliability`. */
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
