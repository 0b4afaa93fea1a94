import { type JobWithMetadata, PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { Store } from '../store/database.ts';

/**
 * Job kinds Ferry runs through the queue; the kind is also the `{type}` of `/api/jobs/{type}/{id}`.
 * `short` keeps at most one queued job per singleton key (a second refresh request joins the first).
 */
const queues = {
  schemarefresh: { policy: 'short', retryLimit: 2 },
  // A query that failed once fails again: its error is the answer, not a reason to retry.
  query: { policy: 'standard', retryLimit: 0 },
  // Retries of a bulk run are decided by the run itself (per table, and by run recovery when a
  // worker dies), not by the queue; its liveness is the run's own heartbeat, so no queue expiry.
  bulksync: { policy: 'standard', retryLimit: 0, expireInSeconds: 24 * 3600 },
  // Model runs, likewise: retried by run recovery, live while their heartbeat is.
  modelsync: { policy: 'standard', retryLimit: 0, expireInSeconds: 24 * 3600 },
  exportlogs: { policy: 'standard', retryLimit: 2 },
  // A receiver that is down gets the event again later: 1 s, 2 s, 4 s... up to about a minute apart.
  webhook: { policy: 'standard', retryLimit: 6, retryBackoff: true, retryDelayMax: 60 },
} as const;
export type JobType = keyof typeof queues;
export const jobTypes = Object.keys(queues) as JobType[];

/** Every job belongs to one organization; job reads check it so tenants never see each other's jobs. */
export interface JobData {
  organizationId: string;
  [key: string]: unknown;
}

export type JobState = 'created' | 'running' | 'done' | 'failed';

export interface JobRecord {
  id: string;
  type: JobType;
  state: JobState;
  data: JobData;
  output: unknown;
}

/** `lastAttempt`: the queue will not retry this job if it fails now. */
export type JobHandler = (data: JobData, job: { id: string; lastAttempt: boolean }) => Promise<unknown>;

/** Jobs of one type a process runs at the same time. */
const defaultConcurrency: Record<JobType, number> = {
  schemarefresh: 2,
  query: 4,
  bulksync: 4,
  modelsync: 4,
  exportlogs: 1,
  webhook: 4,
};

const stateOf: Record<string, JobState> = {
  created: 'created',
  retry: 'created',
  active: 'running',
  completed: 'done',
  failed: 'failed',
  cancelled: 'failed',
};

/** The job queue: pg-boss on the metadata store (PGlite embedded, PostgreSQL in scale-out). */
export class JobQueue {
  readonly #boss: PgBoss;
  readonly #log: Logger;
  /** Worker slots of this process by job type: woken at once when this process enqueues their work. */
  readonly #workers = new Map<JobType, string[]>();

  constructor(store: Store, log: Logger) {
    // A few connections suffice for polling and maintenance; many processes share one PostgreSQL.
    this.#boss = new PgBoss({
      ...store.queueDatabase,
      schema: 'pgboss',
      application_name: 'ferry-queue',
      max: 4,
      // On PostgreSQL a new job wakes idle workers at once (NOTIFY) instead of at their next poll.
      useListenNotify: store.kind === 'postgres',
    });
    this.#log = log;
    this.#boss.on('error', (error) => log.error({ err: error }, 'job queue error'));
  }

  async start(): Promise<void> {
    await this.#boss.start();
    for (const type of jobTypes) {
      await this.#boss.createQueue(type, { retryDelay: 1, notify: true, ...queues[type] });
    }
  }

  /**
   * Registers the handler of a job type and starts consuming it in this process, `concurrency`
   * jobs at a time. Each slot is a pg-boss worker of its own, so that the slot that finished a job
   * fetches the next one at once: pg-boss otherwise waits out its polling interval (measured from
   * the previous fetch) before fetching again, which caps a slot at one short job per interval.
   */
  async work(type: JobType, handler: JobHandler, options: { concurrency?: number } = {}): Promise<void> {
    const slots: string[] = [];
    this.#workers.set(type, slots);
    for (let i = 0; i < (options.concurrency ?? defaultConcurrency[type]); i++) {
      let slot: string | undefined;
      slot = await this.#boss.work<JobData>(
        type,
        {
          pollingIntervalSeconds: 0.5,
          // Polling remains the backstop when NOTIFY is active: for retries that come due, and missed wake-ups.
          notifyPollingIntervalSeconds: 2,
          includeMetadata: true,
        },
        async ([job]) => {
          if (!job) return undefined;
          this.#log.debug({ job: job.id, type }, 'job started');
          try {
            // includeMetadata: true above, so the job carries its retry counters.
            const { retryCount, retryLimit } = job as JobWithMetadata<JobData>;
            return await handler(job.data, { id: job.id, lastAttempt: retryCount >= retryLimit });
          } finally {
            // More jobs may be waiting: fetch again as soon as this one is settled (an empty fetch
            // puts the slot back on its polling interval).
            if (slot) this.#boss.notifyWorker(slot);
          }
        },
      );
      slots.push(slot);
    }
  }

  /**
   * Enqueues a job. With `singletonKey`, a job of the same key that is still queued is returned
   * instead of a new one, so repeated requests (SDK retries, double clicks) do not pile up work.
   */
  async enqueue(type: JobType, data: JobData, options: { singletonKey?: string } = {}): Promise<string> {
    const id = await this.#boss.send(type, data, { singletonKey: options.singletonKey });
    if (id) {
      // Local slots start it now rather than at their next poll (on PostgreSQL, NOTIFY wakes the
      // other processes); a busy slot fetches again when its job ends anyway.
      for (const slot of this.#workers.get(type) ?? []) this.#boss.notifyWorker(slot);
      return id;
    }
    const [queued] = await this.#boss.findJobs<JobData>(type, { key: options.singletonKey, queued: true });
    if (!queued) throw new Error(`job ${type} was not enqueued`);
    return queued.id;
  }

  /** Stops fetching jobs of a type in this process; the jobs it is running go on. */
  async stopWorking(type: JobType): Promise<void> {
    await this.#boss.offWork(type, { wait: false });
  }

  /** Jobs waiting per job type, as pg-boss last counted them. */
  async depths(): Promise<Record<JobType, number>> {
    const counts = await Promise.all(
      jobTypes.map(async (type) => [type, (await this.#boss.getQueue(type))?.queuedCount ?? 0] as const),
    );
    return Object.fromEntries(counts) as Record<JobType, number>;
  }

  async get(type: JobType, id: string): Promise<JobRecord | null> {
    const [job] = await this.#boss.findJobs<JobData>(type, { id });
    if (!job) return null;
    return { id: job.id, type, state: stateOf[job.state] ?? 'failed', data: job.data, output: job.output };
  }

  async stop(): Promise<void> {
    await this.#boss.stop({ graceful: true, timeout: 10_000 });
  }
}
