/*
 * The simulated Sensirion SHT4x on the board's I2C bus (i2c.ts): what the SHT4x driver (sensors/sht4x.ts) talks
 * to in its tests and in the simulator. No Node APIs (it runs in XS too).
 */
import { FakeI2CDevice } from "./i2c";

/**
 * Sensirion's CRC-8 (polynomial 0x31, initial 0xFF), computed here independently of the driver's
 * (sensors/sht4x.ts), bit by bit over any bytes.
 */
function crc31(bytes: ArrayLike<number>): number {
  let crc = 0xff;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i];
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/**
 * SHT4x (Sensirion datasheet v6.6): a command byte starts a measurement — 0xFD high precision (8.3 ms max,
 * modelled 6.9 ms typical), 0xF6 medium (4.5 ms), 0xE0 low (1.7 ms) — and a read of six bytes returns T and RH,
 * each word with its CRC-8. A read before the measurement is done is refused (NACK), as is one with no
 * measurement pending. 0x89 answers the serial number, 0x94 resets. Readings are given in °C and %RH and
 * turned into the chip's raw words: S_T = (T + 45) · 65535 / 175, S_RH = (RH + 6) · 65535 / 125.
 */
export class FakeSHT4x extends FakeI2CDevice {
  /** What the next measurement sees. */
  celsius = 21.5;
  humidity = 45;
  /** Measurements take this much longer than typical, ms (a slow part). */
  lag = 0;
  /** Flip a bit of the next measurements' T word (or RH word) after its CRC is computed. */
  corruptT = 0;
  corruptRH = 0;
  serial = 0x0c1e_a7f3;
  measurements = 0;
  readonly commands: number[] = [];
  #now: () => number;
  #doneAt = -1;
  #reply: number[] | undefined;

  constructor(now: () => number) {
    super();
    this.#now = now;
  }

  static rawTemperature(celsius: number): number {
    return Math.max(0, Math.min(65535, Math.round(((celsius + 45) * 65535) / 175)));
  }
  static rawHumidity(percent: number): number {
    return Math.max(0, Math.min(65535, Math.round(((percent + 6) * 65535) / 125)));
  }

  override command(bytes: Uint8Array): void {
    const command = bytes[0];
    this.commands.push(command);
    const durations: Record<number, number> = { 0xfd: 6.9, 0xf6: 3.7, 0xe0: 1.3 };
    if (command in durations) {
      this.measurements++;
      this.#doneAt = this.#now() + durations[command] + this.lag;
      const t = FakeSHT4x.rawTemperature(this.celsius);
      const rh = FakeSHT4x.rawHumidity(this.humidity);
      this.#reply = this.#words(t, rh);
      if (this.corruptT) {
        this.#reply[1] ^= 1;
        this.corruptT--;
      }
      if (this.corruptRH) {
        this.#reply[4] ^= 1;
        this.corruptRH--;
      }
    } else if (command === 0x89) {
      this.#doneAt = this.#now();
      this.#reply = this.#words(this.serial >>> 16, this.serial & 0xffff);
    } else if (command === 0x94) {
      this.#doneAt = -1;
      this.#reply = undefined;
    }
  }

  override reply(into: Uint8Array): void {
    if (!this.#reply || this.#now() < this.#doneAt) throw new Error("read failed"); // NACK: nothing to read yet
    for (let i = 0; i < into.length; i++) into[i] = i < 6 ? this.#reply[i] : 0xff;
    this.#reply = undefined;
  }

  #words(first: number, second: number): number[] {
    const a = [first >> 8, first & 0xff];
    const b = [second >> 8, second & 0xff];
    return [...a, crc31(a), ...b, crc31(b)];
  }
}
