/*
 * Opening a store by name: apart from store.ts so that the interface does not import its implementations
 * (tests/architecture: no cycles).
 */
import type { Store } from "./store";

/** A `postgres://` or `postgresql://` URL, as `--db` and DATABASE_URL take it. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/**
 * Opens the store `db` names: a PostgreSQL URL, else a SQLite file (or ":memory:"). PostgreSQL's client is
 * loaded only then, so the default needs nothing installed. `cacheMb`: SQLite's page cache.
 */
export async function openStore(db: string, options: { cacheMb?: number; checkpoints?: "thread" | "here" } = {}): Promise<Store> {
  if (isPostgresUrl(db)) {
    const { PostgresStore } = await import("./postgres");
    return PostgresStore.open(db);
  }
  const { SqliteStore } = await import("./sqlite-store");
  return SqliteStore.open(db, options);
}
