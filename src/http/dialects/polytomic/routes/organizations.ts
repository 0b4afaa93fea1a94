import { z } from '@hono/zod-openapi';
import * as orgs from '../../../../services/organizations.ts';
import * as users from '../../../../services/users.ts';
import type { HttpApp } from '../../../env.ts';
import { organizationOut, userOut } from '../presenters.ts';
import { json, jsonBody, noContent, polytomicRoute } from '../route.ts';
import {
  apiKeyResponse,
  envelope,
  organization,
  organizationInput,
  queryBoolean,
  user,
  userInput,
  uuidParam,
} from '../schemas.ts';

const orgParams = z.object({ id: uuidParam('id') });
const userListParams = z.object({ orgId: uuidParam('orgId') });
const userParams = z.object({ orgId: uuidParam('orgId'), id: uuidParam('id') });

const orgInput = (body: z.infer<typeof organizationInput>): orgs.OrganizationInput => ({
  name: body.name,
  ssoDomain: body.sso_domain,
  ssoOrgId: body.sso_org_id,
  issuer: body.issuer,
});

export function organizationRoutes(app: HttpApp): void {
  const tags = ['Organizations'];
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/organizations',
      tags,
      summary: 'List organizations (admin keys see all, others their own)',
      responses: { 200: json(envelope(z.array(organization))) },
    }),
    async (c) =>
      c.json({ data: (await orgs.listOrganizations(c.var.core, c.var.actor)).map(organizationOut) }, 200),
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/organizations',
      tags,
      summary: 'Create an organization (admin key)',
      request: { body: jsonBody(organizationInput) },
      responses: { 200: json(envelope(organization)) },
    }),
    async (c) => {
      const org = await orgs.createOrganization(c.var.core, c.var.actor, orgInput(c.req.valid('json')));
      return c.json({ data: organizationOut(org) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/organizations/{id}',
      tags,
      summary: 'Get an organization',
      request: { params: orgParams },
      responses: { 200: json(envelope(organization)) },
    }),
    async (c) => {
      const org = await orgs.getOrganization(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.json({ data: organizationOut(org) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'put',
      path: '/organizations/{id}',
      tags,
      summary: 'Update an organization (admin key)',
      request: { params: orgParams, body: jsonBody(organizationInput) },
      responses: { 200: json(envelope(organization)) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const org = await orgs.updateOrganization(c.var.core, c.var.actor, id, orgInput(c.req.valid('json')));
      return c.json({ data: organizationOut(org) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'delete',
      path: '/organizations/{id}',
      tags,
      summary: 'Delete an organization and everything it owns (admin key)',
      request: { params: orgParams },
      responses: { 204: noContent },
    }),
    async (c) => {
      await orgs.deleteOrganization(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  const userTags = ['Users'];
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/organizations/{orgId}/users',
      tags: userTags,
      summary: 'List the users of an organization',
      request: { params: userListParams },
      responses: { 200: json(envelope(z.array(user))) },
    }),
    async (c) => {
      const list = await users.listUsers(c.var.core, c.var.actor, c.req.valid('param').orgId);
      return c.json({ data: list.map(userOut) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/organizations/{orgId}/users',
      tags: userTags,
      summary: 'Create a user (admin key)',
      request: { params: userListParams, body: jsonBody(userInput) },
      responses: { 200: json(envelope(user)) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const created = await users.createUser(c.var.core, c.var.actor, c.req.valid('param').orgId, body);
      return c.json({ data: userOut(created) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/organizations/{orgId}/users/{id}',
      tags: userTags,
      summary: 'Get a user',
      request: { params: userParams },
      responses: { 200: json(envelope(user)) },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param');
      return c.json({ data: userOut(await users.getUser(c.var.core, c.var.actor, orgId, id)) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'put',
      path: '/organizations/{orgId}/users/{id}',
      tags: userTags,
      summary: 'Update a user (admin key)',
      request: { params: userParams, body: jsonBody(userInput) },
      responses: { 200: json(envelope(user)) },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param');
      const updated = await users.updateUser(c.var.core, c.var.actor, orgId, id, c.req.valid('json'));
      return c.json({ data: userOut(updated) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'delete',
      path: '/organizations/{orgId}/users/{id}',
      tags: userTags,
      summary: 'Delete a user and revoke its keys (admin key)',
      request: { params: userParams },
      responses: { 200: json(envelope(user)) },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param');
      return c.json({ data: userOut(await users.deleteUser(c.var.core, c.var.actor, orgId, id)) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/organizations/{orgId}/users/{id}/keys',
      tags: userTags,
      summary: "Create a user's API key, shown once (admin key); `force` revokes the existing one",
      request: { params: userParams, query: z.object({ force: queryBoolean }) },
      responses: { 200: json(envelope(apiKeyResponse)) },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param');
      const force = c.req.valid('query').force ?? false;
      const key = await users.createUserApiKey(c.var.core, c.var.actor, orgId, id, force);
      return c.json({ data: { value: key.value } }, 200);
    },
  );
}
