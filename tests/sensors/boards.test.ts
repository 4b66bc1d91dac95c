import { test } from "node:test";
import assert from "node:assert/strict";
import { BOARD_NAMES, BOARDS, boardPins } from "../../config/boards/boards";

test("three boards, by name, frozen all the way down", () => {
  assert.deepEqual(BOARD_NAMES, ["esp32-devkitc", "d1-mini", "moddable-two"]);
  for (const board of BOARDS) {
    assert.equal(boardPins(board.name), board);
    assert.ok(Object.isFrozen(board) && Object.isFrozen(board.i2c) && Object.isFrozen(board.adc));
  }
  assert.equal(boardPins("uno"), undefined);
});

test("pins are distinct, exist on the chip, and the ADC is one Wi-Fi leaves usable", () => {
  for (const board of BOARDS) {
    const esp32 = board.name !== "d1-mini";
    const used = [board.oneWire, board.i2c.data, board.i2c.clock];
    assert.equal(new Set(used).size, used.length, board.name);
    for (const pin of used) assert.ok(pin >= 0 && pin <= (esp32 ? 33 : 16), `${board.name} ${pin}`);
    if (esp32) assert.ok(board.adc.pin >= 32 && board.adc.pin <= 39, "ADC1 (ADC2 is taken by Wi-Fi)");
    else assert.equal(board.adc.pin, 0, "the ESP8266 has one ADC");
    assert.ok(board.adc.fullScale > 0 && board.adc.fullScale <= board.supply);
    if (board.led) assert.ok(used.indexOf(board.led.pin) < 0);
  }
});
