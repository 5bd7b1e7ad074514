import { describe, expect, it } from "vitest";
import { jsonbTextBytes } from "./jsonb-size.js";

// What PostgreSQL 15 prints for `$json::jsonb::text`; test/regressions/data-size-limit.test.ts
// compares random values against the database itself.
const CASES: Array<[unknown, string]> = [
  [{}, "{}"],
  [[], "[]"],
  [{ a: 1, b: [1, 2, { c: null }] }, '{"a": 1, "b": [1, 2, {"c": null}]}'],
  [{ s: 'q"\\\n\u0001é€😀' }, '{"s": "q\\"\\\\\\n\\u0001é€😀"}'],
  [{ "k,:": "v,:" }, '{"k,:": "v,:"}'],
  [[1e21, -1.5e-7, 5e-324, 0.000001, -0, 123.5], `[1${"0".repeat(21)}, -0.00000015, 0.${"0".repeat(323)}5, 0.000001, 0, 123.5]`],
  [[true, false, null, "", 2.5e300], `[true, false, null, "", 25${"0".repeat(299)}]`],
];

describe("jsonbTextBytes", () => {
  it.each(CASES)("measures %j as PostgreSQL's text of the jsonb", (value, pgText) => {
    expect(jsonbTextBytes(JSON.stringify(value))).toBe(Buffer.byteLength(pgText));
  });

  it("is never less than the compact JSON's UTF-8 bytes", () => {
    for (const [value] of CASES) {
      const json = JSON.stringify(value);
      expect(jsonbTextBytes(json)).toBeGreaterThanOrEqual(Buffer.byteLength(json));
    }
  });
});
