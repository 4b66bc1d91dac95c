/* The PostgreSQL store: the next commit. */
import type { Store } from "./store";

export const PostgresStore = {
  async open(_url: string): Promise<Store> {
    throw new Error("the PostgreSQL store is not built yet");
  },
};
