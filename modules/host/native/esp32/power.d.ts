/* Types of the native/power module; the same in esp32/, esp/ and sim/ (one per platform's folder, as mcconfig finds them). */
declare const Power: {
  /** Memory kept through deep sleep, or undefined when the platform has fewer than `bytes`. */
  retained(bytes: number): ArrayBuffer | undefined;
  /** On a board it does not return; on the simulator `wake` runs main() again after `ms`. */
  deepSleep(ms: number, wake: () => void): void;
  /** The longest sleep `deepSleep` takes, ms. */
  readonly maxSleep: number;
  resetReason(): string;
  restart(): void;
};
export default Power;
