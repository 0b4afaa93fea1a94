import type { Actor } from './context.ts';

/** The scheduler acts inside the sync's own organization, as nobody in particular. */
export const schedulerActor = (organizationId: string): Actor => ({
  keyId: 'scheduler',
  organizationId,
  userId: null,
  isAdmin: false,
});
