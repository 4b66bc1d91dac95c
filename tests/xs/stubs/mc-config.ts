/* `mc/config` stub: the manifest config of a board with no thermocast settings of its own. */
const config: Record<string, unknown> = Object.freeze({ file: Object.freeze({ root: "/" }), thermocast: Object.freeze({}) });
export default config;
