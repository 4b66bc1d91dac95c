/*
 * A real pseudo-terminal for end-to-end console tests. Node cannot open one by itself (openpty needs
 * native code), so a few lines of Python — present wherever node-gyp builds this project's native
 * packages — hold the master end and relay it to pipes: what the test writes reaches the terminal as
 * typed bytes, and what the device writes to the terminal comes back. The device opens `path` (or the
 * symlink `link`) as a tty, exactly as it would a USB serial adapter.
 */
import { spawn, type ChildProcess } from "node:child_process";

const RELAY = String.raw`
import os, pty, select, sys, tty
master, slave = pty.openpty()
tty.setraw(slave)  # like socat's pty,raw,echo=0: the terminal passes bytes through untouched
name = os.ttyname(slave)
if len(sys.argv) > 1 and sys.argv[1]:
    os.symlink(name, sys.argv[1])
os.write(1, (name + "\n").encode())
# The slave stays open here, so the master never reads EIO while the device closes and reopens its side.
while True:
    ready, _, _ = select.select([master, 0], [], [])
    if master in ready:
        os.write(1, os.read(master, 4096))
    if 0 in ready:
        data = os.read(0, 4096)
        if not data:
            break
        os.write(master, data)
`;

export interface PseudoTerminal {
  /** The terminal's device path, e.g. /dev/pts/7. */
  readonly path: string;
  /** Everything the device wrote to the terminal so far. */
  readonly output: Buffer;
  /** Types bytes into the terminal, as a person or a web flasher would. */
  write(data: string | Uint8Array): void;
  /** Forgets the output so far (the next waits look only at what comes after). */
  clear(): void;
  close(): Promise<void>;
}

export async function openPseudoTerminal(link?: string): Promise<PseudoTerminal> {
  const relay: ChildProcess = spawn("python3", ["-u", "-c", RELAY, link ?? ""], { stdio: ["pipe", "pipe", "pipe"] });
  let errors = "";
  relay.stderr!.on("data", (chunk) => (errors += chunk));
  let output = Buffer.alloc(0);
  const path = await new Promise<string>((resolve, reject) => {
    let first = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      first = Buffer.concat([first, chunk]);
      const newline = first.indexOf(10);
      if (newline < 0) return;
      relay.stdout!.off("data", onData);
      output = first.subarray(newline + 1);
      relay.stdout!.on("data", (more: Buffer) => (output = Buffer.concat([output, more])));
      resolve(first.subarray(0, newline).toString());
    };
    relay.stdout!.on("data", onData);
    relay.once("error", reject);
    relay.once("exit", (code) => reject(new Error(`the pty relay (python3) exited with ${code}: ${errors}`)));
  });
  const exited = new Promise<void>((resolve) => relay.once("exit", () => resolve()));
  return {
    path,
    get output() {
      return output;
    },
    write(data) {
      relay.stdin!.write(data);
    },
    clear() {
      output = Buffer.alloc(0);
    },
    async close() {
      relay.stdin!.end();
      relay.kill();
      await exited;
    },
  };
}
