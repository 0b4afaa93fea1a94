// Display helpers: times, durations, counts.

export const count = (n: number | undefined): string => (n === undefined ? '–' : n.toLocaleString('en-US'));

export function when(iso: string | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

export function durationMs(started?: string, completed?: string): number | undefined {
  if (!started) return undefined;
  const end = completed ? Date.parse(completed) : Date.now();
  return Math.max(0, end - Date.parse(started));
}

export function duration(ms: number | undefined): string {
  if (ms === undefined) return '–';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 100) / 10;
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  if (m < 60) return `${m} min ${rest} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function scheduleText(schedule: { frequency?: string; hour?: string; minute?: string } | undefined) {
  if (!schedule?.frequency) return 'manual';
  if (schedule.frequency === 'daily' && schedule.hour !== undefined) {
    return `daily at ${schedule.hour.padStart(2, '0')}:${(schedule.minute ?? '0').padStart(2, '0')} UTC`;
  }
  return schedule.frequency;
}

/** Statuses still moving: pages poll while a run is in one of them. */
export const activeStatuses = new Set([
  'created',
  'scheduled',
  'queued',
  'waiting',
  'running',
  'exporting',
  'processing',
  'canceling',
]);
