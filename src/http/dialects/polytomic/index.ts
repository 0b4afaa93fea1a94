import { requireApiKey } from '../../auth.ts';
import type { HttpApp } from '../../env.ts';
import { rateLimit } from '../../rate-limit.ts';
import { createRouter } from '../../validation.ts';
import { renderPolytomicError } from './errors.ts';
import { bulkSyncRoutes } from './routes/bulk-syncs.ts';
import { connectionRoutes } from './routes/connections.ts';
import { eventRoutes } from './routes/events.ts';
import { executionLogRoutes } from './routes/execution-logs.ts';
import { identityRoutes } from './routes/identity.ts';
import { jobRoutes } from './routes/jobs.ts';
import { modelSyncRoutes } from './routes/model-syncs.ts';
import { modelRoutes } from './routes/models.ts';
import { organizationRoutes } from './routes/organizations.ts';
import { webhookRoutes } from './routes/webhooks.ts';

/** The Polytomic-compatible API, mounted at `/api` (and at `/v1/api` by the Naftiko adapter). */
export function polytomicApi(rateLimitPerSecond: number): HttpApp {
  const app = createRouter();
  app.use('*', requireApiKey);
  app.use('*', rateLimit(rateLimitPerSecond));
  identityRoutes(app);
  organizationRoutes(app);
  connectionRoutes(app);
  jobRoutes(app);
  bulkSyncRoutes(app);
  executionLogRoutes(app);
  modelRoutes(app);
  modelSyncRoutes(app);
  eventRoutes(app);
  webhookRoutes(app);
  app.notFound((c) =>
    c.json({ status: 404, message: `no route for ${c.req.method} ${c.req.path}`, key: 'not_found' }, 404),
  );
  app.onError(renderPolytomicError);
  return app;
}
