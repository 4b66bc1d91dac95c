/*
 * Improv Wi-Fi Serial v1 packets built from the spec (improv-wifi.com/serial), not with the firmware's own
 * encoder: the unit tests and the pseudo-terminal test check the device's bytes against these.
 */
export const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));
export function utf8(text: string): number[] {
  const bytes: number[] = [];
  for (const character of text) {
    const c = character.codePointAt(0)!;
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return bytes;
}

/** "IMPROV", version 1, type, length, data, checksum (low byte of the sum of all bytes before it). */
export function packet(type: number, data: number[]): number[] {
  const bytes = [...ascii("IMPROV"), 1, type, data.length, ...data];
  let sum = 0;
  for (const b of bytes) sum += b;
  return [...bytes, sum & 0xff];
}
/** An RPC command as the browser sends it: the packet, then "\n" (improv-wifi/sdk-serial-js). */
export const rpc = (command: number, payload: number[] = []) => [...packet(0x03, [command, payload.length, ...payload]), 0x0a];
/** What the device sends: a packet and "\n". */
export const sent = (type: number, data: number[]) => [...packet(type, data), 0x0a];
export const state = (s: number) => sent(0x01, [s]);
export const error = (e: number) => sent(0x02, [e]);
export const result = (command: number, strings: string[]) => {
  const body: number[] = [];
  for (const s of strings) body.push(utf8(s).length, ...utf8(s));
  return sent(0x04, [command, body.length, ...body]);
};
export const wifiSettings = (ssid: string, password: string) => [utf8(ssid).length, ...utf8(ssid), utf8(password).length, ...utf8(password)];
