import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { syncLogOut, syncLogStatus } from '../../src/http/dialects/qontext/presenters.ts';
import type { RunRecord } from '../../src/services/run-history.ts';
import type { SchemaExecutionRow } from '../../src/store/schema.ts';

const at = new Date('2026-01-01T00:00:00.000Z');

const table = (schemaId: string, fields: Partial<SchemaExecutionRow> = {}): SchemaExecutionRow => ({
  executionId: 'e',
  schemaId,
  outputName: schemaId,
  status: 'created',
  statusMessage: null,
  recordCount: 0,
  insertedCount: 0,
  updatedCount: 0,
  errorCount: 0,
  warningCount: 0,
  attempts: 0,
  createdAt: at,
  startedAt: null,
  completedAt: null,
  updatedAt: at,
  estimatedRecords: null,
  ...fields,
});

const run = (fields: Partial<RunRecord>): RunRecord => ({
  id: '00000000-0000-4000-8000-000000000001',
  organizationId: 'org',
  syncKind: 'bulk',
  syncId: 'sync',
  status: 'running',
  type: 'manual',
  isResync: false,
  isTest: false,
  fetchMode: null,
  resyncMode: null,
  schemaIds: null,
  statusMessage: null,
  recordCount: 0,
  errorCount: 0,
  warningCount: 0,
  attempt: 1,
  jobId: 'job',
  heartbeatAt: null,
  cancelRequestedAt: null,
  traceId: 'f'.repeat(32),
  triggeredBy: 'key:k',
  canceledBy: null,
  createdAt: at,
  startedAt: at,
  completedAt: null,
  updatedAt: at,
  scope: 'full',
  destinationConnectionId: 'dst',
  schemas: [],
  ...fields,
});

describe('Qontext sync-log status', () => {
  it('reads the phase of a running run from its tables', () => {
    assert.equal(syncLogStatus(run({ schemas: [table('a'), table('b')] })), 'preparing');
    assert.equal(
      syncLogStatus(run({ schemas: [table('a', { status: 'running', startedAt: at }), table('b')] })),
      'data_fetching',
    );
    assert.equal(
      syncLogStatus(
        run({
          schemas: [
            table('a', { status: 'completed', startedAt: at, completedAt: at }),
            table('b', { status: 'running', startedAt: at }),
          ],
        }),
      ),
      'ingesting',
    );
  });

  it('maps the other states', () => {
    const cases = [
      [{ status: 'queued', startedAt: null }, 'pending'],
      [{ status: 'canceling' }, 'stopped'],
      [{ status: 'canceled' }, 'stopped'],
      [{ status: 'canceled', startedAt: null }, 'skipped'],
      [{ status: 'completed_with_errors' }, 'completed'],
      [{ status: 'interrupted' }, 'failed'],
    ] as const;
    for (const [fields, expected] of cases) assert.equal(syncLogStatus(run(fields)), expected, fields.status);
  });

  it('explains failures in plain words and counts rows per table', () => {
    const log = syncLogOut(
      run({
        status: 'failed',
        statusMessage: 'failed table(s): b (boom)',
        schemas: [
          table('a', { status: 'completed_with_errors', recordCount: 8, errorCount: 2, startedAt: at }),
          table('b', { status: 'failed' }),
        ],
      }),
    );
    assert.equal(log.errorMessage, 'failed table(s): b (boom)');
    assert.equal(log.userFacingError, '1 of 2 table(s) could not be synced.');
    assert.deepEqual(log.preparationMetadata, { a: 10, b: 0 });
    assert.deepEqual([log.totalRecordsToIngest, log.recordsIngested], [10, 8]);
    assert.equal(log.workflowRunId, '00000000-0000-4000-8000-000000000001-attempt-1');
  });
});
