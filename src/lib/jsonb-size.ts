/**
 * The size of session data as `maxDataSize` counts it: the UTF-8 bytes of PostgreSQL's text
 * of the stored jsonb, `octet_length(data::text)`, which the database measures when it
 * merges a write. Computed here from the compact JSON text that `JSON.stringify` writes,
 * so the check before a write and the one in SQL agree to the byte.
 * @module
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Whether a character code can continue a JSON number (digits, sign, point, exponent). */
function inNumber(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2b || code === 0x2e || code === 0x65 || code === 0x45;
}

/**
 * The length of PostgreSQL's text of a JSON number: `numeric` never writes an exponent,
 * so `1e+21` comes back as 22 digits and `1.5e-7` as `0.00000015`.
 */
function numberLength(token: string): number {
  const e = token.search(/[eE]/);
  if (e === -1) return token.length;
  const sign = token.startsWith("-") ? 1 : 0;
  const mantissa = token.slice(sign, e);
  const point = mantissa.indexOf(".");
  const integerDigits = point === -1 ? mantissa.length : point;
  const fractionDigits = point === -1 ? 0 : mantissa.length - point - 1;
  const exponent = Number(token.slice(e + 1));
  // As numeric_in: the digits shift by the exponent, the scale is what stays after the point.
  const scale = Math.max(0, fractionDigits - exponent);
  return sign + Math.max(1, integerDigits + exponent) + (scale > 0 ? 1 + scale : 0);
}

/**
 * The bytes of PostgreSQL's text of the jsonb that `json` (text as `JSON.stringify` writes
 * it) becomes: `octet_length(json::jsonb::text)`. PostgreSQL writes a space after each
 * `,` and `:` between values and numbers without an exponent; strings and their escapes
 * are the same in both. Duplicate object keys, which `JSON.stringify` never writes, would
 * be counted though jsonb keeps one.
 *
 * @example
 * ```ts
 * jsonbTextBytes('{"a":[1,2],"é":1e21}'); // 43: {"a": [1, 2], "é": 1000000000000000000000}
 * ```
 */
export function jsonbTextBytes(json: string): number {
  let bytes = 0;
  for (let i = 0; i < json.length; i++) {
    const code = json.charCodeAt(i);
    if (code === QUOTE) {
      bytes++;
      for (i++; i < json.length; i++) {
        const c = json.charCodeAt(i);
        if (c === QUOTE) break;
        if (c === BACKSLASH) {
          // An escape: the backslash and the ASCII character after it (a \u escape's
          // four hex digits are counted as they come).
          bytes += 2;
          i++;
        } else if (c < 0x80) bytes += 1;
        else if (c < 0x800) bytes += 2;
        else if (c >= 0xd800 && c <= 0xdfff)
          bytes += 2; // half of a 4-byte pair
        else bytes += 3;
      }
      bytes++;
    } else if (code === COMMA || code === COLON) {
      bytes += 2;
    } else if (code === 0x2d || (code >= 0x30 && code <= 0x39)) {
      let end = i + 1;
      while (end < json.length && inNumber(json.charCodeAt(end))) end++;
      bytes += numberLength(json.slice(i, end));
      i = end - 1;
    } else {
      bytes++;
    }
  }
  return bytes;
}
