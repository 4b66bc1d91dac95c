/*
 * The dashboard's live feed: a WebSocket per open dashboard page (/v1/dashboard). The page gets the device
 * list when it connects, then the devices whose row changed (coalesced: at most one message per
 * `updateMs`), and the readings of the one device it watches as soon as their batch is committed.
 *
 *   server → page  {"t":"devices","time":…,"full":true|false,"devices":[summary…]}
 *                  {"t":"detail","time":…,"device":detail}
 *                  {"t":"readings","id":"…","c":0,"boot":12,"idx":480,"t0":…,"step":60000,"v":[2156,null…],"f":[null,"crc"…]}
 *   page → server  {"t":"watch","id":"kitchen-1"}   (or "id":null)
 *
 * Costs nothing while no page is open: device sessions report into it, and it drops what nobody watches.
 */
import type { RawData, WebSocket } from "ws";
import type { BatchRows, DeviceRow, Store } from "./store";
import type { Log } from "./log";
import { DEVICE_ID } from "./protocol";
import type { SessionObserver } from "./session";

export interface LiveFeedOptions {
  store: Store;
  now: () => number;
  log: Log;
  summary: (row: DeviceRow) => object;
  detail: (row: DeviceRow) => Promise<object>;
  /** Device-list updates are sent at most this often. */
  updateMs: number;
  /** Told when the pages open here, or the devices they watch, change (other nodes send only what is watched). */
  viewing?: (dashboards: number, watching: ReadonlySet<string>) => void;
}

/** A page that cannot keep up (this much unsent) is closed; it reconnects and starts from a fresh list. */
const MAX_BUFFERED_BYTES = 4 << 20;

export class LiveFeed implements SessionObserver {
  #options: LiveFeedOptions;
  #viewers = new Map<WebSocket, { watch: string | undefined }>();
  #dirty = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LiveFeedOptions) {
    this.#options = options;
  }

  get viewers(): number {
    return this.#viewers.size;
  }

  add(ws: WebSocket): void {
    const { store, summary, log } = this.#options;
    const viewer = { watch: undefined as string | undefined };
    this.#viewers.set(ws, viewer);
    ws.on("message", (data: RawData, isBinary: boolean) => this.#receive(ws, viewer, data, isBinary));
    ws.on("close", () => {
      this.#viewers.delete(ws);
      this.#viewing();
    });
    ws.on("error", () => ws.terminate());
    this.#viewing();
    store.devices().then(
      (rows) => this.#send(ws, { t: "devices", time: this.#options.now(), full: true, devices: rows.map(summary) }),
      (e: unknown) => {
        log({ level: "error", event: "dashboard-failed", msg: String(e) });
        ws.close(1011, "could not read the devices");
      });
  }

  #viewing(): void {
    const watching = new Set<string>();
    for (const viewer of this.#viewers.values()) if (viewer.watch !== undefined) watching.add(viewer.watch);
    this.#options.viewing?.(this.#viewers.size, watching);
  }

  changed(deviceId: string): void {
    if (this.#viewers.size === 0) return;
    this.#dirty.add(deviceId);
    this.#timer ??= setTimeout(() => this.#flush(), this.#options.updateMs);
  }

  stored(deviceId: string, rows: BatchRows): void {
    if (this.#viewers.size === 0) return;
    this.changed(deviceId);
    let text: string | undefined;
    for (const [ws, viewer] of this.#viewers) {
      if (viewer.watch !== deviceId) continue;
      text ??= JSON.stringify({
        t: "readings", id: deviceId, c: rows.channel, boot: rows.boot, idx: rows.idx, t0: rows.oldest, step: rows.stepMs,
        v: rows.values, f: rows.faults,
      });
      this.#sendText(ws, text);
    }
  }

  close(code: number, reason: string): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const ws of this.#viewers.keys()) ws.close(code, reason);
  }

  #receive(ws: WebSocket, viewer: { watch: string | undefined }, data: RawData, isBinary: boolean): void {
    let message: { t?: unknown; id?: unknown };
    try {
      message = isBinary ? {} : JSON.parse(data.toString());
    } catch {
      message = {};
    }
    if (message?.t !== "watch" || !(message.id === null || (typeof message.id === "string" && DEVICE_ID.test(message.id)))) {
      ws.close(1008, "unknown message");
      return;
    }
    viewer.watch = message.id ?? undefined;
    this.#viewing();
    const watch = viewer.watch;
    if (watch === undefined) return;
    const { store, detail, now, log } = this.#options;
    store.device(watch)
      .then(async (row) => {
        if (row !== undefined && viewer.watch === watch) this.#send(ws, { t: "detail", time: now(), device: await detail(row) });
      })
      .catch((e: unknown) => log({ level: "error", event: "dashboard-failed", msg: String(e) }));
  }

  #flush(): void {
    this.#timer = undefined;
    const ids = [...this.#dirty];
    this.#dirty.clear();
    if (ids.length === 0 || this.#viewers.size === 0) return;
    this.#flushRows(ids).catch((e: unknown) => this.#options.log({ level: "error", event: "dashboard-failed", msg: String(e) }));
  }

  async #flushRows(ids: readonly string[]): Promise<void> {
    const { store, summary, detail, now } = this.#options;
    const rows = (await Promise.all(ids.map((id) => store.device(id)))).filter((row): row is DeviceRow => row !== undefined);
    if (rows.length === 0 || this.#viewers.size === 0) return;
    const time = now();
    const list = JSON.stringify({ t: "devices", time, full: false, devices: rows.map(summary) });
    for (const [ws, viewer] of this.#viewers) {
      this.#sendText(ws, list);
      const watched = viewer.watch === undefined ? undefined : rows.find((r) => r.id === viewer.watch);
      if (watched !== undefined) this.#send(ws, { t: "detail", time, device: await detail(watched) });
    }
  }

  #send(ws: WebSocket, message: object): void {
    this.#sendText(ws, JSON.stringify(message));
  }

  #sendText(ws: WebSocket, text: string): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.#options.log({ level: "warn", event: "dashboard-dropped", msg: "dashboard too slow" });
      ws.close(1013, "dashboard too slow");
      return;
    }
    ws.send(text);
  }
}
