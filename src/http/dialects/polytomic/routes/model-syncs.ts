import type { HttpApp } from '../../../env.ts';
export function modelSyncRoutes(_app: HttpApp): void {}
