/** pgsession with its Fastify adapter and the read cache. */
import { servePgsessionFastify } from "./pgsession-fastify-app.js";

await servePgsessionFastify("pgsession-fastify-cache", { cache: true });
