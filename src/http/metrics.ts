import { createMetrics, type Metrics } from '../runner/metrics.ts';
import type { Core } from '../services/context.ts';
import type { HttpApp } from './env.ts';

/** `GET /metrics`: Prometheus text format, unauthenticated like /healthz (scrapers carry no API key). */
export function metricsRoutes(app: HttpApp, core: Core): void {
  let metrics: Metrics | undefined;
  app.get('/metrics', async (c) => {
    metrics ??= createMetrics(core);
    return c.body(await metrics.render(), 200, { 'content-type': metrics.contentType });
  });
}
