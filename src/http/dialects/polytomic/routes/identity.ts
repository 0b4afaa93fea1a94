import { whoAmI } from '../../../../services/identity.ts';
import type { HttpApp } from '../../../env.ts';
import { identityOut } from '../presenters.ts';
import { json, polytomicRoute } from '../route.ts';
import { envelope, identity } from '../schemas.ts';

export function identityRoutes(app: HttpApp): void {
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/me',
      tags: ['Identity'],
      summary: 'The caller of the request',
      responses: { 200: json(envelope(identity)) },
    }),
    async (c) => c.json({ data: identityOut(await whoAmI(c.var.core, c.var.actor)) }, 200),
  );
}
