/* `onewire` stub (the SDK's modules/drivers/onewire): there is no 1-Wire bus here, so opening one throws. */
export default class OneWire {
  constructor(_options: { pin: number }) {
    throw new Error("1-Wire is not available in the XS tier");
  }
}
