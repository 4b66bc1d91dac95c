/* `websocket` stub: a client that never connects. */
import { stubs } from "./state";

export class Client {
  static readonly connect = 1;
  static readonly handshake = 2;
  static readonly receive = 3;
  static readonly disconnect = 4;
  callback: ((message: number, value?: unknown) => void) | undefined;
  /** As the SDK client: the socket made from `options.Socket`. */
  socket: unknown;
  constructor(options: { Socket?: new (options: object) => unknown }) {
    stubs.sockets++;
    if (options?.Socket) this.socket = new options.Socket({});
  }
  write(_message: string | ArrayBuffer): void {}
  close(): void {}
}

export default Object.freeze({ Client });
