/*
 * The retained image: what survives deep sleep, in memory that keeps its contents while the chip sleeps
 * (ESP32 RTC slow memory, ESP8266 RTC user memory; see docs/power.md). Nothing else survives a wake: the
 * firmware starts from main() each time and finds its state here.
 *
 * Layout (little-endian, 8-byte aligned):
 *   0  magic "TCR1"   4  CRC-32 of bytes 8…end   8  layout (capacity · 256 + runs)   12  reserved
 *  16  WakeState: 8 float64 then 16 uint32
 * 144  ReadingStore (modules/store/readings.ts)
 * After a power loss the memory holds garbage: a bad magic, layout or CRC discards the image, and a bad
 * CRC under a good magic is counted as corruption. A discarded image is never sent as data.
 */
import { ReadingStore } from "../store/readings";
import { crc32 } from "./crc32";

const MAGIC = 0x31524354; // "TCR1"
const HEADER_BYTES = 16;
const FLOATS = 8;
const WORDS = 16;
const STATE_BYTES = FLOATS * 8 + WORDS * 4;
export const STORE_OFFSET = HEADER_BYTES + STATE_BYTES + ((8 - ((HEADER_BYTES + STATE_BYTES) % 8)) % 8);

// Float64 slots (device clock ms).
const F_CLOCK = 0, F_GRID_START = 1, F_LAST_UPLOAD = 2, F_RETRY_AT = 3, F_LAST_CHECK_IN = 4;
// Uint32 slots.
const W_BOOT = 0, W_WAKES = 1, W_NEXT_INDEX = 2, W_INTERVAL = 3, W_SLOT = 4, W_BACKOFF_ATTEMPT = 5,
  W_ERROR = 6, W_AWAKE_MS = 7, W_CONNECT_MS = 8, W_RETRIES = 9, W_CORRUPT = 10, W_BSSID_HI = 11,
  W_BSSID_LO = 12, W_CHANNEL = 13, W_OVER_CAP = 14;

/** Why the last wake's link failed, as a code that fits a word (the text is in LINK_ERRORS). */
export const LINK_ERRORS = Object.freeze(["", "wifi", "connect", "timeout", "rejected", "ack"]);

/** The LINK_ERRORS code of a link failure reason (modules/link/link.ts): the class survives sleep, not the text. */
export function linkErrorCode(reason: string): number {
  if (!reason) return 0;
  if (reason.startsWith("wifi")) return 1;
  if (reason === "no ack in time") return 5;
  if (reason.startsWith("server: unauthorized") || reason.startsWith("server: revoked") || reason.startsWith("server: unknown-device") ||
    reason.startsWith("server.url") || reason.startsWith("gave up")) return 4;
  if (reason.indexOf("timed out") >= 0 || reason === "no pong in time") return 3;
  return 2;
}

export type RestoreResult = "restored" | "empty" | "corrupt";

/** The wake-to-wake state of battery mode, as views over the retained image. */
export class WakeState {
  readonly store: ReadingStore;
  #bytes: Uint8Array;
  #header: Uint32Array;
  #floats: Float64Array;
  #words: Uint32Array;
  #layout: number;

  static bytesFor(capacity: number, maxRuns: number): number {
    return STORE_OFFSET + ReadingStore.bytesFor(capacity, maxRuns);
  }

  constructor(memory: ArrayBuffer, capacity: number, maxRuns: number) {
    if (memory.byteLength < WakeState.bytesFor(capacity, maxRuns)) throw new RangeError("retained memory too small");
    this.#bytes = new Uint8Array(memory, 0, WakeState.bytesFor(capacity, maxRuns));
    this.#header = new Uint32Array(memory, 0, 4);
    this.#floats = new Float64Array(memory, HEADER_BYTES, FLOATS);
    this.#words = new Uint32Array(memory, HEADER_BYTES + FLOATS * 8, WORDS);
    this.#layout = capacity * 256 + maxRuns;
    this.store = new ReadingStore(capacity, maxRuns, memory, STORE_OFFSET);
  }

