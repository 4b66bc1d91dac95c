/* `embedded:*` (ECMA-419 IO) stub: each class throws when constructed, since there is no hardware here. */
class Unavailable {
  constructor() {
    throw new Error("ECMA-419 IO is not available in the XS tier");
  }
}
export default Unavailable;
export const device = Object.freeze({ io: Object.freeze({}), I2C: Object.freeze({}), SPI: Object.freeze({}) });
