/*
 * Clocks for simulated devices. A VirtualClock moves only when asked: it fires timers in time order and,
 * before each step, waits until real loopback I/O has settled (traffic.ts), so a device and a real server
 * in the same process finish their exchange at one instant of virtual time. A RealClock has the same
 * interface over Node's timers, for running devices against a server in real time.
 */
import type { Server, Socket } from "node:net";
import { Traffic, type IdleCheck } from "./traffic";

/** Virtual time starts here unless told otherwise: a fixed date keeps runs repeatable. */
export const VIRTUAL_EPOCH = Date.UTC(2026, 0, 1);

export interface ClockTimer {
  readonly due: number;
}

export interface Clock {
  /** Epoch ms. */
  now(): number;
  /** `owner` "device": a simulated device's timer, whose I/O the device reports itself (`touch`). */
  setTimer(callback: () => void, ms: number, owner?: "device"): ClockTimer;
  clearTimer(timer: ClockTimer | undefined): void;
  /** Follows a device's socket, so settling waits for its bytes; `busy` adds the owner's own view. */
  trackSocket(socket: Socket, busy?: (peerTracked: boolean) => boolean): void;
  /** A device did I/O: the next settle checks every socket. */
  touch(): void;
  /** A device halted on an exception: a VirtualClock rethrows it from the run in progress. */
  fault(error: Error): void;
}

interface Entry extends ClockTimer {
  readonly seq: number;
  readonly callback: () => void;
  readonly device: boolean;
}

export interface VirtualClockOptions {
  /** Epoch ms at which virtual time starts. */
  start?: number;
  /** Longest real time one settle may take before the run fails (a stuck socket, a server that never idles). */
  settleLimitMs?: number;
  /** The real-time clock the settle limit is measured on, ms (default performance.now; a test passes its own). */
  settleNow?: () => number;
}

export class VirtualClock implements Clock {
  readonly traffic: Traffic;
  #now: number;
  #seq = 0;
  /** Sorted by due time, then by the order the timers were set (equal times fire first-set first). */
  #queue: Entry[] = [];
  #running = false;
  #faults: Error[] = [];

  constructor(options: VirtualClockOptions = {}) {
    this.#now = options.start ?? VIRTUAL_EPOCH;
    // Generous: on a loaded machine (CI with two test files at once) loopback can lag by seconds.
    this.traffic = new Traffic(options.settleLimitMs ?? 10000, options.settleNow);
  }

  now(): number {
    return this.#now;
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Due time of the next timer, or undefined when none is set. */
  get next(): number | undefined {
    return this.#queue[0]?.due;
  }

  setTimer(callback: () => void, ms: number, owner?: "device"): ClockTimer {
    const entry: Entry = { due: this.#now + (ms > 0 ? ms : 0), seq: this.#seq++, callback, device: owner === "device" };
    // Binary search for the first entry due later: equal due times keep their setting order.
    let low = 0, high = this.#queue.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#queue[mid].due <= entry.due) low = mid + 1;
      else high = mid;
    }
    this.#queue.splice(low, 0, entry);
    return entry;
  }

  clearTimer(timer: ClockTimer | undefined): void {
    if (!timer) return;
    const at = this.#queue.indexOf(timer as Entry);
    if (at >= 0) this.#queue.splice(at, 1);
  }

  advance(ms: number): Promise<void> {
    return this.runUntil(this.#now + ms);
  }

  /** Fires every timer due up to `epochMs`, in order, settling I/O before each; ends with now() === epochMs. */
  async runUntil(epochMs: number): Promise<void> {
    if (this.#running) throw new Error("VirtualClock: a run is already in progress");
    if (!(epochMs >= this.#now)) throw new RangeError(`VirtualClock: cannot run back to ${epochMs} from ${this.#now}`);
    this.#running = true;
    this.traffic.touch(); // anything may have happened since the last run
    try {
      for (;;) {
        await this.settle();
        const entry = this.#queue[0];
        if (!entry || entry.due > epochMs) break;
        this.#queue.shift();
        this.#now = entry.due;
        if (!entry.device) this.traffic.touch();
        entry.callback();
      }
      this.#now = epochMs;
    } finally {
      this.#running = false;
    }
  }

  /** Waits for real I/O to finish without moving time; rethrows a device fault reported meanwhile. */
  async settle(): Promise<void> {
    this.#throwFault();
    await this.traffic.settle();
    this.#throwFault();
  }

  /** Follows every connection `server` accepts, so settling knows when it has read what devices sent. */
  trackServer(server: Server): void {
    this.traffic.trackServer(server);
  }

  /**
   * Follows every connection any server in this process accepts (Node's "net.server.socket" diagnostics
   * channel), for a server that does not expose its net.Server. Returns the way to stop.
   */
  trackAllServers(): () => void {
    return this.traffic.trackAllServers();
  }

  /** A server with asynchronous work (a commit on another thread, a timer) says here when it is idle. */
  trackIdle(check: IdleCheck): void {
    this.traffic.trackIdle(check);
  }

  trackSocket(socket: Socket, busy?: (peerTracked: boolean) => boolean): void {
    this.traffic.trackSocket(socket, busy);
  }

  touch(): void {
    this.traffic.touch();
  }

  fault(error: Error): void {
    this.#faults.push(error);
  }

  #throwFault(): void {
    const error = this.#faults.shift();
    if (error) throw error;
  }
}

interface RealTimer extends ClockTimer {
  readonly handle: NodeJS.Timeout;
}

/** Wall-clock time: for devices talking to a server in real time (the CLI, manual runs). */
export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }
  setTimer(callback: () => void, ms: number): ClockTimer {
    const timer: RealTimer = { due: Date.now() + ms, handle: setTimeout(callback, ms) };
    return timer;
  }
  clearTimer(timer: ClockTimer | undefined): void {
    if (timer) clearTimeout((timer as RealTimer).handle);
  }
  trackSocket(): void {}
  touch(): void {}
  /** There is no run to fail: a halted device is reported on stderr. */
  fault(error: Error): void {
    process.stderr.write(`${error.message}\n`);
  }
}
