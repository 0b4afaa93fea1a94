import type { BulkExecution } from './api.ts';
import type { RunSummary } from './runs-view.tsx';

export const bulkRunSummary = (syncId: string, e: BulkExecution, syncName?: string): RunSummary => ({
  id: e.id,
  syncName,
  status: e.status,
  type: [e.type, e.is_resync ? 'resync' : undefined, e.is_test ? 'test' : undefined]
    .filter(Boolean)
    .join(' · '),
  createdAt: e.created_at,
  startedAt: e.started_at,
  completedAt: e.completed_at,
  rows: e.record_count,
  errors: e.error_count,
  message: e.status_message,
  href: `/bulk-syncs/${syncId}/executions/${e.id}`,
});
