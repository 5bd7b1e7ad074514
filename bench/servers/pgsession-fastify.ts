/** pgsession with its Fastify adapter (`pgsessionPlugin`). */
import { servePgsessionFastify } from "./pgsession-fastify-app.js";

await servePgsessionFastify("pgsession-fastify");
