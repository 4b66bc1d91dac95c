/*
 * One process of simulated devices for the load benchmark: real WebSocket clients on loopback, each with
 * its own token, a hello, then batches of 60 readings, either paced (one batch per device every `periodMs`)
 * or closed-loop (`window` batches in flight per device: as fast as the server acks). Ack latency is the
 * time from handing a batch to the socket to reading its ack. Driven over IPC by load.ts.
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import WebSocket from "ws";
import { batchFrame, deviceToken, deviceId, helloFrame, variants } from "./workload";

type Command =
  | { cmd: "connect"; url: string; from: number; count: number }
  | { cmd: "run"; kind: "paced"; periodMs: number; durationMs: number; warmupMs: number }
  | { cmd: "run"; kind: "closed"; window: number; durationMs: number; warmupMs: number }
  | { cmd: "close" };

const VARIANTS = variants();
const CONNECT_CONCURRENCY = 200;

interface Device {
  index: number;
  ws: WebSocket;
  seq: number;
  k: number;
  /** Send times of the batches awaiting their ack, oldest first (acks come in order). */
  sent: number[];
  welcomed: boolean;
}

const devices: Device[] = [];
let closes = 0;
let errors = 0;
/** Set while a run is measuring. */
let run: { from: number; until: number; latencies: number[]; acked: number; ackedRows: number; sent: number; next?: (d: Device) => void } | undefined;

function send(device: Device): void {
  device.seq++;
  const frame = batchFrame(VARIANTS[(device.index + device.seq) % VARIANTS.length], device.seq, device.k, 200);
  device.k += 60;
  device.sent.push(performance.now());
  device.ws.send(frame);
  if (run) run.sent++;
}

function onMessage(device: Device, text: string): void {
  // Only three frames can come: welcome, ack and (should a limit trip) err.
  if (text.startsWith('{"t":"ack"')) {
    const at = performance.now();
    const sentAt = device.sent.shift()!;
    if (run && sentAt >= run.from && at <= run.until) {
      run.latencies.push(at - sentAt);
      run.acked++;
      run.ackedRows += 60;
    }
    run?.next?.(device);
  } else if (text.startsWith('{"t":"welcome"')) device.welcomed = true;
  else if (text.startsWith('{"t":"err"')) errors++;
}

function connectOne(url: string, index: number): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}/${deviceId(index)}`, {
      headers: { authorization: `Bearer ${deviceToken(index)}` },
      perMessageDeflate: false,
    });
    const device: Device = { index, ws, seq: 0, k: 0, sent: [], welcomed: false };
    let settled = false;
    const done = (ok: boolean) => {
      if (!settled) {
        settled = true;
        resolve(ok);
      }
    };
    ws.on("open", () => ws.send(helloFrame(index)));
    ws.on("message", (data) => {
      const text = data.toString();
      onMessage(device, text);
      if (device.welcomed && !settled) {
        devices.push(device);
        done(true);
      }
    });
    ws.on("error", () => {
      errors++;
      done(false);
    });
    ws.on("close", () => {
      closes++;
      done(false);
    });
  });
}

async function connectAll(url: string, from: number, count: number) {
  const started = performance.now();
  let next = from;
  let failed = 0;
  const worker = async () => {
    while (next < from + count) if (!(await connectOne(url, next++))) failed++;
  };
  await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker));
  return { connected: devices.length, failed, ms: performance.now() - started };
}

async function runLoad(command: Extract<Command, { cmd: "run" }>) {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  // A client's own stalls delay the acks it reads: how late its event loop ran, over the run.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  run = { from: start + command.warmupMs, until: start + command.durationMs, latencies: [], acked: 0, ackedRows: 0, sent: 0 };
  const stopAt = start + command.durationMs;
  const timers: NodeJS.Timeout[] = [];
  if (command.kind === "paced") {
    // Spread over the period, so that the load is even rather than a burst every period.
    devices.forEach((device, i) => {
      timers.push(setTimeout(() => {
        send(device);
        timers.push(setInterval(() => {
          if (performance.now() < stopAt) send(device);
        }, command.periodMs));
      }, (i / devices.length) * command.periodMs));
    });
  } else {
    run.next = (device) => {
      if (performance.now() < stopAt) send(device);
    };
    for (const device of devices) for (let w = 0; w < command.window; w++) send(device);
  }
  await new Promise((resolve) => setTimeout(resolve, command.durationMs));
  const cpu = process.cpuUsage(cpuStart);
  loopDelay.disable();
  for (const timer of timers) clearInterval(timer);
  const measured = run;
  run.next = undefined;
  // Let the batches in flight be acked before the next run starts.
  const drainUntil = performance.now() + 15000;
  while (devices.some((d) => d.sent.length > 0) && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  run = undefined;
  const latencies = Float64Array.from(measured.latencies);
  return {
    sent: measured.sent,
    acked: measured.acked,
    ackedRows: measured.ackedRows,
    seconds: (measured.until - measured.from) / 1000,
    latencies: Buffer.from(latencies.buffer).toString("base64"),
    unacked: devices.reduce((n, d) => n + d.sent.length, 0),
    /** CPU this process used over the whole run (warm-up included), ms. */
    cpuMs: (cpu.user + cpu.system) / 1000,
    loopDelayP99: loopDelay.percentile(99) / 1e6,
    loopDelayMax: loopDelay.max / 1e6,
    errors,
    closes,
  };
}

process.on("message", async (command: Command) => {
  switch (command.cmd) {
    case "connect":
      return process.send!(await connectAll(command.url, command.from, command.count));
    case "run":
      return process.send!(await runLoad(command));
    case "close":
      for (const device of devices) device.ws.terminate();
      process.send!({ closed: true });
      setTimeout(() => process.exit(0), 50);
  }
});
process.send!({ ready: true });
