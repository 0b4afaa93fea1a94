import { boolean, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { SchemaInfo } from '../connectors/types.ts';

// Mirrors src/store/migrations/*.sql; test/store/schema.test.ts checks the two agree.
const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};

export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

export const organizations = pgTable('organizations', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  ssoDomain: text('sso_domain'),
  ssoOrgId: text('sso_org_id'),
  issuer: text('issuer'),
  ...timestamps,
});

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  email: text('email').notNull(),
  role: text('role').notNull().default('admin'),
  ...timestamps,
});

export const apiKeys = pgTable('api_keys', {
  id: uuid('id').primaryKey().defaultRandom(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
  isAdmin: boolean('is_admin').notNull().default(false),
  hash: text('hash').notNull().unique(),
  prefix: text('prefix').notNull(),
  createdAt: timestamps.createdAt,
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

export const connections = pgTable('connections', {
  id: uuid('id').primaryKey().defaultRandom(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  type: text('type').notNull(),
  configuration: jsonb('configuration').$type<Record<string, unknown>>().notNull().default({}),
  secrets: text('secrets'),
  status: text('status').notNull().default('healthy'),
  statusError: text('status_error'),
  createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
  ...timestamps,
});

export const connectionSchemaCaches = pgTable('connection_schema_caches', {
  connectionId: uuid('connection_id')
    .primaryKey()
    .references(() => connections.id, { onDelete: 'cascade' }),
  schemas: jsonb('schemas').$type<SchemaInfo[]>().notNull().default([]),
  status: text('status').$type<'refreshing' | 'fresh' | 'failed'>().notNull(),
  error: text('error'),
  jobId: text('job_id'),
  refreshStartedAt: timestamp('refresh_started_at', { withTimezone: true }),
  refreshFinishedAt: timestamp('refresh_finished_at', { withTimezone: true }),
});

export type OrganizationRow = typeof organizations.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type ConnectionRow = typeof connections.$inferSelect;
export type SchemaCacheRow = typeof connectionSchemaCaches.$inferSelect;
