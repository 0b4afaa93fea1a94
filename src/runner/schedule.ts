import { Cron } from 'croner';
import { FerryError } from '../domain/errors.ts';

/**
 * Polytomic's schedule object (model sync `Schedule`, bulk `BulkSchedule`). `timezone` (IANA name,
 * UTC when absent) is Ferry's addition: clock fields are read in that zone.
 */
export interface Schedule {
  frequency: string;
  minute?: string | undefined;
  hour?: string | undefined;
  day_of_week?: string | undefined;
  day_of_month?: string | undefined;
  month?: string | undefined;
  timezone?: string | undefined;
  /** `runafter`: start when one of these syncs completes. */
  run_after?: { sync_ids?: string[] | undefined; bulk_sync_ids?: string[] | undefined } | undefined;
  /** `runafter`: only after runs that completed without errors. */
  run_after_success_only?: boolean | undefined;
  /** `multi`: several schedules, each optionally limited to a kind of table (`item`). */
  multi?: { schedules?: { item?: string | undefined; schedule: Schedule }[] | undefined } | undefined;
}

/** The cron expression of a clock schedule, or null for manual, continuous and event-driven ones. */
export function cronOf(schedule: Schedule): string | null {
  const minute = schedule.minute ?? '0';
  const hour = schedule.hour ?? '0';
  switch (schedule.frequency) {
    case 'hourly':
      return `${minute} * * * *`;
    case 'daily':
      return `${minute} ${hour} * * *`;
    case 'weekly':
      return `${minute} ${hour} * * ${schedule.day_of_week ?? '0'}`;
    case 'custom':
    case 'builder':
      return [
        minute,
        schedule.hour ?? '*',
        schedule.day_of_month ?? '*',
        schedule.month ?? '*',
        schedule.day_of_week ?? '*',
      ].join(' ');
    default:
      return null;
  }
}

function cronFor(schedule: Schedule, field = 'schedule'): Cron | null {
  const cron = cronOf(schedule);
  if (!cron) return null;
  try {
    return new Cron(cron, { timezone: schedule.timezone ?? 'UTC', paused: true });
  } catch (error) {
    throw new FerryError('validation_failed', `${field}: ${(error as Error).message}`, { field });
  }
}

/** Next time a schedule fires after `from` (the earliest of a multi schedule); null when it never fires on its own. */
export function nextRunAt(schedule: Schedule, from: Date = new Date()): Date | null {
  if (schedule.frequency === 'multi') {
    const next = (schedule.multi?.schedules ?? [])
      .map((entry) => nextRunAt(entry.schedule, from))
      .filter((at): at is Date => at !== null)
      .sort((a, b) => a.getTime() - b.getTime());
    return next[0] ?? null;
  }
  return cronFor(schedule)?.nextRun(from) ?? null;
}

/**
 * The latest time a clock schedule was due in (after, upTo]: the tick to fire now, if any. Earlier
 * ticks in the window were missed while no process ran; a late start fires once, not once per tick.
 */
export function lastDueAt(schedule: Schedule, after: Date, upTo: Date): Date | null {
  const cron = cronFor(schedule);
  let due: Date | null = null;
  for (let at = cron?.nextRun(after) ?? null; at && at <= upTo; at = cron!.nextRun(at)) due = at;
  return due;
}

/** How often the scheduler looks for due schedules; also the first pause of a failing continuous sync. */
export const continuousIntervalMs = 5_000;
/** The longest pause between the failed runs of a continuous sync. */
export const continuousBackoffCapMs = 5 * 60_000;

/** Whether a schedule (or an entry of a multi schedule) runs its sync back to back. */
export const isContinuous = (schedule: Schedule): boolean =>
  schedule.frequency === 'continuous' ||
  (schedule.frequency === 'multi' && (schedule.multi?.schedules ?? []).some((e) => isContinuous(e.schedule)));

/**
 * When a continuous sync may start its next run, given its latest ended runs, newest first: at once
 * (null) unless its runs have been failing, in which case it waits `continuousIntervalMs`, doubled for
 * each failure since the last completed run and capped at `continuousBackoffCapMs`, after the end of
 * the latest failure. A canceled run neither counts nor resets the failures.
 */
export function continuousResumeAt(recent: { status: string; completedAt: Date }[]): Date | null {
  let failures = 0;
  let lastFailure: Date | undefined;
  for (const run of recent) {
    if (run.status === 'completed' || run.status === 'completed_with_errors') break;
    if (run.status !== 'failed' && run.status !== 'interrupted') continue;
    failures++;
    lastFailure ??= run.completedAt;
  }
  if (!lastFailure) return null;
  const pause = Math.min(continuousIntervalMs * 2 ** (failures - 1), continuousBackoffCapMs);
  return new Date(lastFailure.getTime() + pause);
}

/** Rejects a schedule whose fields do not make a valid cron expression, time zone, dependency or set. */
export function validateSchedule(schedule: Schedule, field = 'schedule'): void {
  if (schedule.timezone !== undefined && !isTimeZone(schedule.timezone)) {
    throw new FerryError('validation_failed', `${field}.timezone: unknown time zone "${schedule.timezone}"`, {
      field: `${field}.timezone`,
    });
  }
  if (schedule.frequency === 'runafter') {
    const ids = [...(schedule.run_after?.sync_ids ?? []), ...(schedule.run_after?.bulk_sync_ids ?? [])];
    if (ids.length === 0) {
      throw new FerryError('validation_failed', `${field}.run_after: name the syncs to run after`, {
        field: `${field}.run_after`,
      });
    }
  }
  if (schedule.frequency === 'multi') {
    const entries = schedule.multi?.schedules ?? [];
    if (entries.length === 0) {
      throw new FerryError('validation_failed', `${field}.multi.schedules: give at least one schedule`, {
        field: `${field}.multi.schedules`,
      });
    }
    entries.forEach((entry, index) => {
      const inner = `${field}.multi.schedules.${index}.schedule`;
      if (entry.schedule.frequency === 'multi') {
        throw new FerryError('validation_failed', `${inner}: multi schedules do not nest`, { field: inner });
      }
      validateSchedule(entry.schedule, inner);
    });
  }
  cronFor(schedule, field);
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
