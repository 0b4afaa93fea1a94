import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportedTableProgress, rowsPerSecond, tableProgress } from '../../src/domain/table-progress.ts';

describe('table progress', () => {
  it('measures the rate between the start and the moment the rows were counted', () => {
    assert.equal(rowsPerSecond(5000, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:02.000Z'), 2500);
    assert.equal(rowsPerSecond(0, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'), undefined);
    assert.equal(rowsPerSecond(10, undefined, '2026-01-01T00:00:02.000Z'), undefined);
    assert.equal(rowsPerSecond(10, '2026-01-01T00:00:00.000Z', undefined), undefined);
  });

  it('gives a running table its share of the estimate and the time left at its rate', () => {
    assert.deepEqual(tableProgress({ status: 'running', rows: 250, estimate: 1000, rowsPerSecond: 50 }), {
      percent: 25,
      etaSeconds: 15,
    });
    // Rounded down (never 100% early) and up (never "0 s left" while rows remain).
    assert.deepEqual(tableProgress({ status: 'running', rows: 999, estimate: 1000, rowsPerSecond: 3 }), {
      percent: 99,
      etaSeconds: 1,
    });
    assert.deepEqual(tableProgress({ status: 'running', rows: 1, estimate: 1000, rowsPerSecond: 0.5 }), {
      percent: 0,
      etaSeconds: 1998,
    });
  });

  it('has a percentage but no ETA until a rate is known', () => {
    assert.deepEqual(tableProgress({ status: 'running', rows: 0, estimate: 1000 }), { percent: 0 });
    assert.deepEqual(tableProgress({ status: 'running', rows: 0, estimate: 1000, rowsPerSecond: 0 }), {
      percent: 0,
    });
  });

  it('shows rows and rate only, no percentage or ETA, without an estimate', () => {
    assert.deepEqual(tableProgress({ status: 'running', rows: 500, rowsPerSecond: 100 }), {});
    assert.deepEqual(tableProgress({ status: 'failed', rows: 500 }), {});
  });

  it('holds at 99% without an ETA once the rows pass the estimate, until the table completes', () => {
    for (const rows of [1000, 1500]) {
      assert.deepEqual(tableProgress({ status: 'running', rows, estimate: 1000, rowsPerSecond: 100 }), {
        percent: 99,
      });
    }
    assert.deepEqual(tableProgress({ status: 'running', rows: 3, estimate: 0, rowsPerSecond: 1 }), {
      percent: 99,
    });
  });

  it('is at 100% once completed, whatever the estimate said', () => {
    for (const estimate of [undefined, 10, 1_000_000]) {
      assert.deepEqual(tableProgress({ status: 'completed', rows: 500, estimate, rowsPerSecond: 10 }), {
        percent: 100,
      });
    }
    assert.deepEqual(tableProgress({ status: 'completed_with_errors', rows: 5, estimate: 10 }), {
      percent: 100,
    });
  });

  it('keeps the percentage of a table that stopped or waits, without an ETA', () => {
    for (const status of ['failed', 'canceled', 'created']) {
      assert.deepEqual(tableProgress({ status, rows: 400, estimate: 1000, rowsPerSecond: 100 }), {
        percent: 40,
      });
    }
  });

  it('reads a table as the API reports it: the rate to its last count, or over its whole run once done', () => {
    const started_at = '2026-01-01T12:00:00.000Z';
    assert.deepEqual(
      reportedTableProgress({
        status: 'running',
        record_count: 40_000,
        estimated_record_count: 100_000,
        started_at,
        updated_at: '2026-01-01T12:00:10.000Z',
      }),
      { percent: 40, etaSeconds: 15, rowsPerSecond: 4000 },
    );
    assert.deepEqual(
      reportedTableProgress({
        status: 'completed',
        record_count: 90_000,
        estimated_record_count: 100_000,
        started_at,
        completed_at: '2026-01-01T12:00:30.000Z',
        updated_at: '2026-01-01T12:05:00.000Z',
      }),
      { percent: 100, rowsPerSecond: 3000 },
    );
    assert.deepEqual(reportedTableProgress({ status: 'created' }), {});
  });
});
