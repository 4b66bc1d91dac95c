/*
 * PortOutput: what the console and Improv write to the one serial port.
 *
 * The port's transmit buffer is small and bounded (the ESP8266 UART FIFO is 128 bytes; the host adapter
 * adds a ring of a few hundred bytes), so a long listing is not written at once: it is a *source* that
 * yields one line at a time, pulled whenever the port reports room (`drain`). Short writes go straight
 * to the port; when even those do not fit they are dropped and counted, never queued without bound.
 *
 * Improv clients look for packets at the start of a line (improv-wifi/sdk-serial-js resets its parser
 * on "\n"), so a packet is preceded by a line break when the console left the line open, and followed
 * by "\n" as ESPHome does.
 */
import type { SerialPort } from "../host/host";
import { utf8Length } from "./utf8";

/** The serial port as the host adapter offers it (modules/host: `openSerial`). */
export type { SerialPort };

/** Yields the next piece of a long output, or undefined when it is done. */
export interface OutputSource {
  next(): string | Uint8Array | undefined;
}

/**
 * The longest piece a source yields (an Improv packet is at most 6 + 3 + 255 + 1 bytes, plus framing):
 * the host's transmit ring must be at least this large, or a piece would wait forever.
 */
export const MAX_PIECE = 300;
/** At most this many sources wait their turn: the console's listing, Improv's scan, a few packets. */
const MAX_SOURCES = 6;
const LF = 0x0a;

export class PortOutput {
  /** Bytes dropped because the port had no room: reported by `status`. */
  dropped = 0;
  #port: SerialPort;
  #lineOpen = false;
  #sources: OutputSource[] = [];
  /** The piece a source yielded that did not fit yet. */
  #held: string | Uint8Array | undefined;

  constructor(port: SerialPort) {
    this.#port = port;
  }

  /** True while sources are still being sent. */
  get busy(): boolean {
    return this.#sources.length > 0;
  }

  /** Writes `text` now, or drops it (and counts it) when the port has no room. */
  write(text: string): boolean {
    if (!text) return true;
    if (!this.#fits(text)) {
      this.dropped += utf8Length(text);
      return false;
    }
    this.#send(text);
    return true;
  }

  /** Writes an Improv packet at the start of a line, followed by "\n"; queued when there is no room. */
  packet(bytes: Uint8Array): boolean {
    if (!this.#sources.length && this.#fits(bytes)) {
      this.#send(bytes);
      return true;
    }
    let sent = false;
    return this.queue({ next: () => (sent ? undefined : ((sent = true), bytes)) });
  }

  /**
   * Sends `source` piece by piece after the sources already waiting; text pieces go as they are, byte
   * pieces are Improv packets and are framed like `packet`. False when too many sources wait.
   */
  queue(source: OutputSource): boolean {
    if (this.#sources.length >= MAX_SOURCES) return false;
    this.#sources.push(source);
    if (this.#sources.length === 1) this.drain();
    return true;
  }

  /** The port has room again (its onWritable): sends what is waiting, as far as it fits. */
  drain(): void {
    const sources = this.#sources;
    while (sources.length) {
      const piece = this.#held ?? sources[0].next();
      if (piece === undefined) {
        sources.shift();
        continue;
      }
      if (!this.#fits(piece)) {
        this.#held = piece; // pieces are at most MAX_PIECE bytes, which the port's ring can hold
        return;
      }
      this.#held = undefined;
      this.#send(piece);
    }
  }

  #fits(piece: string | Uint8Array): boolean {
    const bytes = typeof piece === "string" ? utf8Length(piece) : (this.#lineOpen ? 2 : 0) + piece.length + 1;
    return bytes <= this.#port.writable;
  }

  #send(piece: string | Uint8Array): void {
    const port = this.#port;
    if (typeof piece === "string") {
      port.write(piece);
      this.#lineOpen = piece.charCodeAt(piece.length - 1) !== LF;
      return;
    }
    if (this.#lineOpen) port.write("\r\n");
    port.write(piece);
    port.write("\n");
    this.#lineOpen = false;
  }
}
