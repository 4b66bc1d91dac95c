/*
 * Uplink: the session protocol of docs/protocol.md on top of an open link. It says `hello`, cuts batches
 * from the store, keeps them in the AckWindow until the server acknowledges them, and answers pushed
 * configuration. A reading leaves the store only when its batch is acknowledged; when the link drops,
 * every unacknowledged reading is sent again on the next connection.
 *
 * A multi-channel probe's batch (a slice of slots of `width` cells) goes as one frame per channel (`c`), with
 * consecutive sequence numbers; its readings leave the store when the last channel's frame is answered (the
 * window releases in order). A single-channel batch is one frame, as it always was.
 */
import type { Host, TimerHandle, WebSocketHandle } from "../host/host";
import type { LinkClient, LinkErrorCode, LinkEventName } from "../link/link";
import { LinkError, LinkEvent } from "../link/link";
import { BatchEncoder, type BatchHeader } from "../protocol/batch";
import { ReadingStore, type Slice } from "../store/readings";
import { PROTOCOL_VERSION } from "../protocol/endpoint";
import { AckWindow } from "./ack-window";

const WINDOW = 4;
/**
 * Frames waiting for room in the socket's send buffer, in order: the hello, one batch, and cfgack replies.
 * Nothing new is encoded while one waits. Overflow policy: a cfgack that finds it full is dropped and
 * counted (`unanswered`); the server keeps that push pending and sends it again at the next hello.
 */
const OUTBOX = 4;
/** Server error codes that mean "these credentials will not work": stop retrying until they change. */
const REJECTIONS: readonly string[] = Object.freeze(["unauthorized", "revoked", "unknown-device"]);
/**
 * Server error codes that say nothing against the batch: the session or the server is at fault. The batch
 * is kept and the link reconnects, so it goes again on a fresh session.
 */
const SESSION_ERRORS: readonly string[] = Object.freeze(["no-hello", "bad-seq", "storage"]);

export interface UplinkOptions {
  host: Host;
  store: ReadingStore;
  encoder: BatchEncoder;
  /** What `hello` says; read at each connection so it is current. */
  hello: () => Record<string, unknown>;
  batchSize: () => number;
  /** Longest a reading waits, in ms. */
  maxLatency: () => number;
  ackTimeout: () => number;
  /** Applies pushed configuration: what it applied, and what it refused with the reason, by key. */
  applyConfig: (set: Record<string, unknown>) => ConfigAnswer;
  /** Reports a failure to the link. */
  fail: (event: LinkEventName, code: LinkErrorCode, reason: string) => void;
}

/** What became of a pushed configuration (`cfgack`, docs/protocol.md). */
export interface ConfigAnswer {
  applied: string[];
  refused: Record<string, string>;
}

export class Uplink implements LinkClient {
  /** Counters for `status`, hello and tests. */
  sentBatches = 0;
  acked = 0;
  /** Readings the server refused with an error frame (dropped, so that one bad batch cannot jam the queue). */
  rejected = 0;
  /** Acks for sequence numbers never sent, and frames that did not parse: the server is wrong. */
  bogus = 0;
  /** Frames that waited for room in the send buffer, and cfgack replies dropped for want of it. */
  waited = 0;
  unanswered = 0;
  /** Send every unsent reading now, full batch or not (a battery wake that already paid for the radio). */
  flush = false;
  /** Called when the server has welcomed this connection and acknowledged everything held. */
  onIdle: (() => void) | undefined;
  /** Called when acknowledged readings have left the store (battery mode commits the retained image). */
  onReleased: (() => void) | undefined;
  #welcomed = false;
  #options: UplinkOptions;
  #socket: WebSocketHandle | undefined;
  #window = new AckWindow(WINDOW);
  #outbox: string[] = [];
  #seq = 0;
  #slice: Slice = { start: 0, count: 0, width: 1, boot: 0, index: 0, interval: 0, newest: 0 };
  #header: BatchHeader = { seq: 0, boot: 0, index: 0, interval: 0, age: 0, time: 0, channel: 0 };
  #ackTimer: TimerHandle | undefined;
  /** One channel of a multi-channel batch, copied out of the ring for the encoder (made at the first such batch). */
  #column: Int16Array | undefined;

