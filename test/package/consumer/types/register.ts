/**
 * The application registers its session data once; every adapter's session is typed by it.
 * Type-checked by test/package/tarball.test.ts in scratch applications, against the packed
 * package: never part of the repository's own program (where it would retype every test).
 */
export interface AppData {
  visits: number;
  name?: string;
}

declare module "pgsession" {
  interface Register {
    data: AppData;
  }
}

/** Compiles when `value` is assignable to `T`. */
export const expectType = <T>(value: T): T => value;
