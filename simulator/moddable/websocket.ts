/* `websocket` client (SDK modules/network/websocket/websocket.js); semantics in hardware/network.ts. */
import type { Connection } from "../hardware/network";
import { hardware, local } from "./hardware";
import { Socket } from "./socket";

export type WebSocketClientCallback = (message: number, value?: unknown) => void;

export interface WebSocketClientOptions {
  host?: string;
  address?: string;
  port?: number;
  path?: string;
  protocol?: string;
  headers?: string[];
  /** The SDK builds its TCP socket from this class; the simulated client has its own connection. */
  Socket?: unknown;
}

export class Client {
  static readonly connect = 1;
  static readonly handshake = 2;
  static readonly receive = 3;
  static readonly disconnect = 4;
  declare callback: WebSocketClientCallback;
  /** As the SDK client: the socket made from `options.Socket` (its send buffer and writable message). */
  readonly socket: Socket | undefined;
  #connection: Connection;

  constructor(options: WebSocketClientOptions) {
    const host = options.host ?? options.address ?? "";
    const settings = { host, port: options.port ?? 80, path: options.path ?? "/", headers: options.headers ?? [], protocol: options.protocol };
    // Like the SDK, a callback that is not set when an event arrives is an error.
    const connection = (this.#connection = hardware().network.connect(settings, (message, value) => this.callback(message, local(value))));
    if (options.Socket) {
      const socket = (this.socket = new (options.Socket as typeof Socket)({}));
      socket.attachSendBuffer(() => connection.room);
      socket.callback = () => {}; // the SDK client sets its own; the socket's messages reach it through the connection
      connection.onWritable = () => socket.callback?.(Socket.writable, connection.room);
    }
  }

  write(message: string | ArrayBuffer): void {
    this.#connection.write(message);
  }

  close(): void {
    this.#connection.close();
  }
}

export default Object.freeze({ Client });
