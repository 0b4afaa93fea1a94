import type { Column } from './output.ts';
import type { Execution, Sync } from './wire.ts';

/**
 * Bulk syncs (`/api/bulk/syncs`) and model syncs (`/api/syncs`) share their verbs; `--model` picks the
 * second. Only the routes and the columns differ.
 */
export interface SyncKind {
  noun: string;
  base: string;
  columns: Column<Sync>[];
  executionColumns: Column<Execution>[];
}

const executionColumns = (
  records: (e: Execution) => unknown,
  errors: (e: Execution) => unknown,
): Column<Execution>[] => [
  ['id', (e) => e.id],
  ['status', (e) => e.status],
  ['type', (e) => e.type],
  ['records', records],
  ['errors', errors],
  ['started', (e) => e.started_at],
  ['completed', (e) => e.completed_at],
];

export const bulkSyncs: SyncKind = {
  noun: 'bulk sync',
  base: '/api/bulk/syncs',
  columns: [
    ['id', (s) => s.id],
    ['name', (s) => s.name],
    ['mode', (s) => s.mode],
    ['active', (s) => s.active],
    ['source', (s) => s.source_connection_id],
    ['destination', (s) => s.destination_connection_id],
    ['schedule', (s) => s.schedule?.frequency],
  ],
  executionColumns: executionColumns(
    (e) => e.record_count,
    (e) => e.error_count,
  ),
};

export const modelSyncs: SyncKind = {
  noun: 'model sync',
  base: '/api/syncs',
  columns: [
    ['id', (s) => s.id],
    ['name', (s) => s.name],
    ['mode', (s) => s.mode],
    ['active', (s) => s.active],
    ['target', (s) => (s.target ? `${s.target.connection_id}:${s.target.object ?? ''}` : undefined)],
    ['schedule', (s) => s.schedule?.frequency],
  ],
  executionColumns: executionColumns(
    (e) => e.counts?.total,
    (e) => e.counts?.error ?? e.errors?.length,
  ),
};

export const syncKind = (options: { model?: boolean }): SyncKind => (options.model ? modelSyncs : bulkSyncs);

export const syncPath = (kind: SyncKind, id: string, rest = ''): string =>
  `${kind.base}/${encodeURIComponent(id)}${rest}`;

/** Terminal run states of both kinds (Polytomic's words). */
export const terminalStatuses = new Set(['completed', 'failed', 'canceled', 'errors', 'interrupted']);
