import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FerryError } from '../../src/domain/errors.ts';
import {
  continuousBackoffCapMs,
  continuousIntervalMs,
  continuousResumeAt,
  cronOf,
  lastDueAt,
  nextRunAt,
  type Schedule,
  validateSchedule,
} from '../../src/runner/schedule.ts';

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

  it('read clock fields in the schedule time zone', () => {
    // 06:30 in New York is 11:30 UTC before the DST change of 8 March 2026 (EST) and 10:30 UTC after (EDT).
    assert.equal(
      nextRunAt(
        { frequency: 'daily', hour: '6', minute: '30', timezone: 'America/New_York' },
        from,
      )?.toISOString(),
      '2026-03-04T11:30:00.000Z',
    );
    assert.equal(
      nextRunAt(
        { frequency: 'daily', hour: '6', minute: '30', timezone: 'America/New_York' },
        new Date('2026-03-10T00:00:00Z'),
      )?.toISOString(),
      '2026-03-10T10:30:00.000Z',
    );
  });

  it('report the earliest next run of a multi schedule', () => {
    const multi = {
      frequency: 'multi',
      multi: {
        schedules: [
          { item: 'incrementalFields', schedule: { frequency: 'hourly', minute: '45' } },
          { item: 'nonincrementalFields', schedule: { frequency: 'daily', hour: '0', minute: '0' } },
        ],
      },
    };
    assert.equal(nextRunAt(multi, from)?.toISOString(), '2026-03-04T10:45:00.000Z');
  });

  it('find the latest tick due in a window, once, however many were missed', () => {
    const hourly = { frequency: 'hourly', minute: '0' };
    assert.equal(
      lastDueAt(hourly, new Date('2026-03-04T07:30:00Z'), from)?.toISOString(),
      '2026-03-04T10:00:00.000Z',
    );
    assert.equal(
      lastDueAt(hourly, new Date('2026-03-04T10:00:00Z'), from),
      null,
      'the tick at the bound is past',
    );
    assert.equal(lastDueAt({ frequency: 'manual' }, new Date(0), from), null);
  });

  it('hold a continuous sync back after failed runs, doubling up to a cap, until a run completes', () => {
    const ended = (status: string, secondsAgo: number) => ({
      status,
      completedAt: new Date(from.getTime() - secondsAgo * 1000),
    });
    const resumeIn = (runs: { status: string; completedAt: Date }[]) => {
      const at = continuousResumeAt(runs);
      return at === null ? null : (at.getTime() - from.getTime()) / 1000;
    };
    const interval = continuousIntervalMs / 1000;
    assert.equal(resumeIn([]), null, 'a sync that never ran starts at once');
    assert.equal(resumeIn([ended('completed', 1)]), null, 'after a success the next run starts at once');
    // Newest first: the pause counts from the end of the latest failure.
    assert.equal(resumeIn([ended('failed', 1)]), interval - 1);
    assert.equal(resumeIn([ended('failed', 1), ended('interrupted', 60)]), 2 * interval - 1);
    assert.equal(resumeIn([ended('failed', 1), ended('failed', 30), ended('failed', 60)]), 4 * interval - 1);
    const many = Array.from({ length: 15 }, (_, i) => ended('failed', 1 + i * 60));
    assert.equal(resumeIn(many), continuousBackoffCapMs / 1000 - 1, 'the pause is capped');
    assert.equal(
      resumeIn([ended('failed', 1), ended('completed', 30), ended('failed', 60), ended('failed', 90)]),
      interval - 1,
      'a completed run resets the count',
    );
    assert.equal(
      resumeIn([ended('failed', 1), ended('completed_with_errors', 30), ended('failed', 60)]),
      interval - 1,
      'a run that completed with rejected rows completed',
    );
    assert.equal(
      resumeIn([ended('canceled', 1), ended('failed', 30), ended('failed', 60)]),
      2 * interval - 30,
      'a canceled run neither counts nor resets',
    );
    assert.equal(resumeIn([ended('failed', 3600)]), interval - 3600, 'a pause long over is in the past');
  });

  const invalid: [string, Schedule, string][] = [
    ['an unknown time zone', { frequency: 'daily', timezone: 'Mars/Olympus' }, 'schedule.timezone'],
    ['runafter without syncs', { frequency: 'runafter', run_after: {} }, 'schedule.run_after'],
    ['multi without schedules', { frequency: 'multi', multi: { schedules: [] } }, 'schedule.multi.schedules'],
    [
      'a bad inner schedule',
      { frequency: 'multi', multi: { schedules: [{ schedule: { frequency: 'daily', hour: '30' } }] } },
      'schedule.multi.schedules.0.schedule',
    ],
  ];
  for (const [what, schedule, field] of invalid) {
    it(`reject ${what}`, () => {
      assert.throws(
        () => validateSchedule(schedule),
        (error: unknown) => error instanceof FerryError && error.field === field,
      );
    });
  }
});
