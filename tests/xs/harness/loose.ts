/* `node:assert` (legacy, loose equality) in the XS tier; `.strict` is node:assert/strict. */
import { makeAssert, AssertionError, type Assert } from "./assert";
import strictAssert from "./strict";

const assert: Assert = makeAssert(false);
assert.strict = strictAssert;

export default assert;
export { AssertionError };
export const {
  ok, equal, notEqual, strictEqual, notStrictEqual, deepEqual, notDeepEqual, deepStrictEqual, notDeepStrictEqual,
  throws, doesNotThrow, rejects, doesNotReject, match, doesNotMatch, fail, ifError,
} = assert;
export const strict: Assert = strictAssert;
