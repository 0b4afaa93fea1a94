import { and, eq, sql } from 'drizzle-orm';
import type { Store } from '../store/database.ts';
import { executions } from '../store/schema.ts';

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