  /**
   * Checks the image found at boot. A bad image is wiped (counting corruption when it looked like ours),
   * so what follows always starts from a consistent state.
   */
  restore(): RestoreResult {
    const header = this.#header;
    const ours = header[0] === MAGIC && header[2] === this.#layout;
    if (ours && this.store.isConsistent() && header[1] === this.#checksum()) return "restored";
    const corrupt = this.#words[W_CORRUPT];
    this.#bytes.fill(0);
    this.store.clear();
    header[0] = MAGIC;
    header[2] = this.#layout;
    // The corruption count is the one thing carried over a discarded image, when it is plausible.
    this.#words[W_CORRUPT] = ours ? (corrupt < 0xffff ? corrupt + 1 : corrupt) : 0;
    return ours ? "corrupt" : "empty";
  }

  /** Seals the image before sleep. */
  seal(): void {
    this.#header[1] = this.#checksum();
  }

  /**
   * CRC-32 of the state, the store's run table and meta words, and the readings it holds: not of the
   * empty slots, so a wake with a few readings checks a few hundred bytes, not the whole region.
   */
  #checksum(): number {
    const bytes = this.#bytes;
    const store = this.store;
    const values = STORE_OFFSET + ReadingStore.bytesFor(0, store.maxRuns);
    let crc = crc32(bytes, 8, values);
    const head = store.head;
    const end = head + store.count;
    const wrap = end > store.capacity ? end - store.capacity : 0;
    crc = crc32(bytes, values + head * 2, values + (end - wrap) * 2, crc);
    return wrap ? crc32(bytes, values, values + wrap * 2, crc) : crc;
  }

  get clock(): number { return this.#floats[F_CLOCK]; }
  set clock(ms: number) { this.#floats[F_CLOCK] = ms; }
  /** Device time of slot 0 of the sampling grid. */
  get gridStart(): number { return this.#floats[F_GRID_START]; }
  set gridStart(ms: number) { this.#floats[F_GRID_START] = ms; }
  get lastUpload(): number { return this.#floats[F_LAST_UPLOAD]; }
  set lastUpload(ms: number) { this.#floats[F_LAST_UPLOAD] = ms; }
  /** No connection attempt before this device time (backoff kept across sleep). */
  get retryAt(): number { return this.#floats[F_RETRY_AT]; }
  set retryAt(ms: number) { this.#floats[F_RETRY_AT] = ms; }
  get lastCheckIn(): number { return this.#floats[F_LAST_CHECK_IN]; }
  set lastCheckIn(ms: number) { this.#floats[F_LAST_CHECK_IN] = ms; }

  get boot(): number { return this.#words[W_BOOT]; }
  set boot(n: number) { this.#words[W_BOOT] = n; }
  get wakes(): number { return this.#words[W_WAKES]; }
  set wakes(n: number) { this.#words[W_WAKES] = n; }
  get nextIndex(): number { return this.#words[W_NEXT_INDEX]; }
  set nextIndex(n: number) { this.#words[W_NEXT_INDEX] = n; }
  get interval(): number { return this.#words[W_INTERVAL]; }
  set interval(s: number) { this.#words[W_INTERVAL] = s; }
  /** The grid slot of the next wake. */
  get slot(): number { return this.#words[W_SLOT]; }
  set slot(n: number) { this.#words[W_SLOT] = n; }
  get backoffAttempt(): number { return this.#words[W_BACKOFF_ATTEMPT]; }
  set backoffAttempt(n: number) { this.#words[W_BACKOFF_ATTEMPT] = n; }
  get error(): number { return this.#words[W_ERROR]; }
  set error(code: number) { this.#words[W_ERROR] = code; }
  get awakeMs(): number { return this.#words[W_AWAKE_MS]; }
  set awakeMs(ms: number) { this.#words[W_AWAKE_MS] = ms; }
  get connectMs(): number { return this.#words[W_CONNECT_MS]; }
  set connectMs(ms: number) { this.#words[W_CONNECT_MS] = ms; }
  get retries(): number { return this.#words[W_RETRIES]; }
  set retries(n: number) { this.#words[W_RETRIES] = n; }
  get corrupt(): number { return this.#words[W_CORRUPT]; }
  /** Wakes cut short by the awake cap. */
  get overCap(): number { return this.#words[W_OVER_CAP]; }
  set overCap(n: number) { this.#words[W_OVER_CAP] = n; }

  /** The access point that answered last time (BSSID and channel), for a fast re-join; 0 when unknown. */
  get channel(): number { return this.#words[W_CHANNEL]; }
  bssid(into: Uint8Array): boolean {
    const hi = this.#words[W_BSSID_HI], lo = this.#words[W_BSSID_LO];
    if (!this.#words[W_CHANNEL]) return false;
    into[0] = hi >>> 8; into[1] = hi & 255;
    into[2] = lo >>> 24; into[3] = (lo >>> 16) & 255; into[4] = (lo >>> 8) & 255; into[5] = lo & 255;
    return true;
  }
  rememberAccessPoint(bssid: Uint8Array | undefined, channel: number): void {
    if (!bssid || bssid.length !== 6 || !channel) {
      this.#words[W_CHANNEL] = 0;
      return;
    }
    this.#words[W_BSSID_HI] = (bssid[0] << 8) | bssid[1];
    this.#words[W_BSSID_LO] = ((bssid[2] << 24) | (bssid[3] << 16) | (bssid[4] << 8) | bssid[5]) >>> 0;
    this.#words[W_CHANNEL] = channel;
  }
}
