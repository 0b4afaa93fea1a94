import type { Db } from './database.ts';

/**
 * A query of a hot path (every request authenticates; execution reads are polled) built once per
 * store and run as a prepared statement: drizzle builds its SQL once instead of on every call, and
 * PostgreSQL parses it once per connection. `build` names the statement in `.prepare(name)`.
 */
export function preparedQuery<T>(build: (db: Db) => T): (db: Db) => T {
  const built = new WeakMap<Db, T>();
  return (db) => {
    let query = built.get(db);
    if (query === undefined) {
      query = build(db);
      built.set(db, query);
    }
    return query;
  };
}
