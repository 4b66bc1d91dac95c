/*
 * One device's connection: the protocol state of that connection (hello seen, last acked seq, errors
 * counted) and the answers to each frame. A bad frame is answered, logged once and stores nothing; it
 * never reaches beyond this session.
 */
import type { RawData, WebSocket } from "ws";
import type { ConfigPushRow, TelemetryDb } from "./db";
import type { Log } from "./log";
import {
  Close, MAX_PROTOCOL_ERRORS, PROTOCOL_VERSION, dateReadings, parseFrame,
  type Batch, type CfgAck, type Hello, type ProtocolError,
} from "./protocol";

export interface SessionContext {
  db: TelemetryDb;
  now: () => number;
  log: Log;
}

export class DeviceSession {
  readonly deviceId: string;
  #socket: WebSocket;
  #context: SessionContext;
  #helloed = false;
  /** Seq of the last batch acked on this connection; a batch must carry a greater one. */
  #lastSeq = 0;
  #errors = 0;

  constructor(deviceId: string, socket: WebSocket, context: SessionContext) {
    this.deviceId = deviceId;
    this.#socket = socket;
    this.#context = context;
    socket.on("message", (data, isBinary) => this.#receive(data, isBinary));
    // ws reports a frame over maxPayload (and invalid UTF-8) here, and closes the socket itself.
    socket.on("error", (error: Error & { code?: string }) => {
      if (error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") this.#rejected({ close: Close.TooLarge, msg: error.message });
      else this.#rejected({ code: error.code ?? "socket-error", msg: error.message });
    });
  }

  get helloed(): boolean {
    return this.#helloed;
  }

  close(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }

  /** Sends a pushed configuration; the device answers with `cfgack`. */
  deliverConfig(push: ConfigPushRow): void {
    this.#send({ t: "cfg", id: push.id, set: JSON.parse(push.set_json) });
    this.#context.db.markConfigSent(push.id, this.#context.now());
  }

  #receive(data: RawData, isBinary: boolean): void {
    // Frames that arrive after the server started closing (4009, 1008, shutdown) are not answered.
    if (this.#socket.readyState !== this.#socket.OPEN) return;
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
    }
  }

  #hello(hello: Hello): void {
    const { db, now, log } = this.#context;
    if (hello.id !== this.deviceId)
      return this.#protocolError({ code: "bad-field", msg: `id: hello for ${hello.id} on the connection of ${this.deviceId}`, close: Close.Policy });
    db.recordHello(hello, now());
    this.#helloed = true;
    // Pending configuration goes before the welcome: a battery device that woke only to check in may
    // sleep as soon as it has its welcome.
    for (const push of db.pendingConfigPushes(this.deviceId)) this.deliverConfig(push);
    this.#send({ t: "welcome", v: PROTOCOL_VERSION, time: now() });
    log({ level: "info", event: "hello", device: this.deviceId, fw: hello.fw, boot: hello.boot, rr: hello.rr, mode: hello.mode, err: hello.err });
  }

  #batch(batch: Batch): void {
    const { db, now, log } = this.#context;
    if (!this.#helloed) return this.#protocolError({ code: "no-hello", msg: "batch before hello", s: batch.s });
    if (batch.s <= this.#lastSeq)
      return this.#protocolError({ code: "bad-seq", msg: `s must be greater than ${this.#lastSeq}`, s: batch.s });
    const receivedAt = now();
    const dated = dateReadings(batch, receivedAt);
    if (dated.error) return this.#protocolError(dated.error);
    let stored: number;
    try {
      stored = db.storeReadings(this.deviceId, dated.readings, receivedAt);
    } catch (e) {
      // Not the device's fault: not counted as a protocol error, and the same seq may be sent again.
      const msg = e instanceof Error ? e.message : String(e);
      this.#send({ t: "err", code: "storage", msg: "could not store the batch, retry later", s: batch.s });
      this.#rejected({ code: "storage", msg, s: batch.s }, "error");
      return;
    }
    this.#lastSeq = batch.s;
    this.#send({ t: "ack", s: batch.s });
    log({ level: "debug", event: "batch-stored", device: this.deviceId, s: batch.s, n: batch.n, stored });
  }

  #cfgAck(ack: CfgAck): void {
    const { db, now, log } = this.#context;
    if (!db.recordConfigAnswer(this.deviceId, ack.id, ack.ok, ack.err, now()))
      return this.#protocolError({ code: "bad-field", msg: `id: no pending config push ${ack.id}` });
    log({ level: ack.ok ? "info" : "warn", event: "config-answered", device: this.deviceId, id: ack.id, ok: ack.ok, err: ack.err });
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
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.send(JSON.stringify(frame));
  }
}
