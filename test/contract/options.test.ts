/**
 * Options validated through the real `createSessions`: a value of the wrong type throws
 * SessionConfigError at construction, naming the option, for options whose checks live
 * in different modules (options, cookie policy, encryption).
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSessions } from "../../src/index.js";
import { SessionConfigError } from "../../src/errors.js";
import type { SessionsOptions } from "../../src/manager/options.js";

const KEY = { id: "k1", key: randomBytes(32) };

function configErrorOf(options: SessionsOptions): unknown {
  try {
    createSessions(options);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("createSessions refuses a bad type for an option, naming it", () => {
  it.each<[string, SessionsOptions]>([
    ["unlogged", { unlogged: "yes" as never }],
    ["trustProxy", { trustProxy: "yes" as never }],
    ["trustProxy", { trustProxy: 1.5 as never }],
    ["randomBytes", { randomBytes: "x" as never }],
    ["cookie.httpOnly", { cookie: { httpOnly: "no" as never } }],
    ["encrypt.onWarning", { encrypt: { keys: [KEY], onWarning: 5 as never } }],
  ])("%s", (option, options) => {
    const error = configErrorOf(options);
    expect(error).toBeInstanceOf(SessionConfigError);
    expect((error as SessionConfigError).code).toBe("ERR_SESSION_CONFIG");
    expect((error as SessionConfigError).option).toBe(option);
    expect((error as Error).message).toContain(option);
  });

  it("accepts the same options with values of the right type", () => {
    const valid: SessionsOptions[] = [
      { unlogged: true },
      { trustProxy: true },
      { randomBytes: (size) => new Uint8Array(size) },
      { cookie: { httpOnly: false } },
      { encrypt: { keys: [KEY], onWarning: () => {} } },
    ];
    for (const options of valid) expect(configErrorOf(options)).toBeUndefined();
  });
});
