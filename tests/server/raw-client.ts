/*
 * A raw WebSocket client on node:net, for what a well-behaved client (ws) cannot send: frames built byte by
 * byte (any opcode, RSV bits, length encoding, mask), odd upgrade requests, bytes after a refusal. It reads
 * the server's answer (HTTP status, then its frames) so that a test can see what the server said.
 */
import { connect, type Socket } from "node:net";

export interface FrameSpec {
  fin?: boolean;
  /** RSV1-3 as a 3-bit number (RSV1 = 4). */
  rsv?: number;
  /** 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong; anything 0-15. */
  opcode: number;
  payload: Buffer | string;
  /** Client frames must be masked; false sends one unmasked. */
  mask?: boolean;
  maskKey?: Buffer;
  /** How the length is written: the shortest form (default), or 16-/64-bit even when shorter would do. */
  lengthAs?: "short" | "16" | "64";
  /** A length field that lies: this many bytes are announced, the payload is sent as it is. */
  announced?: number;
}

/** One client frame, as bytes. */
export function frameBytes(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === "string" ? Buffer.from(spec.payload) : spec.payload;
  const length = spec.announced ?? payload.length;
  const mask = spec.mask ?? true;
  const form = spec.lengthAs ?? (length < 126 ? "short" : length < 65536 ? "16" : "64");
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) & 7) << 4 | (spec.opcode & 15)];
  const maskBit = mask ? 0x80 : 0;
  if (form === "short") head.push(maskBit | Math.min(length, 125));
  else if (form === "16") head.push(maskBit | 126, (length >> 8) & 255, length & 255);
  else {
    head.push(maskBit | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(length));
    head.push(...big);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = spec.maskKey ?? Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from(head), key, masked]);
}

export const text = (payload: string | object, spec: Partial<FrameSpec> = {}) =>
  frameBytes({ opcode: 1, payload: typeof payload === "string" ? payload : JSON.stringify(payload), ...spec });

export function closeFrame(code?: number, reason = ""): Buffer {
  const payload = code === undefined ? Buffer.alloc(0) : Buffer.concat([Buffer.from([code >> 8, code & 255]), Buffer.from(reason)]);
  return frameBytes({ opcode: 8, payload });
}

/** An upgrade request to `path`, with the device's token when given; `extra` lines go in as they are. */
export function upgradeRequest(path: string, token?: string, extra: string[] = []): string {
  return [
    `GET ${path} HTTP/1.1`, "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
    ...(token === undefined ? [] : [`Authorization: Bearer ${token}`]), ...extra, "", "",
  ].join("\r\n");
}

/** A frame from the server. */
export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

export class RawClient {
  readonly socket: Socket;
  /** Resolves when the server has closed the connection (or it failed): the bytes it sent, in all. */
  readonly closed: Promise<Buffer>;
  #received: Buffer[] = [];
  #onData: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk) => {
      this.#received.push(chunk);
      this.#onData?.();
    });
    this.closed = new Promise((resolve) => {
      socket.on("close", () => {
        resolve(this.received);
        this.#onData?.();
      });
      socket.on("error", () => {}); // a reset shows as the close
    });
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  /** Opens a connection and upgrades it to `path`; resolves once the server's answer head is in. */
  static async upgrade(port: number, path: string, token?: string, extra: string[] = []): Promise<RawClient> {
    const client = await RawClient.open(port);
    client.write(upgradeRequest(path, token, extra));
    await client.until(() => client.received.includes("\r\n\r\n") || client.socket.closed);
    return client;
  }

  get received(): Buffer {
    if (this.#received.length > 1) this.#received = [Buffer.concat(this.#received)];
    return this.#received[0] ?? Buffer.alloc(0);
  }

  /** The status code of the server's HTTP answer, once it is in (101 for an upgrade). */
  get status(): number | undefined {
    const match = /^HTTP\/1\.1 (\d{3})/.exec(this.received.subarray(0, 16).toString("latin1"));
    return match === null ? undefined : Number(match[1]);
  }

  /** The server's frames after its 101 answer, as far as they have come in whole. */
  get frames(): ServerFrame[] {
    const all = this.received;
    let at = all.indexOf("\r\n\r\n");
    if (at < 0) return [];
    at += 4;
    const frames: ServerFrame[] = [];
    while (at + 2 <= all.length) {
      const opcode = all[at] & 15;
      let length = all[at + 1] & 127;
      let start = at + 2;
      if (length === 126) {
        if (start + 2 > all.length) break;
        length = all.readUInt16BE(start);
        start += 2;
      } else if (length === 127) {
        if (start + 8 > all.length) break;
        length = Number(all.readBigUInt64BE(start));
        start += 8;
      }
      if (start + length > all.length) break;
      frames.push({ opcode, payload: all.subarray(start, start + length) });
      at = start + length;
    }
    return frames;
  }

  /** The server's text frames, parsed as JSON. */
  get messages(): Record<string, unknown>[] {
    return this.frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString()) as Record<string, unknown>);
  }

  /** The close code of the server's close frame, once it has come. */
  get closeCode(): number | undefined {
    const close = this.frames.find((f) => f.opcode === 8);
    return close === undefined || close.payload.length < 2 ? undefined : close.payload.readUInt16BE(0);
  }

  write(data: Buffer | string): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Resolves once `done()` holds, checked whenever bytes come in or the connection closes. */
  until(done: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!done() && !this.socket.closed) return;
        this.#onData = undefined;
        resolve();
      };
      this.#onData = check;
      check();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