  constructor(options: UplinkOptions) {
    this.#options = options;
  }

  get connected(): boolean {
    return this.#socket !== undefined;
  }
  get inFlight(): number {
    return this.#window.length;
  }
  /** The server welcomed this session and has answered every batch sent on it (LinkClient). */
  get confirmed(): boolean {
    return this.#welcomed && this.#socket !== undefined && this.#window.length === 0;
  }

  // LinkClient
  online(socket: WebSocketHandle): void {
    this.#socket = socket;
    this.#welcomed = false;
    this.#seq = 0;
    this.#window.clear();
    this.#options.store.rewind();
    // `t` first, as in every device frame: a frame garbled in transit (a bad mask key) then always fails to
    // parse or names no known type, instead of passing as a different frame.
    const hello: Record<string, unknown> = { t: "hello", v: PROTOCOL_VERSION };
    const fields = this.#options.hello();
    for (const key in fields) if (key !== "t" && key !== "v") hello[key] = fields[key];
    this.#outbox.length = 0;
    this.#transmit(JSON.stringify(hello));
    this.pump();
  }

  /** The socket has room again: what waited goes first, in order, then whatever is due. */
  writable(): void {
    const socket = this.#socket;
    const outbox = this.#outbox;
    while (socket && outbox.length && socket.send(outbox[0])) outbox.shift();
    this.pump();
  }

  offline(): void {
    this.#socket = undefined;
    this.#outbox.length = 0;
    this.#window.clear();
    this.#options.store.rewind();
    this.#options.host.clearTimer(this.#ackTimer);
    this.#ackTimer = undefined;
  }

  text(text: string): void {
    let frame: { t?: unknown; s?: unknown; id?: unknown; set?: unknown; code?: unknown; msg?: unknown };
    try {
      frame = JSON.parse(text);
    } catch {
      frame = {};
    }
    switch (frame?.t) {
      case "ack":
        if (typeof frame.s === "number") return this.#answered(frame.s, true);
        break;
      case "welcome":
        this.#welcomed = true;
        return this.#checkIdle();
      case "cfg":
        if (frame.set && typeof frame.set === "object") return this.#configure(frame.id, frame.set as Record<string, unknown>);
        break;
      case "err":
        return this.#error(String(frame.code), String(frame.msg ?? ""), frame.s);
      case "pong":
        return; // the link's heartbeat: hearing it was the point
    }
    this.bogus++;
    this.#options.host.event({ kind: "uplink.ignored", frame: text });
  }

