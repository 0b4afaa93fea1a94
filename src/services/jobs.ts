import { notFound } from '../domain/errors.ts';
import { type JobRecord, type JobType, jobTypes } from '../runner/queue.ts';
import type { Actor, Core } from './context.ts';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface JobView {
  id: string;
  type: JobType;
  state: JobRecord['state'];
  result: unknown;
  error: string | null;
}

/** A queued job of the caller's organization (`GET /api/jobs/{type}/{id}`); anything else is 404. */
export async function getJob(core: Core, actor: Actor, type: string, id: string): Promise<JobView> {
  if (!(jobTypes as string[]).includes(type) || !uuidPattern.test(id)) throw notFound('job', id);
  const job = await core.queue.get(type as JobType, id);
  if (!job || job.data.organizationId !== actor.organizationId) throw notFound('job', id);
  const failed = job.state === 'failed';
  return {
    id: job.id,
    type: job.type,
    state: job.state,
    result: failed ? null : (job.output ?? null),
    error: failed ? errorMessageOf(job.output) : null,
  };
}

/** pg-boss keeps a failed job's error as `{ message, stack }`: only the message goes out. */
function errorMessageOf(output: unknown): string {
  const message = (output as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : 'job failed';
}
