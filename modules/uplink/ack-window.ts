/*
 * AckWindow: the batches sent on this connection and not yet acknowledged, oldest first. A bounded
 * window (a few batches in flight) keeps memory fixed and lets a backlog drain without waiting a round
 * trip per batch.
 */
export class AckWindow {
  readonly size: number;
  seq: Uint32Array;
  boot: Uint32Array;
  index: Uint32Array;
  count: Uint16Array;
  /** Sent time (device ms), for the ack timeout. */
  sentAt: Float64Array;
  /** Answered out of order; released when it reaches the front. */
  done: Uint8Array;
  length = 0;

  constructor(size: number) {
    this.size = size;
    this.seq = new Uint32Array(size);
    this.boot = new Uint32Array(size);
    this.index = new Uint32Array(size);
    this.count = new Uint16Array(size);
    this.sentAt = new Float64Array(size);
    this.done = new Uint8Array(size);
  }

  get full(): boolean {
    return this.length === this.size;
  }

  push(seq: number, boot: number, index: number, count: number, sentAt: number): void {
    const i = this.length++;
    this.seq[i] = seq;
    this.boot[i] = boot;
    this.index[i] = index;
    this.count[i] = count;
    this.sentAt[i] = sentAt;
    this.done[i] = 0;
  }

  /** Position of `seq` in the window, or -1 (a sequence number never sent: the server is wrong). */
  find(seq: number): number {
    for (let i = 0; i < this.length; i++) if (this.seq[i] === seq) return i;
    return -1;
  }

  shift(): void {
    const n = --this.length;
    this.seq.copyWithin(0, 1, n + 1);
    this.boot.copyWithin(0, 1, n + 1);
    this.index.copyWithin(0, 1, n + 1);
    this.count.copyWithin(0, 1, n + 1);
    this.sentAt.copyWithin(0, 1, n + 1);
    this.done.copyWithin(0, 1, n + 1);
  }

  clear(): void {
    this.length = 0;
  }
}
