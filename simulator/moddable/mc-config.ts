/* `mc/config`: the manifest's config of this board, frozen as the preloaded module is on a device. */
import { hardware } from "./hardware";

function freeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) for (const key of Object.keys(value)) freeze((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}

const config: { file: { root: string } } & Record<string, any> = freeze(JSON.parse(JSON.stringify(hardware().manifest)));
export default config;
