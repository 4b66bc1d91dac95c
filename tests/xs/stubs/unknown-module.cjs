/*
 * Stand-in for a Moddable module that has no stub of its own in tests/xs/stubs (a CommonJS module, so any
 * named import binds): every export is a callable that returns undefined, and a class that throws when
 * constructed. Add a real stub when code needs the module to work.
 */
const unavailable = new Proxy(class Unavailable {}, {
  get(target, key) {
    if (key === "__esModule") return false;
    if (key === "prototype") return target.prototype;
    if (typeof key === "symbol") return undefined;
    return unavailable;
  },
  apply() {
    return undefined;
  },
  construct() {
    throw new Error("this Moddable module has no stub in tests/xs/stubs");
  },
});
module.exports = unavailable;