  /**
   * Sends what is due: batches while the window has room and the store holds a full batch, or readings
   * older than the maximum latency.
   */
  pump(): void {
    const socket = this.#socket;
    if (!socket) return;
    const { store, encoder, host } = this.#options;
    const size = this.#options.batchSize();
    const slice = this.#slice;
    const header = this.#header;
    while (!this.#outbox.length && !this.#window.full && store.unsent) {
      const now = host.ticks();
      const oldest = store.oldestUnsentTime();
      if (!this.flush && !store.hasFullBatch(size) && now - oldest < this.#options.maxLatency()) break;
      // A frame a channel, each a place in the window.
      if (this.#window.length + store.nextWidth > this.#window.size) break;
      if (!store.takeBatch(size, slice)) break;
      header.boot = slice.boot;
      header.index = slice.index;
      header.interval = slice.interval;
      header.age = now - slice.newest;
      const width = slice.width;
      for (let channel = 0; channel < width; channel++) {
        header.seq = ++this.#seq;
        header.channel = channel;
        if (width === 1) encoder.encode(header, store.values, slice.start, slice.count);
        else encoder.encode(header, this.#channel(store.values, slice, channel), 0, slice.count);
        // The slots go with the last channel's frame: released once every frame before it is answered too.
        this.#window.push(header.seq, slice.boot, slice.index, channel === width - 1 ? slice.count : 0, now);
        this.sentBatches++;
        this.#transmit(encoder.text());
      }
    }
    this.#armAckTimer();
  }

  /** Channel `channel` of the slice's readings, in a buffer kept for it. */
  #channel(cells: Int16Array, slice: Slice, channel: number): Int16Array {
    const column = (this.#column ??= new Int16Array(this.#options.encoder.maxReadings));
    const length = cells.length;
    let at = slice.start + channel;
    for (let j = 0; j < slice.count; j++) {
      if (at >= length) at -= length;
      column[j] = cells[at];
      at += slice.width;
    }
    return column;
  }

  #answered(seq: number, stored: boolean): void {
    const window = this.#window;
    const at = window.find(seq);
    if (at < 0) {
      this.bogus++;
      this.#options.host.event({ kind: "uplink.unknownAck", seq });
      return;
    }
    window.done[at] = stored ? 1 : 2;
    // Release in order; an answer out of order waits for the ones before it.
    let left = false;
    while (window.length && window.done[0]) {
      const released = this.#options.store.release(window.boot[0], window.index[0], window.count[0]);
      if (window.done[0] === 1) this.acked += released;
      else this.rejected += released;
      if (released) left = true;
      window.shift();
    }
    if (left) this.onReleased?.();
    this.#armAckTimer();
    this.pump();
    this.#checkIdle();
  }

  /**
   * Runs `callback` once the server has welcomed this session and acknowledged everything held: now if it
   * already has, else as `onIdle`. Everything unsent goes at once meanwhile (`flush`).
   */
  whenIdle(callback: () => void): void {
    this.flush = true;
    this.onIdle = callback;
    this.pump();
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#welcomed && this.#socket && !this.#window.length && !this.#options.store.unsent) this.onIdle?.();
  }

  #error(code: string, message: string, seq: unknown): void {
    this.#options.host.event({ kind: "uplink.serverError", code, message });
    if (REJECTIONS.indexOf(code) >= 0) return this.#options.fail(LinkEvent.Rejected, LinkError.Rejected, `server: ${code}`);
    if (typeof seq !== "number" || this.#window.find(seq) < 0) return;
    if (SESSION_ERRORS.indexOf(code) >= 0) return this.#options.fail(LinkEvent.Closed, LinkError.Connect, `server: ${code}`);
    this.#answered(seq, false);
  }

  #configure(id: unknown, set: Record<string, unknown>): void {
    const { applied, refused } = this.#options.applyConfig(set);
    let ok = true;
    for (const _ in refused) ok = false;
    const reply = ok ? { t: "cfgack", id, ok, applied } : { t: "cfgack", id, ok, applied, refused };
    if (this.#outbox.length < OUTBOX) this.#transmit(JSON.stringify(reply));
    else this.unanswered++;
  }

  /** Sends `text` now if nothing waits before it and the socket has room, else queues it for `writable`. */
  #transmit(text: string): void {
    if (!this.#outbox.length && this.#socket?.send(text) !== false) return;
    this.#outbox.push(text);
    this.waited++;
  }

  #armAckTimer(): void {
    const host = this.#options.host;
    host.clearTimer(this.#ackTimer);
    this.#ackTimer = undefined;
    if (!this.#window.length) return;
    const due = this.#window.sentAt[0] + this.#options.ackTimeout() - host.ticks();
    this.#ackTimer = host.setTimer(() => {
      this.#ackTimer = undefined;
      this.#options.fail(LinkEvent.Timeout, LinkError.Ack, "no ack in time");
    }, due > 0 ? due : 0);
  }
}
