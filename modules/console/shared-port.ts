/*
 * SharedPort: one serial port, two listeners. Bytes that start `IMPROV` + version 1 go to the Improv
 * receiver; everything else goes to the line console. While the first bytes of a possible header
 * arrive they are held back (they are always the same known bytes, so holding them costs no buffer),
 * and given to the console if the next byte shows they were typed text after all ("IMPORT").
 *
 * Improv clients end each packet with "\n" (improv-wifi/sdk-serial-js); that line break is swallowed
 * so that it does not reach the console as an empty command.
 */
import type { LineConsole } from "./console";
import type { ImprovService } from "../improv/improv";
import { HEADER, ImprovReceiver, Received } from "../improv/packet";

const CR = 0x0d, LF = 0x0a;

export class SharedPort {
  readonly receiver = new ImprovReceiver();
  #console: LineConsole;
  #improv: ImprovService | undefined;
  /** After a packet: 1 while a "\r" or "\n" may follow, 2 after its "\r". */
  #skipBreak = 0;

  constructor(console: LineConsole, improv: ImprovService | undefined) {
    this.#console = console;
    this.#improv = improv;
  }

  /** Bytes read from the port at device time `now` (ms). */
  receive(bytes: Uint8Array, now: number): void {
    for (let i = 0; i < bytes.length; i++) this.#byte(bytes[i], now);
  }

  #byte(byte: number, now: number): void {
    if (this.#skipBreak) {
      const skip = this.#skipBreak;
      this.#skipBreak = byte === CR && skip === 1 ? 2 : 0;
      if (byte === LF || (byte === CR && skip === 1)) return;
    }
    const improv = this.#improv;
    if (!improv) return this.#console.receive(byte);
    const receiver = this.receiver;
    switch (receiver.push(byte, now)) {
      case Received.Held:
        return;
      case Received.NotImprov: {
        const taken = receiver.rejected;
        for (let i = 0; i < taken; i++) this.#console.receive(HEADER.charCodeAt(i));
        // The byte that broke the header may begin one ("IIMPROV"); with nothing held it is the console's.
        if (!taken || receiver.push(byte, now) === Received.NotImprov) this.#console.receive(byte);
        return;
      }
      case Received.Packet:
        this.#skipBreak = 1;
        return improv.packet(receiver.type, receiver.data());
      case Received.BadChecksum:
        this.#skipBreak = 1;
        return improv.badChecksum();
    }
  }
}
