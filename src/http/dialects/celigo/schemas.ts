import { z } from '@hono/zod-openapi';

// Wire shapes of integrator.io's Data Loader sync API (field names as its OpenAPI document has them).

export const celigoStatuses = ['running', 'completed', 'failed', 'canceled'] as const;

export const errorEnvelope = z
  .object({
    errors: z.array(
      z.object({
        code: z.union([z.string(), z.number().int()]),
        message: z.string(),
        field: z.string().optional(),
        source: z.string().optional(),
      }),
    ),
  })
  .openapi('CeligoError');

export const unauthorized = z.object({ message: z.string() }).openapi('CeligoUnauthorized');

export const syncRunRequest = z
  .object({ runType: z.enum(['normal', 'resync']).default('normal') })
  .openapi('CeligoSyncRunRequest');

export const syncRunResponse = z
  .object({ syncId: z.string(), flowExecutionGroupId: z.string() })
  .openapi('CeligoSyncRunResponse');

export const syncJob = z
  .object({
    _id: z.string(),
    flowExecutionGroupId: z.string(),
    _integrationId: z.string(),
    _syncId: z.string(),
    createdAt: z.string(),
    startedAt: z.string().optional(),
    endedAt: z.string().optional(),
    purgeAt: z.string(),
    status: z.enum(celigoStatuses),
    numErrors: z.number().int(),
    numLoadedRecords: z.number().int(),
    numExtractedRecords: z.number().int(),
    numTablesSynced: z.number().int(),
    triggeredBy: z.string().optional(),
    canceledBy: z.string().optional(),
    runType: z.enum(['normal', 'resync']),
  })
  .openapi('CeligoSyncJob');

export const syncJobsResponse = z
  .object({ data: z.array(syncJob), totalCount: z.number().int() })
  .openapi('CeligoSyncJobsResponse');

export const syncTableJob = z
  .object({
    _id: z.string(),
    tableName: z.string(),
    createdAt: z.string(),
    status: z.enum(celigoStatuses),
    numErrors: z.number().int(),
    numLoadedRecords: z.number().int(),
    numExtractedRecords: z.number().int(),
    startedAt: z.string().optional(),
    endedAt: z.string().optional(),
  })
  .openapi('CeligoSyncTableJob');

export const syncJobFamily = syncJob.extend({ tables: z.array(syncTableJob) }).openapi('CeligoSyncJobFamily');

export const syncError = z
  .object({
    scope: z.string(),
    source: z.string(),
    code: z.string(),
    message: z.string(),
    _datasetId: z.string(),
    _syncId: z.string(),
    _parentSyncJobId: z.string(),
    _childSyncJobId: z.string(),
    flowExecutionGroupId: z.string(),
    stage: z.string(),
    datasetName: z.string(),
    tableName: z.string(),
    occurredAt: z.string(),
  })
  .openapi('CeligoSyncError');
