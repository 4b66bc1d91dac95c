/*
 * The retained image: what survives deep sleep and a reset, in memory that keeps its contents while the
 * chip sleeps or resets (ESP32 RTC slow memory, ESP8266 RTC user memory; see docs/power.md). Nothing else
 * survives: the firmware starts from main() each time and finds its state here.
 *
 * The state (this class's fields and the store's control words) is worked on in RAM; `commit()` is the one
 * point where it is written to retained memory, as a whole image: a header (magic, CRC-32, sequence number,
 * layout) and the state. With room for two (ESP32), images are written alternately to two slots, so a reset
 * in the middle of a commit leaves the previous image whole; with one slot (ESP8266) the window is the copy
 * of one slot (a few hundred bytes, no computing). The store's cells are written in place, but never one that
 * the last committed image holds (ReadingStore keeps spare cells), and the image's state carries a check of
 * every held cell. So a reset at any instant restores the last commit: a reading is held once the commit
 * after its append is done, and a released batch that comes back after a reset is sent again (the server
 * keeps one copy).
 *
 * Layout (little-endian): slot 0, slot 1 when there are two, then the store's cells.
 *   slot: 0 magic "TCR2"   4 CRC-32 of bytes 8…end   8 sequence   12 layout (capacity · 256 + slots)
 *        16 WakeState: 5 float64, 16 uint32    120 the store's control words (ReadingStore.CONTROL_BYTES)
 * After a power loss the memory holds garbage: a bad magic or layout is an empty image; a bad CRC or
 * check under a good magic is corruption, counted with the readings it held (when the count is plausible).
 * A discarded image is never sent as data.
 */
import { ReadingStore } from "../store/readings";
import type { StaticAddress } from "../../config/schema";
import { crc32 } from "./crc32";

const MAGIC = 0x32524354; // "TCR2"
const HEADER_BYTES = 16;
const FLOATS = 5;
const WORDS = 16;
const STATE_BYTES = FLOATS * 8 + WORDS * 4;
/** Bytes of the state worked on in RAM and copied into a slot at each commit. */
const CONTROL_BYTES = STATE_BYTES + ReadingStore.CONTROL_BYTES;
/** Bytes of one slot in retained memory. */
export const SLOT_BYTES = HEADER_BYTES + CONTROL_BYTES;

// Float64 slots (device clock ms).
const F_CLOCK = 0, F_GRID_START = 1, F_LAST_UPLOAD = 2, F_RETRY_AT = 3, F_LAST_CHECK_IN = 4;
// Uint32 slots.
const W_BOOT = 0, W_WAKES = 1, W_NEXT_INDEX = 2, W_INTERVAL = 3, W_SLOT = 4, W_BACKOFF_ATTEMPT = 5,
  W_ERROR = 6, W_AWAKE_MS = 7, W_CONNECT_MS = 8, W_RETRIES = 9, W_CORRUPT = 10, W_BSSID_HI = 11,
  W_BSSID_LO = 12, W_CHANNEL = 13, W_OVER_CAP = 14, W_LOST = 15;
// W_CHANNEL: the remembered access point's channel (bits 0–7); the static address's state: the last join
// with it failed (bit 8, suspect), it was dropped for DHCP (bit 9), DHCP worked after it had failed (bit 10,
// a strike), and which address was dropped (bits 16–31, its tag).
const CHANNEL = 0xff, STATIC_SUSPECT = 0x100, STATIC_DROPPED = 0x200, STATIC_STRIKE = 0x400;
// In a slot, as 32-bit words: the header, then the state's words, then the store's count.
const S_MAGIC = 0, S_CRC = 1, S_SEQ = 2, S_LAYOUT = 3;
const S_WORDS = (HEADER_BYTES + FLOATS * 8) / 4;
const S_STORE_COUNT = (HEADER_BYTES + STATE_BYTES + 16) / 4 + 2;

export type RestoreResult = "restored" | "empty" | "corrupt";

/** The wake-to-wake state of battery mode, worked on in RAM and committed to the retained image. */
export class WakeState {
  readonly store: ReadingStore;
  /** Image slots in retained memory: 2 (alternate) or 1. */
  readonly slots: number;
  #memory: Uint8Array;
  #control: Uint8Array;
  #floats: Float64Array;
  #words: Uint32Array;
  #slotWords: Uint32Array[] = [];
  /** The sequence number and layout of the next commit, as bytes for the CRC. */
  #stamp = new Uint32Array(2);
  #stampBytes: Uint8Array;
  #seq = 0;
  #onCommit: (() => void) | undefined;

  /** Bytes of retained memory for `capacity` readings in `slots` image slots. */
  static bytesFor(capacity: number, slots: number): number {
    return slots * SLOT_BYTES + 2 * ReadingStore.cellsFor(capacity, true);
  }
  /** Readings a store in `bytes` of retained memory holds with `slots` image slots (0: none). */
  static capacityFor(bytes: number, slots: number): number {
    return ReadingStore.capacityFor(bytes - slots * SLOT_BYTES);
  }

