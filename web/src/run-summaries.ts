import type { BulkExecution, ModelExecution } from './api.ts';
import type { RunSummary } from './runs-view.tsx';

// Runs of either kind of sync as the timeline and the chart draw them.

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

export const modelRunSummary = (syncId: string, e: ModelExecution, syncName?: string): RunSummary => ({
  id: e.id,
  syncName,
  status: e.status,
  type: e.type,
  createdAt: e.created_at,
  startedAt: e.started_at,
  completedAt: e.completed_at,
  rows: e.counts?.total,
  errors: e.counts?.error,
  message: e.errors?.slice(0, 2).join('; '),
  href: `/model-syncs/${syncId}/executions/${e.id}`,
});
