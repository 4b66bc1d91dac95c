/*
 * Cuts one direction of a WebSocket connection's byte stream into units the fault proxy can act on
 * whole: first the HTTP head of the upgrade (request or response), then frames (RFC 6455 §5.2). Bytes
 * are buffered until a unit is complete, so a unit is never split by TCP's chunking.
 */

export interface Unit {
  kind: "head" | "frame";
  bytes: Buffer;
  /** Frames: opcode (1 text, 2 binary, 8 close, 9 ping, 10 pong). */
  opcode: number;
  /** Frames: where the mask key starts, or -1 when unmasked (server to client). */
  maskAt: number;
  /** Frames: where the payload starts. */
  payloadAt: number;
}

const HEAD_END = Buffer.from("\r\n\r\n");

export class FrameCutter {
  #buffer: Buffer = Buffer.alloc(0);
  #inHead = true;

  /** Adds bytes; returns the units they complete, in order. */
  push(chunk: Buffer): Unit[] {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    const units: Unit[] = [];
    for (;;) {
      const unit = this.#next();
      if (!unit) break;
      units.push(unit);
    }
    return units;
  }

  #next(): Unit | undefined {
    const b = this.#buffer;
    if (this.#inHead) {
      const end = b.indexOf(HEAD_END);
      if (end < 0) return undefined;
      this.#inHead = false;
      return this.#take(end + 4, "head", 0, -1, 0);
    }
    if (b.length < 2) return undefined;
    const masked = (b[1] & 0x80) !== 0;
    const len7 = b[1] & 0x7f;
    let at = 2;
    let length = len7;
    if (len7 === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      at = 4;
    } else if (len7 === 127) {
      if (b.length < 10) return undefined;
      length = Number(b.readBigUInt64BE(2));
      at = 10;
    }
    const maskAt = masked ? at : -1;
    if (masked) at += 4;
    if (b.length < at + length) return undefined;
    return this.#take(at + length, "frame", b[0] & 0x0f, maskAt, at);
  }

  #take(size: number, kind: Unit["kind"], opcode: number, maskAt: number, payloadAt: number): Unit {
    const bytes = this.#buffer.subarray(0, size);
    this.#buffer = this.#buffer.subarray(size);
    return { kind, bytes: Buffer.from(bytes), opcode, maskAt, payloadAt };
  }
}

/** The text of an unmasked text frame (server to client), or undefined. */
export function frameText(unit: Unit): string | undefined {
  if (unit.kind !== "frame" || unit.opcode !== 1 || unit.maskAt >= 0) return undefined;
  return unit.bytes.subarray(unit.payloadAt).toString();
}

/** An unmasked frame, as a server sends it. */
export function serverFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, n]) : Buffer.from([0x80 | opcode, 126, n >> 8, n & 0xff]);
  if (n > 0xffff) throw new RangeError("frame too long for this helper");
  return Buffer.concat([head, payload]);
}

/** A close frame with `code` and `reason`, as a server sends it. */
export function closeFrame(code: number, reason = ""): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return serverFrame(8, payload);
}
