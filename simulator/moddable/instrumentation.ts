/* `instrumentation` (SDK modules/base/instrumentation): XS heap figures are not simulated on Node. */
export default class Instrumentation {
  static map(name: string): number | undefined {
    return name ? 0 : undefined;
  }
  static get(_index: number | undefined): number | undefined {
    return undefined;
  }
  static name(_index: number): string | undefined {
    return undefined;
  }
}
