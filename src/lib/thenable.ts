/**
 * Internal: whether a value a callback returned is a promise or any other thenable.
 * @module
 */

/** Whether `value` has a callable `then` (a promise, or a thenable from another library). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function"
  );
}
