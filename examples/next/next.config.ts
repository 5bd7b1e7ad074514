import type { NextConfig } from "next";

const config: NextConfig = {
  // pgsession runs on Node.js as installed (it reads its SQL migrations from its own
  // folder), as Next already runs `pg`: load it with Node's import, do not bundle it.
  serverExternalPackages: ["pgsession"],
  poweredByHeader: false,
};

export default config;
