/**
 * What `fastify-plugin` does for a plugin, done here so that `pgsession/fastify` needs
 * nothing but Fastify: an app that installed pgsession and fastify imports it as it is.
 *
 * Two of the three marks are Fastify's documented API: `Symbol.for("skip-override")`
 * (Reference/Plugins, "Handle the scope": the plugin's decorators and hooks reach the
 * scope that registered it) and `Symbol.for("fastify.display-name")` (Reference/Server,
 * `pluginName`). The third, `Symbol.for("plugin-meta")`, is the metadata fastify-plugin
 * writes and Fastify reads (lib/plugin-utils.js): the Fastify range it checks at register
 * time and the name other plugins list in their `dependencies`. The adapter's tests fail
 * if Fastify stops reading any of them.
 * @module
 */

/** The marks, as fastify-plugin writes them. */
const SKIP_OVERRIDE = Symbol.for("skip-override");
const DISPLAY_NAME = Symbol.for("fastify.display-name");
const PLUGIN_META = Symbol.for("plugin-meta");

/**
 * Marks `plugin` as fastify-plugin's `fp(plugin, { name, fastify })` does and returns it.
 *
 * @example
 * ```ts
 * export const myPlugin = unencapsulated(async (fastify) => { fastify.decorateRequest("x", null); }, "my-plugin", "5.x");
 * ```
 */
export function unencapsulated<Plugin extends (...args: never[]) => unknown>(plugin: Plugin, name: string, fastifyRange: string): Plugin {
  Object.assign(plugin, {
    [SKIP_OVERRIDE]: true,
    [DISPLAY_NAME]: name,
    [PLUGIN_META]: { name, fastify: fastifyRange },
  });
  return plugin;
}
