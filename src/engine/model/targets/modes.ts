import type { ModelSyncMode } from '../../../store/schema.ts';

/** Modes that match records to target rows, so a sync in them needs an identity. */
export const identityModes: ReadonlySet<ModelSyncMode> = new Set([
  'create',
  'update',
  'updateOrCreate',
  'replace',
  'remove',
]);

/** A target's modes as Polytomic lists them. */
export const modesOf = (modes: readonly ModelSyncMode[]) =>
  modes.map((mode) => ({ mode, requires_identity: identityModes.has(mode) }));
