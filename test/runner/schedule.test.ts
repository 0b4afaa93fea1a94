import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FerryError } from '../../src/domain/errors.ts';
import { cronOf, nextRunAt } from '../../src/runner/schedule.ts';

const from = new Date('2026-03-04T10:20:30Z'); // a Wednesday

describe('schedules', () => {
  it('never fire on their own when manual, continuous or event-driven', () => {
    for (const frequency of ['manual', 'continuous', 'runafter', 'dbtcloud']) {
      assert.equal(nextRunAt({ frequency }, from), null);
    }
  });

  it('compute the next run of clock schedules in UTC', () => {
    assert.equal(
      nextRunAt({ frequency: 'hourly', minute: '15' }, from)?.toISOString(),
      '2026-03-04T11:15:00.000Z',
    );
    assert.equal(
      nextRunAt({ frequency: 'daily', hour: '6', minute: '30' }, from)?.toISOString(),
      '2026-03-05T06:30:00.000Z',
    );
    assert.equal(
      nextRunAt({ frequency: 'weekly', day_of_week: '1', hour: '0', minute: '0' }, from)?.toISOString(),
      '2026-03-09T00:00:00.000Z',
    );
    assert.equal(cronOf({ frequency: 'custom', minute: '*/5' }), '*/5 * * * *');
    assert.equal(
      nextRunAt({ frequency: 'custom', minute: '*/5' }, from)?.toISOString(),
      '2026-03-04T10:25:00.000Z',
    );
  });

  it('reject fields that make no valid time', () => {
    assert.throws(
      () => nextRunAt({ frequency: 'daily', hour: '25' }, from),
      (error: unknown) => error instanceof FerryError && error.field === 'schedule',
    );
  });
});
