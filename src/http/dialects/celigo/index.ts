import { OpenAPIHono } from '@hono/zod-openapi';
import type { HttpEnv } from '../../env.ts';
import { rateLimit } from '../../rate-limit.ts';
import { CeligoError, renderCeligoError, requireBearerKey } from './errors.ts';
import { celigoRoutes } from './routes.ts';

/** Route prefixes of the dialect: its middleware stays off the other faces under `/v1`. */
const prefixes = ['/v1/syncs/*', '/v1/syncJobs/*', '/v1/integrations/*'];

/** integrator.io's Data Loader sync API over Ferry's bulk syncs, mounted at the root. */
export function celigoApi(rateLimitPerSecond: number): OpenAPIHono<HttpEnv> {
  const app = new OpenAPIHono<HttpEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const issue = result.error.issues[0]!;
      const field = issue.path.map(String).join('.') || 'body';
      throw new CeligoError(400, 'invalid_parameter', `${field}: ${issue.message}`, field);
    },
  });
  const limit = rateLimit(rateLimitPerSecond);
  for (const prefix of prefixes) {
    app.use(prefix, requireBearerKey);
    app.use(prefix, limit);
  }
  celigoRoutes(app);
  app.onError(renderCeligoError);
  return app;
}
