import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { appendConsoleLogs } from '../logs/console-log.ts';
import type { Core } from '../services/context.ts';
import { reportExecutionEnd } from '../services/events.ts';
import { executions, schemaExecutions } from '../store/schema.ts';
import type { JobType } from './queue.ts';

/** Seconds after which a run whose worker has not heartbeat is taken to have lost its worker. */
export const heartbeatTimeoutSeconds = (core: Core) => core.config.heartbeatTimeout;
/**
 * How often every worker looks for runs that lost their worker: a quarter of the heartbeat timeout,
 * between 1 and 15 s. A run is found at most the timeout plus this after its last heartbeat.
 */
export const recoverySweepMs = (heartbeatTimeout: number) =>
  Math.min(15, Math.max(1, heartbeatTimeout / 4)) * 1000;
/** Runs that lost their worker this many times end `interrupted` instead of being retried again. */
export const maxRunAttempts = 3;

/** The queue job that runs an execution of each sync kind; kinds without one are left alone here. */
export const runJobTypes: Record<'bulk' | 'model', JobType> = { bulk: 'bulksync', model: 'modelsync' };

/**
 * Hands runs whose worker died (kill -9, lost machine) back to the queue, or ends them `interrupted`
 * after `maxRunAttempts`. Each table is loaded atomically and its cursor lives with its data, and a
 * model run's change state commits with its records, so a retried run resumes from the last
 * committed state. `olderThanSeconds` 0 is for the embedded
 * store at start-up, where no other process can hold a run.
 */
export async function recoverOrphanedRuns(
  core: Core,
  olderThanSeconds = heartbeatTimeoutSeconds(core),
): Promise<number> {
  const kinds = Object.keys(runJobTypes) as ('bulk' | 'model')[];
  const orphaned = and(
    inArray(executions.syncKind, kinds),
    inArray(executions.status, ['running', 'canceling']),
    or(
      isNull(executions.heartbeatAt),
      lt(executions.heartbeatAt, sql`now() - make_interval(secs => ${olderThanSeconds})`),
    ),
  );
  const interrupted = await core.store.db
    .update(executions)
    .set({
      status: sql`case when ${executions.status} = 'canceling' then 'canceled' else 'interrupted' end`,
      statusMessage: sql`case when ${executions.status} = 'canceling'
        then 'canceled; its worker stopped before confirming'
        else 'the worker running this execution stopped and the retry limit was reached' end`,
      completedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(
      and(orphaned, sql`(${executions.attempt} >= ${maxRunAttempts} or ${executions.status} = 'canceling')`),
    )
    .returning({ id: executions.id, status: executions.status, attempt: executions.attempt });
  if (interrupted.length > 0) {
    // Their tables end with them: nothing is loading them any more. A canceled run's tables are
    // canceled, as when its worker confirms the cancel itself.
    const canceledIds = interrupted.filter((run) => run.status === 'canceled').map((run) => run.id);
    const ofCanceledRun =
      canceledIds.length > 0 ? inArray(schemaExecutions.executionId, canceledIds) : sql`false`;
    await core.store.db
      .update(schemaExecutions)
      .set({
        status: sql`case when ${schemaExecutions.status} = 'canceling' or ${ofCanceledRun} then 'canceled' else 'interrupted' end`,
        completedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          inArray(
            schemaExecutions.executionId,
            interrupted.map((run) => run.id),
          ),
          inArray(schemaExecutions.status, ['created', 'queued', 'running', 'canceling']),
        ),
      );
  }
  const requeued = await core.store.db
    .update(executions)
    .set({
      status: 'queued',
      statusMessage: 'retrying after its worker stopped',
      jobId: null,
      updatedAt: sql`now()`,
    })
    .where(and(orphaned, lt(executions.attempt, maxRunAttempts)))
    .returning({
      id: executions.id,
      organizationId: executions.organizationId,
      syncKind: executions.syncKind,
      attempt: executions.attempt,
    });
  // The run's own console log says why it stopped and what comes next: its worker wrote nothing.
  await appendConsoleLogs(core.store.db, [
    ...interrupted.map((run) => ({
      executionId: run.id,
      level: run.status === 'canceled' ? ('warn' as const) : ('error' as const),
      message:
        run.status === 'canceled'
          ? 'execution canceled: its worker stopped before confirming the cancel'
          : `execution interrupted: its worker stopped (no heartbeat) during attempt ${run.attempt} of ${maxRunAttempts}; not retried again`,
    })),
    ...requeued.map((run) => ({
      executionId: run.id,
      level: 'warn' as const,
      message: `worker stopped (no heartbeat) during attempt ${run.attempt} of ${maxRunAttempts}: the execution is queued again and resumes from what it committed`,
    })),
  ]);
  for (const run of interrupted) await reportExecutionEnd(core, run.id);
  // A run queued by a process that stopped before it reached the queue has no job: give it one.
  const jobless = await core.store.db
    .select({ id: executions.id, organizationId: executions.organizationId, syncKind: executions.syncKind })
    .from(executions)
    .where(
      and(
        inArray(executions.syncKind, kinds),
        eq(executions.status, 'queued'),
        isNull(executions.jobId),
        lt(executions.updatedAt, sql`now() - make_interval(secs => ${olderThanSeconds})`),
      ),
    );
  for (const run of [...requeued, ...jobless]) {
    const jobId = await core.queue.enqueue(runJobTypes[run.syncKind]!, {
      organizationId: run.organizationId,
      executionId: run.id,
    });
    await core.store.db.update(executions).set({ jobId }).where(eq(executions.id, run.id));
  }
  if (requeued.length + interrupted.length + jobless.length > 0) {
    core.log.warn(
      { requeued: requeued.length, interrupted: interrupted.length, jobless: jobless.length },
      'recovered runs of stopped workers',
    );
  }
  return requeued.length;
}
