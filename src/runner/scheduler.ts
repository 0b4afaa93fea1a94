import { and, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import { terminalStatuses } from '../domain/executions.ts';
import type { Core } from '../services/context.ts';
import { executions, scheduleFires } from '../store/schema.ts';
import {
  continuousIntervalMs,
  continuousResumeAt,
  isContinuous,
  lastDueAt,
  nextRunAt,
  type Schedule,
} from './schedule.ts';

export type SyncKind = 'bulk' | 'model';

/** One schedule of one sync, as a sync kind reports it to the scheduler. */
export interface ScheduledSync {
  kind: SyncKind;
  syncId: string;
  organizationId: string;
  /** Stable name of the schedule within its sync (`sync`, or a schedule row's id). */
  key: string;
  schedule: Schedule;
  /** When the schedule last changed: ticks before it never fire. */
  since: Date;
}

/** What a sync kind gives the scheduler: its scheduled syncs, and how to start one. */
export interface SchedulingSource {
  kind: SyncKind;
  listScheduled(core: Core): Promise<ScheduledSync[]>;
  /** Starts a run; when the sync already has an active run, returns that run and creates none. */
  start(
    core: Core,
    sync: ScheduledSync,
    item: string | undefined,
  ): Promise<{ executionId: string; created: boolean }>;
}

/** How far back a tick missed while no process ran still fires (once). */
const catchUpMs = 5 * 60_000;
const completedStatuses = ['completed', 'completed_with_errors'] as const;
/** Latest ended runs read for a continuous sync's failures: enough to reach the longest pause. */
const backoffWindow = 20;

/**
 * Fires due schedules. Every process runs it; the `schedule_fires` key (sync, schedule, due time)
 * lets exactly one process fire each tick, and the one-active-run rule of the store keeps a tick from
 * piling a run onto a running one.
 */
export async function fireDueSchedules(
  core: Core,
  sources: SchedulingSource[],
  now = new Date(),
): Promise<number> {
  let fired = 0;
  for (const source of sources) {
    for (const sync of await source.listScheduled(core)) {
      try {
        fired += await fireSchedule(core, source, sync, sync.key, sync.schedule, undefined, now);
      } catch (error) {
        core.log.warn({ err: error, syncId: sync.syncId, schedule: sync.key }, 'scheduled start failed');
      }
    }
  }
  return fired;
}

async function fireSchedule(
  core: Core,
  source: SchedulingSource,
  sync: ScheduledSync,
  key: string,
  schedule: Schedule,
  item: string | undefined,
  now: Date,
): Promise<number> {
  const after = new Date(Math.max(sync.since.getTime(), now.getTime() - catchUpMs));
  switch (schedule.frequency) {
    case 'continuous': {
      // Runs back to back: a run starts whenever the sync has none, unless its runs keep failing.
      const resumeAt = await continuousBackoffEnd(core, sync.syncId);
      if (resumeAt && resumeAt > now) return 0;
      const started = await source.start(core, sync, item);
      return started.created ? 1 : 0;
    }
    case 'runafter': {
      const upstream = await latestUpstreamCompletion(core, sync.organizationId, schedule, after);
      if (!upstream) return 0;
      return fireOnce(core, source, sync, `${key}:after:${upstream.id}`, upstream.completedAt, item);
    }
    case 'multi': {
      let fired = 0;
      for (const [index, entry] of (schedule.multi?.schedules ?? []).entries()) {
        fired += await fireSchedule(core, source, sync, `${key}:${index}`, entry.schedule, entry.item, now);
      }
      return fired;
    }
    default: {
      const due = lastDueAt(schedule, after, now);
      return due ? fireOnce(core, source, sync, key, due, item) : 0;
    }
  }
}

/** Claims the tick in the store; only the process whose claim lands starts the run. */
async function fireOnce(
  core: Core,
  source: SchedulingSource,
  sync: ScheduledSync,
  key: string,
  dueAt: Date,
  item: string | undefined,
): Promise<number> {
  const [claimed] = await core.store.db
    .insert(scheduleFires)
    .values({ syncKind: sync.kind, syncId: sync.syncId, scheduleKey: key, dueAt })
    .onConflictDoNothing()
    .returning();
  if (!claimed) return 0;
  const started = await source.start(core, sync, item);
  await core.store.db
    .update(scheduleFires)
    .set({ executionId: started.executionId, started: started.created })
    .where(
      and(
        eq(scheduleFires.syncId, sync.syncId),
        eq(scheduleFires.scheduleKey, key),
        eq(scheduleFires.dueAt, dueAt),
      ),
    );
  core.log.info(
    { syncKind: sync.kind, syncId: sync.syncId, schedule: key, dueAt, executionId: started.executionId },
    started.created ? 'schedule fired' : 'schedule tick skipped: the sync is already running',
  );
  return started.created ? 1 : 0;
}

/**
 * The latest completion of a sync this `runafter` schedule follows, after `after`: of the schedule's
 * own organization only (a schedule saved before ids were checked may name another's sync).
 */
async function latestUpstreamCompletion(core: Core, organizationId: string, schedule: Schedule, after: Date) {
  const ids = [...(schedule.run_after?.sync_ids ?? []), ...(schedule.run_after?.bulk_sync_ids ?? [])];
  if (ids.length === 0) return undefined;
  const statuses = schedule.run_after_success_only ? ['completed'] : [...completedStatuses];
  const [row] = await core.store.db
    .select({ id: executions.id, completedAt: executions.completedAt })
    .from(executions)
    .where(
      and(
        inArray(executions.syncId, ids),
        eq(executions.organizationId, organizationId),
        inArray(executions.status, statuses as ('completed' | 'completed_with_errors')[]),
        eq(executions.isTest, false),
        gt(executions.completedAt, after),
      ),
    )
    .orderBy(desc(executions.completedAt))
    .limit(1);
  return row?.completedAt ? { id: row.id, completedAt: row.completedAt } : undefined;
}

/** When a continuous sync whose runs failed may start again (see `continuousResumeAt`); null: at once. */
async function continuousBackoffEnd(core: Core, syncId: string): Promise<Date | null> {
  const recent = await core.store.db
    .select({
      status: executions.status,
      completedAt: executions.completedAt,
      updatedAt: executions.updatedAt,
    })
    .from(executions)
    .where(
      and(
        eq(executions.syncId, syncId),
        eq(executions.isTest, false),
        inArray(executions.status, [...terminalStatuses]),
      ),
    )
    .orderBy(desc(executions.createdAt))
    .limit(backoffWindow);
  return continuousResumeAt(
    recent.map((run) => ({ status: run.status, completedAt: run.completedAt ?? run.updatedAt })),
  );
}

/**
 * The `nextExecutionTime` of a sync's status: the earliest next tick of its clock schedules, or the
 * end of the pause of a continuous schedule whose runs have been failing; null when neither applies.
 */
export async function nextExecutionTime(
  core: Core,
  syncId: string,
  schedules: Schedule[],
  now = new Date(),
): Promise<Date | null> {
  const times = schedules.map((schedule) => nextRunAt(schedule, now));
  if (schedules.some(isContinuous)) {
    const resumeAt = await continuousBackoffEnd(core, syncId);
    if (resumeAt && resumeAt > now) times.push(resumeAt);
  }
  const next = times.filter((at): at is Date => at !== null).sort((a, b) => a.getTime() - b.getTime());
  return next[0] ?? null;
}

/** Runs `fireDueSchedules` every `intervalMs` until the returned function is called. */
export function startScheduler(
  core: Core,
  sources: SchedulingSource[],
  intervalMs = continuousIntervalMs,
): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = fireDueSchedules(core, sources).catch((error) =>
      core.log.warn({ err: error }, 'schedule tick failed'),
    );
  };
  const timer = setInterval(tick, intervalMs);
  tick();
  pruneScheduleFires(core).catch((error) => core.log.warn({ err: error }, 'pruning schedule fires failed'));
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** Keeps the fire log short: ticks older than the catch-up window can never be claimed again. */
export async function pruneScheduleFires(core: Core): Promise<void> {
  await core.store.db.delete(scheduleFires).where(sql`${scheduleFires.firedAt} < now() - interval '1 day'`);
}
