/*
 * WakePlan: on a battery wake, whether to bring the radio up. The radio is what costs: an ESP32 draws
 * 160–260 mA transmitting and 80–90 mA receiving (ESP32-WROOM-32 datasheet) against ~5 µA in deep sleep,
 * so a wake that only samples is nearly free and a wake that connects is not. Connect only when it pays.
 */
export interface WakeFacts {
  /** Device time now, ms. */
  now: number;
  unsent: number;
  batchSize: number;
  /** Device time of the oldest unsent reading, or -1. */
  oldestUnsent: number;
  /** Longest a reading may wait, ms. */
  maxLatency: number;
  /** Time to the next wake, ms. */
  interval: number;
  /** No attempt before this device time (backoff carried across sleep). */
  retryAt: number;
  /** Battery mode was switched off: what is held goes now, then the device restarts always-on. */
  leaving: boolean;
  /** Check in for pushed configuration at least this often, ms; 0: never just for that. */
  checkIn: number;
  lastCheckIn: number;
}

export type WakeReason = "" | "batch" | "latency" | "leaving" | "check-in";

/** The reason to connect this wake, or "" to sample and sleep. */
export function reasonToConnect(f: WakeFacts): WakeReason {
  if (f.now < f.retryAt) return "";
  if (f.leaving && f.unsent > 0) return "leaving";
  if (f.unsent >= f.batchSize) return "batch";
  // Send now if waiting for the next wake would make the oldest reading late.
  if (f.oldestUnsent >= 0 && f.now + f.interval - f.oldestUnsent > f.maxLatency) return "latency";
  if (f.checkIn > 0 && f.now - f.lastCheckIn >= f.checkIn) return "check-in";
  return "";
}
