import { z } from '@hono/zod-openapi';
import type { ConnectorType, SchemaInfo } from '../../../connectors/types.ts';
import type { ConnectionView, SchemaRefreshStatus } from '../../../services/connections.ts';
import type { Identity } from '../../../services/identity.ts';
import type { JobView } from '../../../services/jobs.ts';
import type { OrganizationRow, UserRow } from '../../../store/schema.ts';

// Domain objects to Polytomic wire shapes: the only place that knows Polytomic's field names.

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : undefined);

export const organizationOut = (o: OrganizationRow) => ({
  id: o.id,
  name: o.name,
  sso_domain: o.ssoDomain ?? undefined,
  sso_org_id: o.ssoOrgId ?? undefined,
  issuer: o.issuer ?? undefined,
});

export const userOut = (u: UserRow) => ({
  id: u.id,
  email: u.email,
  organization_id: u.organizationId,
  role: u.role,
  role_ids: [],
});

export const identityOut = (i: Identity) => ({
  id: i.userId ?? undefined,
  email: i.email ?? undefined,
  role: i.role ?? undefined,
  organization_id: i.organizationId,
  organization_name: i.organizationName,
  is_organization: !i.isUser,
  is_partner: i.isAdmin,
  is_system: false,
  is_user: i.isUser,
});

export const connectionTypeRef = (t: ConnectorType) => ({ id: t.id, name: t.name });

export const connectionTypeOut = (t: ConnectorType) => ({
  id: t.id,
  name: t.name,
  capabilities: { ...t.capabilities, enrichment: false, orchestration: false },
  configurationSchema: z.toJSONSchema(t.configSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >,
});

export const connectionOut = (c: ConnectionView) => ({
  id: c.id,
  name: c.name,
  organization_id: c.organizationId,
  type: connectionTypeRef(c.connectorType),
  configuration: c.configuration,
  status: c.status,
  status_error: c.statusError ?? undefined,
  saved: true,
  created_at: c.createdAt.toISOString(),
  updated_at: c.updatedAt.toISOString(),
  created_by: c.createdBy ? { id: c.createdBy, type: 'user' } : undefined,
});

export const schemaOut = (s: SchemaInfo) => ({
  id: s.id,
  name: s.name,
  namespace: s.namespace ?? undefined,
  fields: s.fields.map((f) => ({
    id: f.name,
    name: f.name,
    type: f.type,
    remote_type: f.remoteType,
    is_primary_key: f.isPrimaryKey,
    nullable: f.nullable,
  })),
});

export const schemaStatusOut = (s: SchemaRefreshStatus) => ({
  cache_status: s.status,
  last_refresh_started: iso(s.startedAt),
  last_refresh_finished: iso(s.finishedAt),
  error: s.error ?? undefined,
  job_id: s.jobId ?? undefined,
});

export const jobOut = (j: JobView) => ({
  job_id: j.id,
  type: j.type,
  status: j.state,
  result: j.result ?? undefined,
  error: j.error ?? undefined,
});
