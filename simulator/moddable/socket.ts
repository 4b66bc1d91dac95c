/*
 * `socket`: device code only subclasses Socket to hand to the WebSocket client (`options.Socket`, see
 * modules/host/moddable.ts). The simulated client (websocket.ts) makes it, as the SDK's does, but carries
 * the bytes on its own connection: this socket only answers how much its send buffer takes now (write()
 * with no arguments, as the SDK socket does) and hears the writable message, `callback(3)`, both from the
 * connection's model of lwIP's send buffer (hardware/network.ts). Anything else is a mistake worth failing on.
 */
export class Socket {
  static readonly writable = 3;
  #room: () => number = () => 0;
  // No `callback` field: as on the SDK's Socket, a subclass may define it as an accessor.
  declare callback: ((message: number, value?: number) => void) | undefined;

  constructor(_options: object) {}

  /** The simulated client wires its connection's send buffer here. */
  attachSendBuffer(room: () => number): void {
    this.#room = room;
  }

  write(...data: unknown[]): number {
    if (data.length) throw new Error("raw TCP writes are not simulated: only the websocket Client writes");
    return this.#room();
  }

  read(): never {
    throw new Error("raw TCP reads are not simulated: only the websocket Client reads");
  }

  close(): void {}
}
