/* `node:assert/strict` in the XS tier. */
import { makeAssert, AssertionError, type Assert } from "./assert";

const assert: Assert = makeAssert(true);
assert.strict = assert;

export default assert;
export { AssertionError };
export const {
  ok, equal, notEqual, strictEqual, notStrictEqual, deepEqual, notDeepEqual, deepStrictEqual, notDeepStrictEqual,
  throws, doesNotThrow, rejects, doesNotReject, match, doesNotMatch, fail, ifError,
} = assert;
export const strict: Assert = assert;
