/** pgsession with its node:http adapter (`withSession`). */
import { servePgsessionNode } from "./pgsession-node-app.js";

await servePgsessionNode("pgsession-node");
