import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Suites share one PostgreSQL server but each works in its own schema.
    fileParallelism: true,
  },
});
