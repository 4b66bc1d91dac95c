/* `socket` stub: a TCP socket that never connects. */
export class Socket {
  static readonly error = -2;
  static readonly disconnect = -1;
  static readonly connect = 1;
  static readonly dataReceived = 2;
  static readonly dataSent = 3;
  // Declared, not a field: the SDK's Socket has no own `callback`, and a field would hide a subclass's accessor.
  declare callback: ((message: number, value?: number) => void) | undefined;
  constructor(_options?: object) {}
  write(..._data: unknown[]): number {
    return 0;
  }
  read(..._args: unknown[]): unknown {
    return undefined;
  }
  close(): void {}
}

export class Listener {
  constructor(_options?: object) {}
  close(): void {}
}

export default Object.freeze({ Socket, Listener });
