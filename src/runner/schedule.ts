import { Cron } from 'croner';
import { FerryError } from '../domain/errors.ts';

/** Polytomic's schedule object (`BulkSchedule` / model sync `Schedule`). */
export interface Schedule {
  frequency: string;
  minute?: string | undefined;
  hour?: string | undefined;
  day_of_week?: string | undefined;
  day_of_month?: string | undefined;
  month?: string | undefined;
}

/** The cron expression (UTC) of a clock schedule, or null for manual, continuous and event-driven ones. */
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

/** Next time a schedule fires after `from`; null when it never fires on its own. */
export function nextRunAt(schedule: Schedule, from: Date = new Date()): Date | null {
  const cron = cronOf(schedule);
  if (!cron) return null;
  try {
    return new Cron(cron, { timezone: 'UTC' }).nextRun(from);
  } catch (error) {
    throw new FerryError('validation_failed', `schedule: ${(error as Error).message}`, { field: 'schedule' });
  }
}

/** Rejects a schedule whose fields do not make a valid cron expression. */
export function validateSchedule(schedule: Schedule): void {
  nextRunAt(schedule);
}
