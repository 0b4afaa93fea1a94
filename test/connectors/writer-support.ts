/** Helpers of the bulk writer tests (test/connectors/*-writer.test.ts). */
import type { ColumnSpec, LogicalType, TableTarget } from '../../src/engine/bulk/contracts.ts';

export const col = (name: string, type: LogicalType, nullable = true): ColumnSpec => ({
  source: name,
  name,
  type,
  nullable,
});

/** A replicate table keyed by `id`, with cursor `updated` and one `v` text column. */
export const eventsTarget = (
  names: Pick<TableTarget, 'syncId' | 'schemaId' | 'namespace' | 'table'>,
): TableTarget => ({
  ...names,
  columns: [
    col('id', { kind: 'int64' }),
    col('updated', { kind: 'timestamptz' }),
    col('v', { kind: 'text' }),
  ],
  primaryKey: ['id'],
  cursorColumn: 'updated',
});
