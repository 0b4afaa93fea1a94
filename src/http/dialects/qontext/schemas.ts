import { z } from '@hono/zod-openapi';
import { syncLogStatuses, syncLogTypes } from './presenters.ts';

// Wire shapes of Qontext's sync-log API (field names as its API reference has them).

export const qontextError = z
  .object({ statusCode: z.number().int(), message: z.string(), error: z.string() })
  .openapi('QontextError');

const timestamp = z.string().nullable();

export const syncLog = z
  .object({
    id: z.string(),
    ingestionPipelineId: z.string(),
    knowledgeGraphId: z.string().nullable(),
    workspaceId: z.string(),
    type: z.enum(syncLogTypes),
    status: z.enum(syncLogStatuses),
    startedAt: timestamp,
    completedAt: timestamp,
    errorMessage: z.string().nullable(),
    userFacingError: z.string().nullable(),
    jobId: z.string().nullable(),
    workflowId: z.string(),
    workflowRunId: z.string().nullable(),
    preparationMetadata: z.record(z.string(), z.number().int()),
    totalRecordsToIngest: z.number().int(),
    recordsIngested: z.number().int(),
    preparationCompletedAt: timestamp,
    minDate: timestamp,
    manualSyncData: z.record(z.string(), z.unknown()).nullable(),
    correlationId: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('QontextSyncLog');

/** A list parameter given as `a,b` or repeated (`status=a&status=b`). */
const listOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) =>
      [v]
        .flat()
        .flatMap((s) => s.split(','))
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(values)))
    .optional()
    .openapi({ param: { style: 'form', explode: true } });

export const syncLogQuery = z.object({
  status: listOf(syncLogStatuses),
  type: listOf(syncLogTypes),
  ingestionPipelineId: z.string().optional(),
  createdAfter: z.iso.datetime({ offset: true }).optional(),
  createdBefore: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional(),
});
