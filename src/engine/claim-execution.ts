import { and, eq, sql } from 'drizzle-orm';
import type { Core } from '../services/context.ts';
import type { Store } from '../store/database.ts';
import { executions } from '../store/schema.ts';

/**
 * How a worker that shuts down stops a run: after `drain` the run starts no further table or batch;
 * after `abort` the work still in flight is stopped (its uncommitted attempt is discarded). The run
 * then goes back to the queue with what it committed kept, and another worker resumes it.
 */
export interface RunShutdown {
  drain: AbortSignal;
  abort: AbortSignal;
}

const neverAborted = new AbortController().signal;
export const noShutdown: RunShutdown = { drain: neverAborted, abort: neverAborted };

/**
 * Takes a queued execution for this worker: it becomes `running`, its attempt is counted and its
 * heartbeat starts. Undefined when it was canceled while queued or another worker took it first.
 */
export async function claimExecution(db: Store['db'], executionId: string) {
  const [claimed] = await db
    .update(executions)
    .set({
      status: 'running',
      startedAt: sql`coalesce(${executions.startedAt}, now())`,
      heartbeatAt: sql`now()`,
      attempt: sql`${executions.attempt} + 1`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(executions.id, executionId), eq(executions.status, 'queued')))
    .returning();
  return claimed;
}

/**
 * Returns a running execution to the queue for another worker when this one shuts down; a graceful
 * hand-back is not a lost attempt. False when the run is no longer this worker's (canceled meanwhile).
 */
export async function handBackExecution(
  core: Core,
  executionId: string,
  jobType: 'bulksync' | 'modelsync',
): Promise<boolean> {
  const db = core.store.db;
  const [run] = await db
    .update(executions)
    .set({
      status: 'queued',
      statusMessage: 'handed back to the queue when its worker shut down',
      heartbeatAt: null,
      attempt: sql`greatest(${executions.attempt} - 1, 0)`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(executions.id, executionId), eq(executions.status, 'running')))
    .returning({ organizationId: executions.organizationId });
  if (!run) return false;
  const jobId = await core.queue.enqueue(jobType, { organizationId: run.organizationId, executionId });
  await db.update(executions).set({ jobId }).where(eq(executions.id, executionId));
  return true;
}
