import { FerryError } from '../domain/errors.ts';
import type { ReadRequest } from '../engine/bulk/contracts.ts';
import { filterCondition, type SqlDialect } from './filter-sql.ts';

/** What a SQL source adds to a filter dialect to read incrementally. */
export interface ReadDialect extends SqlDialect {
  /** Throws when the table has no such column (cursor and key columns are checked before use). */
  checkColumn(name: string): void;
  /**
   * The condition "row after this position": `keys` are column names, `values` their text values,
   * which each database casts to the column types its own way.
   */
  after(keys: string[], values: string[]): string;
}

/**
 * The WHERE and ORDER BY of a read: the table's filters, then for incremental reads the rows with a
 * cursor value after the stored position. Rows are sorted by (cursor, key) only when the read is
 * limited: a whole read needs no sort (destinations find the greatest position themselves), so an
 * index on the cursor serves the WHERE alone.
 */
export function readClauses(request: ReadRequest, dialect: ReadDialect): string {
  const conditions: string[] = [];
  const filtered = filterCondition(request.filters, dialect);
  if (filtered) conditions.push(filtered);
  let order = '';
  const incremental = request.incremental;
  if (incremental) {
    const keys = [incremental.cursorField, ...request.primaryKey];
    for (const key of keys) dialect.checkColumn(key);
    // Rows without a cursor value have no position: incremental reads leave them out.
    conditions.push(`${dialect.ident(incremental.cursorField)} is not null`);
    const after = incremental.after;
    if (after) {
      if (after.pk.length !== request.primaryKey.length) {
        throw new FerryError(
          'validation_failed',
          `cursor position has ${after.pk.length} primary key value(s), the table has ${request.primaryKey.length}`,
        );
      }
      conditions.push(dialect.after(keys, [after.value, ...after.pk]));
    }
    if (request.limit !== undefined) order = ` order by ${keys.map((key) => dialect.ident(key)).join(', ')}`;
  }
  return `${conditions.length > 0 ? ` where ${conditions.join(' and ')}` : ''}${order}`;
}