  /**
   * State over `memory` (retained memory) for a store of `capacity` readings. `onCommit` runs after each
   * commit: a platform that keeps retained memory as a RAM copy writes it through there.
   */
  constructor(memory: ArrayBuffer, capacity: number, slots: number, onCommit?: () => void) {
    if (memory.byteLength < WakeState.bytesFor(capacity, slots)) throw new RangeError("retained memory too small");
    this.slots = slots;
    this.#memory = new Uint8Array(memory, 0, slots * SLOT_BYTES);
    for (let i = 0; i < slots; i++) this.#slotWords.push(new Uint32Array(memory, i * SLOT_BYTES, SLOT_BYTES / 4));
    const control = new ArrayBuffer(CONTROL_BYTES);
    this.#control = new Uint8Array(control);
    this.#floats = new Float64Array(control, 0, FLOATS);
    this.#words = new Uint32Array(control, FLOATS * 8, WORDS);
    this.#stamp[1] = capacity * 256 + slots;
    this.#stampBytes = new Uint8Array(this.#stamp.buffer);
    this.#onCommit = onCommit;
    this.store = new ReadingStore(capacity, true, control, STATE_BYTES, memory, slots * SLOT_BYTES);
  }

  /**
   * Finds the newest whole image at boot and works from it. When there is none, starts empty, counting
   * corruption (and the readings it held) when an image looked like ours, and commits that at once, so
   * what follows always starts from a consistent state.
   */
  restore(): RestoreResult {
    const layout = this.#stamp[1];
    let ours = false, best = -1, corrupt = 0, lost = 0, held = 0;
    for (let i = 0; i < this.slots; i++) {
      const words = this.#slotWords[i];
      if (words[S_MAGIC] !== MAGIC || words[S_LAYOUT] !== layout) continue;
      ours = true;
      // A slot whose CRC fails is a commit cut short by a reset (the other slot is whole) or corruption.
      if (words[S_CRC] === this.#slotCrc(i)) {
        if (best < 0 || ((words[S_SEQ] - this.#slotWords[best][S_SEQ]) | 0) > 0) best = i;
      } else {
        // Its figures may be garbage: kept only when plausible.
        if (words[S_STORE_COUNT] <= this.store.capacity && words[S_STORE_COUNT] > held) held = words[S_STORE_COUNT];
        if (words[S_WORDS + W_CORRUPT] < 0xffff && words[S_WORDS + W_CORRUPT] > corrupt) corrupt = words[S_WORDS + W_CORRUPT];
        if (words[S_WORDS + W_LOST] < 0xffffff && words[S_WORDS + W_LOST] > lost) lost = words[S_WORDS + W_LOST];
      }
    }
    if (best >= 0) {
      this.#seq = this.#slotWords[best][S_SEQ];
      this.#control.set(this.#memory.subarray(best * SLOT_BYTES + HEADER_BYTES, (best + 1) * SLOT_BYTES));
      this.store.rewind();
      if (this.store.isConsistent()) return "restored";
      // The newest whole image's cells do not match it (an older image's are overwritten by now).
      held = this.store.count;
      corrupt = this.#words[W_CORRUPT];
      lost = this.#words[W_LOST];
    } else if (!ours) {
      held = corrupt = lost = 0;
    }
    this.#control.fill(0);
    this.store.clear();
    this.#words[W_CORRUPT] = ours ? corrupt + 1 : 0;
    this.#words[W_LOST] = ours ? lost + held : 0;
    this.commit();
    return ours ? "corrupt" : "empty";
  }

  /**
   * Writes the state to retained memory as a whole image, into the slot the previous commit did not use.
   * The CRC is computed before the slot is touched, so the slot is inconsistent only while it is copied.
   */
  commit(): void {
    const seq = (this.#seq + 1) >>> 0;
    this.#stamp[0] = seq;
    const crc = crc32(this.#control, 0, CONTROL_BYTES, crc32(this.#stampBytes));
    const slot = seq % this.slots;
    const words = this.#slotWords[slot];
    words[S_MAGIC] = 0;
    this.#memory.set(this.#control, slot * SLOT_BYTES + HEADER_BYTES);
    words[S_SEQ] = seq;
    words[S_LAYOUT] = this.#stamp[1];
    words[S_CRC] = crc;
    words[S_MAGIC] = MAGIC;
    this.#seq = seq;
    this.#onCommit?.();
  }

  /**
   * Forgets the image: the next restore finds it empty (the device is leaving battery mode, and a later return
   * to it starts afresh instead of resuming a stale clock and grid).
   */
  discard(): void {
    for (const words of this.#slotWords) words[S_MAGIC] = 0;
    this.#onCommit?.();
  }

  /** Commits so far in this run (the sequence number goes on across runs). */
  get sequence(): number {
    return this.#seq;
  }

  #slotCrc(slot: number): number {
    const start = slot * SLOT_BYTES;
    return crc32(this.#memory, start + 8, start + SLOT_BYTES);
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
  /** The LinkError code (modules/link/link.ts) of the last wake's failure, until a hello has reported it. */
  get error(): number { return this.#words[W_ERROR]; }
  set error(code: number) { this.#words[W_ERROR] = code; }
  get awakeMs(): number { return this.#words[W_AWAKE_MS]; }
  set awakeMs(ms: number) { this.#words[W_AWAKE_MS] = ms; }
  get connectMs(): number { return this.#words[W_CONNECT_MS]; }
  set connectMs(ms: number) { this.#words[W_CONNECT_MS] = ms; }
  get retries(): number { return this.#words[W_RETRIES]; }
  set retries(n: number) { this.#words[W_RETRIES] = n; }
  /** Images found corrupt and discarded, since the last power loss. */
  get corrupt(): number { return this.#words[W_CORRUPT]; }
  /** Readings held by the images discarded as corrupt (as the image said, when plausible). */
  get lost(): number { return this.#words[W_LOST]; }
  /** Wakes cut short by the awake cap. */
  get overCap(): number { return this.#words[W_OVER_CAP]; }
  set overCap(n: number) { this.#words[W_OVER_CAP] = n; }

  /** The access point that answered last time (BSSID and channel), for a fast re-join; 0 when unknown. */
  get channel(): number { return this.#words[W_CHANNEL] & CHANNEL; }
  bssid(into: Uint8Array): boolean {
    const hi = this.#words[W_BSSID_HI], lo = this.#words[W_BSSID_LO];
    if (!(this.#words[W_CHANNEL] & CHANNEL)) return false;
    into[0] = hi >>> 8; into[1] = hi & 255;
    into[2] = lo >>> 24; into[3] = (lo >>> 16) & 255; into[4] = (lo >>> 8) & 255; into[5] = lo & 255;
    return true;
  }
  rememberAccessPoint(bssid: Uint8Array | undefined, channel: number): void {
    const flags = this.#words[W_CHANNEL] & ~CHANNEL;
    if (!bssid || bssid.length !== 6 || !channel) {
      this.#words[W_CHANNEL] = flags;
      return;
    }
    this.#words[W_BSSID_HI] = (bssid[0] << 8) | bssid[1];
    this.#words[W_BSSID_LO] = ((bssid[2] << 24) | (bssid[3] << 16) | (bssid[4] << 8) | bssid[5]) >>> 0;
    this.#words[W_CHANNEL] = (flags | (channel & CHANNEL)) >>> 0;
  }

  /**
   * Whether this wake joins with the static address `fixed` (`wifi.ip`): not when the last join with it
   * failed (this one tries DHCP: was the address at fault?), nor once it was dropped for DHCP.
   */
  useStaticAddress(fixed: StaticAddress | undefined): boolean {
    if (!fixed) return false;
    const word = this.#words[W_CHANNEL];
    if (word & STATIC_SUSPECT) return false;
    return !(word & STATIC_DROPPED) || word >>> 16 !== staticTag(fixed);
  }

  /**
   * How a radio wake went, for the static address `fixed`: `usedStatic` whether it joined with it, `online`
   * whether it reached the server. A failure with it makes it suspect, and the next radio wake tries DHCP.
   * DHCP working then is a strike against the address (it may be at fault: a new network, a taken address;
   * or the outage that failed it just ended); the address is tried again, and dropped if it fails right after
   * a strike. It working clears it all; DHCP failing too clears the strike (not the address's fault).
   */
  staticAddressOutcome(fixed: StaticAddress | undefined, usedStatic: boolean, online: boolean): void {
    let word = this.#words[W_CHANNEL];
    if (usedStatic) {
      if (online) word &= ~(STATIC_SUSPECT | STATIC_STRIKE);
      else if (word & STATIC_STRIKE && fixed) word = (word & 0xffff & ~(STATIC_SUSPECT | STATIC_STRIKE)) | STATIC_DROPPED | (staticTag(fixed) << 16);
      else word |= STATIC_SUSPECT;
    } else if (word & STATIC_SUSPECT) {
      word &= ~STATIC_SUSPECT;
      word = online ? word | STATIC_STRIKE : word & ~STATIC_STRIKE;
    }
    this.#words[W_CHANNEL] = word >>> 0;
  }

  /** The static address was dropped for DHCP (for the console and tests). */
  get staticDropped(): boolean {
    return (this.#words[W_CHANNEL] & STATIC_DROPPED) !== 0;
  }
}

/** 16 bits that tell one static address setting from another (a changed `wifi.ip` is tried afresh). */
function staticTag(fixed: StaticAddress): number {
  const mixed = (fixed.address ^ Math.imul(fixed.gateway, 31) ^ Math.imul(fixed.netmask, 961) ^ Math.imul(fixed.dns, 29791)) >>> 0;
  return (mixed ^ (mixed >>> 16)) & 0xffff;
}
