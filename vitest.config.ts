import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Suites share one PostgreSQL server but each works in its own schema.
    fileParallelism: true,
    // Two test files at a time whatever the cores (vitest's default is one fewer than the
    // cores, one on a 2-core CI machine): most suites wait on PostgreSQL, pgbouncer or child
    // processes rather than on the CPU, and one at a time made `npm test` run for 11 minutes.
    maxWorkers: 2,
    // One private pgbouncer for the run, in front of that server (test/support/pooler.ts).
    globalSetup: ["test/support/pgbouncer-setup.ts"],
    projects: [
      {
        extends: true,
        test: {
          name: "pgsession",
          include: ["src/**/*.test.ts", "test/**/*.test.ts"],
          // Slow suites (PostgreSQL restarts on a throwaway cluster) run in `npm run reliability`.
          exclude: [...configDefaults.exclude, "test/**/*.slow.test.ts"],
        },
      },
      {
        // pgsession supports Express 4.18+ and 5: the Express adapter's and PgSessionStore's
        // suites run once more on Express 4 (the devDependency "express4", npm:express@4),
        // loaded wherever a test imports "express". PGSESSION_EXPRESS tells the tests which.
        extends: true,
        test: {
          name: "express4",
          include: ["test/adapters/express.test.ts", "test/adapters/express-session.test.ts", "test/adapters/express-globals.test.ts"],
          env: { PGSESSION_EXPRESS: "4" },
        },
        resolve: { alias: [{ find: /^express$/, replacement: "express4" }] },
      },
    ],
  },
});
