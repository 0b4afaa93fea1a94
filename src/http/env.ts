import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Actor, Core } from '../services/context.ts';

export interface HttpEnv {
  Variables: {
    core: Core;
    /** Set by the auth middleware on every authenticated route. */
    actor: Actor;
    requestId: string;
  };
}

export type HttpApp = OpenAPIHono<HttpEnv>;
