import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Slow suites (PostgreSQL restarts on a throwaway cluster) run in `npm run reliability`.
    exclude: [...configDefaults.exclude, "test/**/*.slow.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Suites share one PostgreSQL server but each works in its own schema.
    fileParallelism: true,
    // One private pgbouncer for the run, in front of that server (test/support/pooler.ts).
    globalSetup: ["test/support/pgbouncer-setup.ts"],
  },
});
