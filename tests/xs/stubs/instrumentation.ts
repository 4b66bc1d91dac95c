/* `instrumentation` stub: no heap figures. */
export default class Instrumentation {
  static map(_name: string): number | undefined {
    return undefined;
  }
  static get(_index: number | undefined): number | undefined {
    return undefined;
  }
}
