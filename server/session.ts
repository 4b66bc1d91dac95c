/*
 * One device's connection: the protocol state of that connection (hello seen, last seq taken, errors
 * counted) and the answers to each frame. A bad frame is answered, logged once and stores nothing; it
 * never reaches beyond this session. Writes go through the commit queue, and a batch is acked only from
 * the queue's commit callback: an ack always means committed.
 */
import type { RawData, WebSocket } from "ws";
import type { CommitQueue } from "./commit";
import type { BatchRows, ConfigPushRow, Store } from "./store";
import type { Log } from "./log";
import {
  Close, MAX_PROTOCOL_ERRORS, PROTOCOL_VERSION, batchTimes, parseFrame,
  type Batch, type CfgAck, type Hello, type ProtocolError,
} from "./protocol";

/** What the dashboard hears from device sessions. */
export interface SessionObserver {
  /** Something shown in the device list changed (online, hello figures, config answers, counts). */
  changed(deviceId: string): void;
  /** A batch's readings were committed. */
  stored(deviceId: string, rows: BatchRows): void;
}

export interface SessionContext {
  store: Store;
  now: () => number;
  log: Log;
  commits: CommitQueue;
  /** Takes one frame of this kind from the device's allowance; false: err `rate-limited`, close 4008. */
  allow: (kind: Limited, deviceId: string) => boolean;
  /** A connection that has not sent a valid hello this long after its upgrade is closed (1008). */
  helloTimeoutMs: number;
  /**
   * Answers waiting to be sent above this many bytes: the device is not reading them. Its frames are not
   * read either until they are down to this again, and it is closed if they stay above for `stalledMs`.
   */
  maxBufferedBytes: number;
  stalledMs: number;
  observer: SessionObserver;
  /** True once the server is shutting down: frames read after that are not answered (nor stored). */
  closing: () => boolean;
}

/** Frames each device may send only so many of a minute (limits.ts). */
export type Limited = "batch" | "hello" | "ping";

const LIMITED: Record<Limited, string> = { batch: "batches", hello: "hellos", ping: "pings" };

export class DeviceSession {
  readonly deviceId: string;
  /** The token version the token check at admission saw (store.ts, TokenChange). */
  readonly tokenChecked: number;
  /** This session's claim generation (Cluster.claim), once the claim is answered. */
  generation: number | undefined;
  #socket: WebSocket;
  #context: SessionContext;
  /** A hello was taken; batches may follow it at once (they queue behind its write). */
  #helloReceived = false;
  /** The hello is committed and welcome sent: config pushes may go straight to the device. */
  #welcomed = false;
  /** Seq of the last batch taken on this connection; a batch must carry a greater one. */
  #lastSeq = 0;
  #errors = 0;
  /** Config pushes sent on this connection: a push announced twice (its hello, another node) goes once. */
  #pushesSent = new Set<number>();
  /** Writes read while the commit queue was full, in order: enqueued when the queue lets this one in. */
  #parked: (() => void)[] = [];
  readonly #letIn = () => this.release();
  /** Cleared by a valid hello; until then it closes the connection at `helloTimeoutMs`. */
  #helloTimer: NodeJS.Timeout | undefined;
  /** Set while more than `maxBufferedBytes` wait to be sent: not reading, closed at `stalledMs`. */
  #stalledTimer: NodeJS.Timeout | undefined;

