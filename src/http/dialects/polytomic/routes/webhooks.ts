import { z } from '@hono/zod-openapi';
import * as hooks from '../../../../services/webhooks.ts';
import type { HttpApp } from '../../../env.ts';
import { json, jsonBody, noContent, polytomicRoute } from '../route.ts';
import { envelope, uuidParam } from '../schemas.ts';

const webhook = z
  .object({
    id: z.uuid(),
    organization_id: z.uuid(),
    endpoint: z.string(),
    secret: z.string().describe('masked: only its last characters'),
    disabled: z.boolean(),
    created_at: z.string(),
  })
  .openapi('Webhook');

const webhookInput = z
  .object({
    endpoint: z.string().min(1),
    secret: z.string().min(1).describe('signs each delivery: see the x-ferry-signature header'),
    organization_id: z.uuid().optional(),
  })
  .openapi('CreateWebhooksSchema');

const delivery = z
  .object({
    id: z.uuid(),
    event_id: z.uuid(),
    event_type: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    response_status: z.number().int().nullable(),
    error: z.string().nullable(),
    created_at: z.string(),
    delivered_at: z.string().nullable(),
  })
  .openapi('WebhookDelivery');

const webhookOut = (w: hooks.WebhookView) => ({
  id: w.id,
  organization_id: w.organizationId,
  endpoint: w.endpoint,
  secret: w.secret,
  disabled: w.disabled,
  created_at: w.createdAt.toISOString(),
});

const idParams = z.object({ id: uuidParam('id') });
const tags = ['Webhooks'];

export function webhookRoutes(app: HttpApp): void {
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/webhooks',
      tags,
      summary: 'Webhooks of the organization',
      responses: { 200: json(envelope(z.array(webhook))) },
    }),
    async (c) => c.json({ data: (await hooks.listWebhooks(c.var.core, c.var.actor)).map(webhookOut) }, 200),
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/webhooks',
      tags,
      summary: 'Create a webhook: every event of the organization is POSTed to it, signed with the secret',
      request: { body: jsonBody(webhookInput) },
      responses: { 200: json(envelope(webhook)) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const created = await hooks.createWebhook(c.var.core, c.var.actor, {
        endpoint: body.endpoint,
        secret: body.secret,
        organizationId: body.organization_id,
      });
      return c.json({ data: webhookOut(created) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/webhooks/{id}',
      tags,
      summary: 'Get a webhook',
      request: { params: idParams },
      responses: { 200: json(envelope(webhook)) },
    }),
    async (c) =>
      c.json(
        { data: webhookOut(await hooks.getWebhook(c.var.core, c.var.actor, c.req.valid('param').id)) },
        200,
      ),
  );
  app.openapi(
    polytomicRoute({
      method: 'put',
      path: '/webhooks/{id}',
      tags,
      summary: 'Update a webhook',
      request: { params: idParams, body: jsonBody(webhookInput) },
      responses: { 200: json(envelope(webhook)) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const updated = await hooks.updateWebhook(c.var.core, c.var.actor, c.req.valid('param').id, {
        endpoint: body.endpoint,
        secret: body.secret,
      });
      return c.json({ data: webhookOut(updated) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'delete',
      path: '/webhooks/{id}',
      tags,
      summary: 'Delete a webhook',
      request: { params: idParams },
      responses: { 204: noContent },
    }),
    async (c) => {
      await hooks.deleteWebhook(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );
  for (const [action, disabled] of [
    ['enable', false],
    ['disable', true],
  ] as const) {
    app.openapi(
      polytomicRoute({
        method: 'post',
        path: `/webhooks/{id}/${action}`,
        tags,
        summary: disabled ? 'Disable a webhook: it gets no events until enabled' : 'Enable a webhook',
        request: { params: idParams },
        responses: { 200: json(envelope(webhook)) },
      }),
      async (c) => {
        const row = await hooks.setWebhookDisabled(
          c.var.core,
          c.var.actor,
          c.req.valid('param').id,
          disabled,
        );
        return c.json({ data: webhookOut(row) }, 200);
      },
    );
  }
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/webhooks/{id}/deliveries',
      tags,
      summary: 'Delivery log of a webhook (Ferry): each event sent, its attempts and the last answer',
      request: { params: idParams },
      responses: { 200: json(envelope(z.array(delivery))) },
    }),
    async (c) => {
      const rows = await hooks.listWebhookDeliveries(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.json(
        {
          data: rows.map((d) => ({
            id: d.id,
            event_id: d.eventId,
            event_type: d.eventType,
            status: d.status,
            attempts: d.attempts,
            response_status: d.responseStatus,
            error: d.error,
            created_at: d.createdAt.toISOString(),
            delivered_at: d.deliveredAt?.toISOString() ?? null,
          })),
        },
        200,
      );
    },
  );
}
