/*
 * `socket`: device code only subclasses Socket to hand to the WebSocket client (`options.Socket`, see
 * modules/host/moddable.ts). The simulated client (websocket.ts) makes its own connection and ignores
 * that option, so a raw socket is never opened here; making one is a mistake worth failing on.
 */
export class Socket {
  constructor(_options: object) {
    throw new Error("raw TCP sockets are not simulated: only the websocket Client is");
  }
}
