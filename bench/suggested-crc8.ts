/*
 * Not device code: a measured suggestion for sensors/onewire/bus.ts. Its crc8 works bit by bit (8 rounds
 * of shift and xor per byte, ~40 units a byte on XS), which makes the DS18B20's scratchpad check the most
 * expensive step of a reading. The same Dallas/Maxim CRC-8 (polynomial 0x31 reflected, 0x8c) from a
 * 256-byte table is one lookup a byte. bench/run.ts checks it agrees with crc8 on every scratchpad it uses.
 */
const TABLE = (() => {
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >> 1) ^ 0x8c : crc >> 1;
    table[i] = crc;
  }
  return table;
})();

export function crc8Table(bytes: Uint8Array, length = bytes.length): number {
  const table = TABLE;
  let crc = 0;
  for (let i = 0; i < length; i++) crc = table[crc ^ bytes[i]];
  return crc;
}
