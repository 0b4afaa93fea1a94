import { z } from '@hono/zod-openapi';
import { eventTypes, listEvents } from '../../../../services/events.ts';
import type { EventRow } from '../../../../store/schema.ts';
import type { HttpApp } from '../../../env.ts';
import { json, polytomicRoute } from '../route.ts';
import { envelope } from '../schemas.ts';

const event = z
  .object({
    id: z.uuid(),
    organization_id: z.uuid(),
    type: z.string(),
    created_at: z.string(),
    event: z.record(z.string(), z.unknown()),
  })
  .openapi('Event');

export const eventOut = (row: EventRow) => ({
  id: row.id,
  organization_id: row.organizationId,
  type: row.type,
  created_at: row.createdAt.toISOString(),
  event: row.payload,
});

const tags = ['Events'];

export function eventRoutes(app: HttpApp): void {
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/events',
      tags,
      summary: 'Events of runs (completed, completed with errors, failed, canceled), newest first',
      request: {
        query: z.object({
          organization_id: z.uuid().optional(),
          type: z.string().optional(),
          starting_after: z.uuid().optional().describe('events older than this event id'),
          ending_before: z.uuid().optional().describe('events newer than this event id'),
          limit: z.coerce.number().int().min(1).max(1000).optional(),
        }),
      },
      responses: { 200: json(envelope(z.array(event))) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listEvents(c.var.core, c.var.actor, {
        organizationId: q.organization_id,
        type: q.type,
        startingAfter: q.starting_after,
        endingBefore: q.ending_before,
        limit: q.limit,
      });
      return c.json({ data: rows.map(eventOut) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/events_types',
      tags,
      summary: 'Event types that /api/events lists and webhooks receive',
      responses: { 200: json(envelope(z.array(z.string()))) },
    }),
    (c) => c.json({ data: eventTypes }, 200),
  );
}
