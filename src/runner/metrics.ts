import { collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';
import type { Core } from '../services/context.ts';

/** Upper bounds (seconds) of the run duration histogram: from a small table to a long warehouse load. */
const durationBuckets = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 24 * 3600];

type Sample = { labels: Record<string, string | number>; value: number; metricName?: string };

/**
 * A metric read from the store on each scrape. Everything about runs and deliveries comes from the
 * shared store, so any replica reports the same figures; only `process_*` metrics are per process.
 */
function storeMetric(
  name: string,
  help: string,
  type: 'counter' | 'histogram',
  read: () => Promise<Sample[]>,
) {
  return {
    name,
    help,
    type,
    aggregator: 'omit',
    get: async () => ({ name, help, type, aggregator: 'omit', values: await read() }),
    reset: () => {},
  } as unknown as Metric;
}

export interface Metrics {
  contentType: string;
  render(): Promise<string>;
}

export function createMetrics(core: Core): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ferry_' });
  const query = <T>(text: string, params: unknown[] = []) => core.store.sql.query<T>(text, params);

  new Gauge({
    name: 'ferry_runs',
    help: 'Runs (executions) in the store by sync kind and status',
    labelNames: ['kind', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await query<{ kind: string; status: string; n: number }>(
        'select sync_kind as kind, status, count(*)::int as n from executions group by 1, 2',
      );
      for (const row of rows) this.set({ kind: row.kind, status: row.status }, row.n);
    },
  });
  registry.registerMetric(
    storeMetric('ferry_rows_moved_total', 'Rows loaded by runs, by sync kind', 'counter', async () =>
      (
        await query<{ kind: string; rows: string }>(
          'select sync_kind as kind, coalesce(sum(record_count), 0)::text as rows from executions group by 1',
        )
      ).map((row) => ({ labels: { kind: row.kind }, value: Number(row.rows) })),
    ),
  );
  registry.registerMetric(
    storeMetric(
      'ferry_run_duration_seconds',
      'Duration of ended runs from start to end, by sync kind',
      'histogram',
      async () => {
        const buckets = durationBuckets
          .map((le, i) => `count(*) filter (where d <= ${le})::int as b${i}`)
          .join(', ');
        const rows = await query<Record<string, number | string>>(
          `select kind, count(*)::int as n, coalesce(sum(d), 0)::float8 as total, ${buckets}
           from (select sync_kind as kind, extract(epoch from completed_at - started_at)::float8 as d
                 from executions where started_at is not null and completed_at is not null) runs
           group by kind`,
        );
        return rows.flatMap((row): Sample[] => [
          ...durationBuckets.map((le, i) => ({
            metricName: 'ferry_run_duration_seconds_bucket',
            labels: { kind: String(row.kind), le },
            value: Number(row[`b${i}`]),
          })),
          {
            metricName: 'ferry_run_duration_seconds_bucket',
            labels: { kind: String(row.kind), le: '+Inf' },
            value: Number(row.n),
          },
          {
            metricName: 'ferry_run_duration_seconds_sum',
            labels: { kind: String(row.kind) },
            value: Number(row.total),
          },
          {
            metricName: 'ferry_run_duration_seconds_count',
            labels: { kind: String(row.kind) },
            value: Number(row.n),
          },
        ]);
      },
    ),
  );
  new Gauge({
    name: 'ferry_runs_queued',
    help: 'Runs waiting for a worker, by sync kind',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await query<{ kind: string; n: number }>(
        `select sync_kind as kind, count(*)::int as n from executions where status = 'queued' group by 1`,
      );
      for (const row of rows) this.set({ kind: row.kind }, row.n);
    },
  });
  new Gauge({
    name: 'ferry_oldest_queued_run_age_seconds',
    help: 'Age of the oldest run waiting for a worker, by sync kind (0 when none waits)',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await query<{ kind: string; age: number }>(
        `select sync_kind as kind, extract(epoch from now() - min(updated_at))::float8 as age
         from executions where status = 'queued' group by 1`,
      );
      for (const kind of ['bulk', 'model']) this.set({ kind }, rows.find((r) => r.kind === kind)?.age ?? 0);
    },
  });
  new Gauge({
    name: 'ferry_run_heartbeat_age_seconds',
    help: 'Seconds since the stalest heartbeat of a running run, by sync kind (0 when none runs)',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await query<{ kind: string; age: number }>(
        `select sync_kind as kind, extract(epoch from now() - min(coalesce(heartbeat_at, started_at)))::float8 as age
         from executions where status in ('running', 'canceling') group by 1`,
      );
      for (const kind of ['bulk', 'model']) this.set({ kind }, rows.find((r) => r.kind === kind)?.age ?? 0);
    },
  });
  new Gauge({
    name: 'ferry_jobs_queued',
    help: 'Jobs waiting in the queue, by job type',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [queue, depth] of Object.entries(await core.queue.depths())) this.set({ queue }, depth);
    },
  });
  new Gauge({
    name: 'ferry_webhook_deliveries',
    help: 'Webhook deliveries by status (pending includes those waiting for a retry)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await query<{ status: string; n: number }>(
        'select status, count(*)::int as n from webhook_deliveries group by 1',
      );
      for (const status of ['pending', 'delivered', 'failed']) {
        this.set({ status }, rows.find((r) => r.status === status)?.n ?? 0);
      }
    },
  });
  registry.registerMetric(
    storeMetric(
      'ferry_webhook_delivery_attempts_total',
      'Attempts to deliver webhook events',
      'counter',
      async () => {
        const [row] = await query<{ n: string }>(
          'select coalesce(sum(attempts), 0)::text as n from webhook_deliveries',
        );
        return [{ labels: {}, value: Number(row?.n ?? 0) }];
      },
    ),
  );
  return { contentType: registry.contentType, render: () => registry.metrics() };
}
