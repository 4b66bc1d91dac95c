/* The board pin maps, by the `board` setting's value. */
import type { BoardPins } from "./board";
import { ESP32_DEVKITC } from "./esp32-devkitc";
import { D1_MINI } from "./d1-mini";
import { MODDABLE_TWO } from "./moddable-two";

export type { BoardPins } from "./board";

export const BOARDS: readonly BoardPins[] = Object.freeze([ESP32_DEVKITC, D1_MINI, MODDABLE_TWO]);

export const BOARD_NAMES: readonly string[] = Object.freeze(BOARDS.map((board) => board.name));

export function boardPins(name: string): BoardPins | undefined {
  for (const board of BOARDS) if (board.name === name) return board;
  return undefined;
}
