/* `net` stub: no network interface to describe. */
export default class Net {
  static get(_property: string, _interface?: string): string | number | undefined {
    return undefined;
  }
  static resolve(_host: string, callback: (name: string, address?: string) => void): void {
    callback(_host, undefined);
  }
}
