/**
 * `npm run bench:cache-memory`: bytes per cached session (bench/lib/cache-memory.ts), for
 * the benchmark's session data and for about 1 KiB of data. `npm run bench` runs it too.
 * Prints JSON.
 */
import { measureCacheMemory } from "./lib/cache-memory.js";

const entries = Number(process.argv[2] ?? 100_000);
const results = [
  measureCacheMemory("the benchmark's { userId, n }", entries, () => ({ userId: `user-${Math.random()}`, n: 0 })),
  measureCacheMemory("about 1 KiB of data (a cart of 10 items)", entries, () => ({
    userId: `user-${Math.random()}`,
    cart: Array.from({ length: 10 }, (_, i) => ({
      sku: `SKU-${i}-${Math.random().toString(36).slice(2, 10)}`,
      qty: i + 1,
      price: 19.99 + i,
      title: "A product title of some length",
    })),
  })),
];
console.log(JSON.stringify(results, null, 2));
