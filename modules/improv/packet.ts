/*
 * Improv Wi-Fi Serial, version 1 (improv-wifi.com/serial): the packet layout, its constants, and a
 * byte-at-a-time receiver in a fixed buffer.
 *
 *   "IMPROV"  version(1)  type  length  data[length]  checksum
 *
 * The checksum is the low byte of the sum of every byte before it, header included. An RPC packet's
 * data is `command, length, payload`, with no checksum of its own on serial (improv-wifi/sdk-cpp
 * parses it with check_checksum = false); an RPC result's data is `command, length, strings…`, each
 * string prefixed with its length in bytes.
 */

export const HEADER = "IMPROV";
export const VERSION = 1;

export const ImprovType = Object.freeze({
  CurrentState: 0x01,
  ErrorState: 0x02,
  Rpc: 0x03,
  RpcResult: 0x04,
});

export const ImprovState = Object.freeze({
  /** Ready (authorized): serial needs no button press, so the service starts here. */
  Ready: 0x02,
  Provisioning: 0x03,
  Provisioned: 0x04,
});
export type ImprovStateValue = (typeof ImprovState)[keyof typeof ImprovState];

export const ImprovError = Object.freeze({
  None: 0x00,
  InvalidRpc: 0x01,
  UnknownRpc: 0x02,
  UnableToConnect: 0x03,
  Unknown: 0xff,
});
export type ImprovErrorValue = (typeof ImprovError)[keyof typeof ImprovError];

export const ImprovCommand = Object.freeze({
  WifiSettings: 0x01,
  CurrentState: 0x02,
  DeviceInfo: 0x03,
  Scan: 0x04,
});

/** Header, version, type, length: the bytes before the data. */
export const PREFIX_LENGTH = 9;
export const MAX_DATA = 255;

/** A whole packet of `type` around `data`, checksum computed. */
export function encodePacket(type: number, data: Uint8Array): Uint8Array {
  const packet = new Uint8Array(PREFIX_LENGTH + data.length + 1);
  for (let i = 0; i < HEADER.length; i++) packet[i] = HEADER.charCodeAt(i);
  packet[6] = VERSION;
  packet[7] = type;
  packet[8] = data.length;
  packet.set(data, PREFIX_LENGTH);
  let sum = 0;
  for (let i = 0; i < packet.length - 1; i++) sum += packet[i];
  packet[packet.length - 1] = sum & 0xff;
  return packet;
}

export const Received = Object.freeze({
  /** The byte was taken: part of a header that may still turn out not to be one, or of a packet. */
  Held: 0,
  /** Not a packet after all: give the `rejected` header bytes taken so far back, then this byte. */
  NotImprov: 1,
  /** A packet with a good checksum: `type` and `data()` hold it. */
  Packet: 2,
  /** A packet whose checksum is wrong. */
  BadChecksum: 3,
});
export type ReceivedValue = (typeof Received)[keyof typeof Received];

/**
 * How long the line may stay quiet inside a packet before it is abandoned (ESPHome drops a partial
 * packet after a pause too), so noise that looked like a header cannot swallow the console's input.
 */
export const PACKET_GAP = 500;

export class ImprovReceiver {
  type = 0;
  /** Header bytes taken before the byte that showed this was no packet. */
  rejected = 0;
  /** Packets abandoned half-way, for status. */
  abandoned = 0;
  #data = new Uint8Array(MAX_DATA);
  #position = 0;
  #length = 0;
  #sum = 0;
  #last = 0;

  /** The data of the packet just received (valid until the next byte). */
  data(): Uint8Array {
    return this.#data.subarray(0, this.#length);
  }

  /** True between the first header byte and the end of a packet. */
  get active(): boolean {
    return this.#position > 0;
  }

  push(byte: number, now: number): ReceivedValue {
    const position = this.#position;
    if (position && now - this.#last > PACKET_GAP) {
      this.#position = 0;
      if (position > HEADER.length) this.abandoned++;
      else return this.#reject(position);
    }
    this.#last = now;
    const at = this.#position;
    if (at < HEADER.length) {
      if (byte !== HEADER.charCodeAt(at)) return this.#reject(at);
      if (at === 0) this.#sum = 0;
    } else if (at === HEADER.length) {
      if (byte !== VERSION) return this.#reject(at);
    } else if (at === 7) {
      this.type = byte;
    } else if (at === 8) {
      this.#length = byte;
    } else if (at < PREFIX_LENGTH + this.#length) {
      this.#data[at - PREFIX_LENGTH] = byte;
    } else {
      this.#position = 0;
      return (this.#sum & 0xff) === byte ? Received.Packet : Received.BadChecksum;
    }
    this.#sum += byte;
    this.#position = at + 1;
    return Received.Held;
  }

  #reject(taken: number): ReceivedValue {
    this.rejected = taken;
    this.#position = 0;
    return Received.NotImprov;
  }
}
