/** pgsession with its node:http adapter and the read cache. */
import { servePgsessionNode } from "./pgsession-node-app.js";

await servePgsessionNode("pgsession-node-cache", { cache: true });
