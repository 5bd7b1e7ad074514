/** Diagnostic: pgsession-node without the read cache, on a table with the cache's triggers (no one listens). */
import { servePgsessionNode } from "./pgsession-node-app.js";

await servePgsessionNode("pgsession-node-triggers", { triggers: true });
