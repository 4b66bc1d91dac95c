/*
 * Wires a simulated board's UART to a real terminal device — the far end of a pseudo-terminal, say — as
 * the Moddable desktop simulator's `embedded:io/serial` opens one (its `device` option). A person with
 * `screen`, a web flasher's bridge or a test then talks to the unmodified firmware over a real tty:
 *
 *   socat -d -d pty,raw,echo=0 pty,raw,echo=0      # prints two /dev/pts paths
 *   npm start -- --serial /dev/pts/3               # then: screen /dev/pts/4 115200
 */
import { constants, openSync } from "node:fs";
import tty from "node:tty";
import type { SerialPort } from "./hardware/serial";

export class SerialTty {
  /** Bytes that came in from the terminal so far (a test waits on this before moving virtual time). */
  received = 0;
  readonly path: string;
  #input: tty.ReadStream;
  #output: tty.WriteStream;

  constructor(port: SerialPort, path: string) {
    this.path = path;
    // Two descriptors: libuv wants one stream per descriptor. O_NOCTTY: never our controlling terminal.
    this.#input = new tty.ReadStream(openSync(path, constants.O_RDWR | constants.O_NOCTTY));
    this.#input.setRawMode(true); // bytes as typed: no echo, no line editing, no signals from Ctrl-C
    this.#output = new tty.WriteStream(openSync(path, constants.O_RDWR | constants.O_NOCTTY));
    this.#input.on("data", (chunk: Buffer) => {
      this.received += chunk.length;
      port.type(new Uint8Array(chunk));
    });
    port.onOutput = (bytes) => this.#output.write(bytes);
  }

  close(): void {
    this.#input.destroy();
    this.#output.destroy();
  }
}