  constructor(deviceId: string, socket: WebSocket, tokenChecked: number, context: SessionContext) {
    this.deviceId = deviceId;
    this.tokenChecked = tokenChecked;
    this.#socket = socket;
    this.#context = context;
    socket.on("message", (data, isBinary) => {
      try {
        this.#receive(data, isBinary);
      } catch (e) {
        // A fault of ours, never the device's: it ends this connection, not the process.
        this.#rejected({ code: "internal", close: Close.Internal, msg: e instanceof Error ? e.message : String(e) }, "error");
        this.close(Close.Internal, "internal error");
      }
    });
    // ws reports a frame over maxPayload (and invalid UTF-8) here, and closes the socket itself.
    socket.on("close", () => {
      context.commits.forget(this.#letIn);
      clearTimeout(this.#helloTimer);
      clearTimeout(this.#stalledTimer);
    });
    this.#helloTimer = setTimeout(() => {
      const msg = `no hello within ${context.helloTimeoutMs} ms`;
      this.#send({ t: "err", code: "no-hello", msg });
      this.#rejected({ code: "no-hello", close: Close.Policy, msg });
      this.close(Close.Policy, "no hello in time");
    }, context.helloTimeoutMs);
    socket.on("error", (error: Error & { code?: string }) => {
      if (error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") this.#rejected({ close: Close.TooLarge, msg: error.message });
      else this.#rejected({ code: error.code ?? "socket-error", msg: error.message });
    });
  }

  get helloed(): boolean {
    return this.#welcomed;
  }

  close(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }

  /** Stops reading frames (shutdown): the device's frames wait in TCP. */
  pause(): void {
    this.#socket.pause();
  }

  /**
   * The queue let this connection in: enqueues its parked writes while there is room, and reads again
   * once none is left (`all`: every one, at shutdown).
   */
  release(all = false): void {
    const commits = this.#context.commits;
    let n = 0;
    while (n < this.#parked.length && (all || n === 0 || !commits.full)) this.#parked[n++]();
    this.#parked.splice(0, n);
    if (this.#parked.length > 0) commits.wait(this.#letIn);
    else this.#resume();
  }

  /** Reads again, unless the commit queue or a device that does not read its answers holds it back. */
  #resume(): void {
    if (this.#parked.length === 0 && this.#stalledTimer === undefined && !this.#context.closing() && this.#socket.readyState === this.#socket.OPEN)
      this.#socket.resume();
  }

  /** Queues a write, or parks it while the commit queue is full (back-pressure, commit.ts). */
  #write(enqueue: () => void): void {
    const commits = this.#context.commits;
    if (this.#parked.length === 0 && !commits.full) return enqueue();
    this.#parked.push(enqueue);
    if (this.#parked.length === 1) {
      this.#socket.pause();
      commits.wait(this.#letIn);
    }
  }

  /** The device's token was revoked or replaced: refuse it as the upgrade would have, and close. */
  refuse(code: "revoked" | "unauthorized", close: number, reason: string): void {
    this.#send({ t: "err", code, msg: reason });
    this.#rejected({ code, close, msg: reason });
    this.close(close, reason);
    // A connection held back by back-pressure reads nothing, so it would not see the device's close frame
    // and would linger until ws gives up on the handshake (30 s). Writes it parked are dropped: none can be
    // acked now, and the device keeps what was not acked.
    this.#parked.length = 0;
    this.#context.commits.forget(this.#letIn);
    this.#socket.resume();
  }

  /** Sends a pushed configuration; the device answers with `cfgack`. */
  deliverConfig(push: ConfigPushRow): void {
    if (this.#pushesSent.has(push.id) || this.#socket.readyState !== this.#socket.OPEN) return;
    this.#pushesSent.add(push.id);
    this.#send({ t: "cfg", id: push.id, set: JSON.parse(push.set_json) });
    const { store, now, log } = this.#context;
    store.markConfigSent(push.id, now()).catch((e: unknown) =>
      log({ level: "error", event: "config-push-failed", device: this.deviceId, id: push.id, msg: String(e) }));
  }

  #receive(data: RawData, isBinary: boolean): void {
    // Frames that arrive after the server started closing (4009, 1008, shutdown) are not answered.
    if (this.#socket.readyState !== this.#socket.OPEN || this.#context.closing()) return;
    if (isBinary) {
      this.#rejected({ close: Close.Unsupported, msg: "binary frame" });
      this.close(Close.Unsupported, "binary frames are not accepted");
      return;
    }
    const parsed = parseFrame(data.toString());
    if (parsed.error) return this.#protocolError(parsed.error);
    const frame = parsed.frame;
    switch (frame.t) {
      case "hello": return this.#hello(frame);
      case "b": return this.#batch(frame);
      case "cfgack": return this.#cfgAck(frame);
      case "ping":
        if (!this.#context.allow("ping", this.deviceId)) return this.#rateLimited("ping");
        return this.#send({ t: "pong" });
    }
  }

  /** Over the device's allowance: the frame is dropped (a batch is kept by the device: no `s`), close 4008. */
  #rateLimited(kind: Limited, s?: number): void {
    const msg = `too many ${LIMITED[kind]} per minute`;
    this.#send({ t: "err", code: "rate-limited", msg });
    this.#rejected({ code: "rate-limited", close: Close.RateLimited, msg, ...(s === undefined ? {} : { s }) });
    this.close(Close.RateLimited, "rate limited");
  }

  #hello(hello: Hello): void {
    const { store, now, log, commits, observer } = this.#context;
    if (hello.id !== this.deviceId)
      return this.#protocolError({ code: "bad-field", msg: `id: hello for ${hello.id} on the connection of ${this.deviceId}`, close: Close.Policy });
    if (!this.#context.allow("hello", this.deviceId)) return this.#rateLimited("hello");
    clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined; // and its closure: nothing kept per connection for it
    this.#helloReceived = true;
    const at = now();
    this.#write(() => commits.enqueue({ kind: "hello", hello, at }, (outcome) => {
      if (this.#context.closing()) return;
      if (outcome instanceof Error) {
        this.#rejected({ code: "storage", msg: outcome.message }, "error");
        this.close(Close.Internal, "could not record hello");
        return;
      }
      if (this.#socket.readyState !== this.#socket.OPEN) return;
      // Pending configuration goes before the welcome: a battery device that woke only to check in may
      // sleep as soon as it has its welcome.
      store.pendingConfigPushes(this.deviceId).then((pushes) => {
        if (this.#context.closing() || this.#socket.readyState !== this.#socket.OPEN) return;
        for (const push of pushes) this.deliverConfig(push);
        this.#send({ t: "welcome", v: PROTOCOL_VERSION, time: now() });
        this.#welcomed = true;
        observer.changed(this.deviceId);
        log({ level: "info", event: "hello", device: this.deviceId, fw: hello.fw, boot: hello.boot, rr: hello.rr, mode: hello.mode, err: hello.err });
      }, (e: unknown) => {
        this.#rejected({ code: "storage", msg: e instanceof Error ? e.message : String(e) }, "error");
        this.close(Close.Internal, "could not read pending config");
      });
    }));
  }

  #batch(batch: Batch): void {
    const { now, log, commits, observer } = this.#context;
    if (!this.#helloReceived) return this.#protocolError({ code: "no-hello", msg: "batch before hello", s: batch.s });
    if (batch.s <= this.#lastSeq)
      return this.#protocolError({ code: "bad-seq", msg: `s must be greater than ${this.#lastSeq}`, s: batch.s });
    const receivedAt = now();
    const times = batchTimes(batch, receivedAt);
    if (times.error) return this.#protocolError(times.error);
    // No `s` in the err: the device keeps the batch and sends it again after its back-off (docs/protocol.md).
    if (!this.#context.allow("batch", this.deviceId)) return this.#rateLimited("batch", batch.s);
    const previousSeq = this.#lastSeq;
    this.#lastSeq = batch.s;
    const rows: BatchRows = { boot: batch.o, channel: batch.c, idx: batch.k, oldest: times.oldest, stepMs: times.stepMs, values: batch.values, faults: batch.faults };
    this.#write(() => commits.enqueue({ kind: "readings", deviceId: this.deviceId, rows, at: receivedAt }, (outcome) => {
      // Once shutdown has begun nothing more is sent: what was committed is kept, and the device, having no
      // ack, sends it again to the next server, which stores nothing twice.
      if (this.#context.closing()) return;
      if (outcome instanceof Error) {
        // Not the device's fault: not counted as a protocol error, and the same seq may be sent again.
        if (this.#lastSeq === batch.s) this.#lastSeq = previousSeq;
        this.#send({ t: "err", code: "storage", msg: "could not store the batch, retry later", s: batch.s });
        this.#rejected({ code: "storage", msg: outcome.message, s: batch.s }, "error");
        return;
      }
      this.#send({ t: "ack", s: batch.s });
      observer.stored(this.deviceId, rows);
      log({ level: "debug", event: "batch-stored", device: this.deviceId, s: batch.s, n: batch.n, stored: outcome });
    }));
  }

  #cfgAck(ack: CfgAck): void {
    const { store, now, log, observer } = this.#context;
    store.recordConfigAnswer(this.deviceId, ack.id, ack.ok, ack.err, now()).then((recorded) => {
      if (this.#socket.readyState !== this.#socket.OPEN) return;
      if (!recorded) return this.#protocolError({ code: "bad-field", msg: `id: no pending config push ${ack.id}` });
      observer.changed(this.deviceId);
      log({ level: ack.ok ? "info" : "warn", event: "config-answered", device: this.deviceId, id: ack.id, ok: ack.ok, err: ack.err });
    }, (e: unknown) => this.#rejected({ code: "storage", msg: e instanceof Error ? e.message : String(e) }, "error"));
  }

  /** Answers with an err frame, which goes out before any close: a Moddable client sees no close codes. */
  #protocolError({ close, ...error }: ProtocolError): void {
    this.#send({ t: "err", ...error });
    const closing = close ?? (++this.#errors >= MAX_PROTOCOL_ERRORS ? Close.TooManyErrors : undefined);
    if (closing === undefined) return this.#rejected(error);
    this.#rejected({ ...error, close: closing });
    this.close(closing, closing === Close.TooManyErrors ? "too many protocol errors" : "hello refused");
  }

  /** The one log line of a rejected frame: its err code and/or close code. */
  #rejected(what: { code?: string; close?: number; msg: string; s?: number }, level: "warn" | "error" = "warn"): void {
    this.#context.log({ level, event: "rejected", device: this.deviceId, ...what });
  }

  #send(frame: object): void {
    const socket = this.#socket;
    if (socket.readyState !== socket.OPEN) return;
    const text = JSON.stringify(frame);
    // Only a send that finds the buffer over its cap gets a callback (nothing is allocated for the others): it
    // runs once everything before it has gone out to the kernel, which is when reading may start again.
    if (socket.bufferedAmount + text.length <= this.#context.maxBufferedBytes && this.#stalledTimer === undefined) return socket.send(text);
    socket.send(text, () => this.#drained());
    if (this.#stalledTimer !== undefined) return;
    socket.pause();
    this.#stalledTimer = setTimeout(() => {
      this.#rejected({ close: Close.Policy, msg: `not reading its answers (${socket.bufferedAmount} bytes unsent)` });
      socket.terminate(); // a close frame would wait behind what it does not read
    }, this.#context.stalledMs);
  }

  #drained(): void {
    if (this.#stalledTimer === undefined || this.#socket.bufferedAmount > this.#context.maxBufferedBytes) return;
    clearTimeout(this.#stalledTimer);
    this.#stalledTimer = undefined;
    this.#resume();
  }
}
