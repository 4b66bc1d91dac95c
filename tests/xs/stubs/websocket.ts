/* `websocket` stub: a client that never connects. */
import { stubs } from "./state";

export class Client {
  static readonly connect = 1;
  static readonly handshake = 2;
  static readonly receive = 3;
  static readonly disconnect = 4;
  callback: ((message: number, value?: unknown) => void) | undefined;
  constructor(_options: unknown) {
    stubs.sockets++;
  }
  write(_message: string | ArrayBuffer): void {}
  close(): void {}
}

export default Object.freeze({ Client });
