import type { MiddlewareHandler } from 'hono';
import { FerryError } from '../domain/errors.ts';
import type { HttpEnv } from './env.ts';

/**
 * Per-key token bucket: `perSecond` requests a second on average, bursts of twice that. It runs in
 * each API process, so N replicas allow N times the rate; it protects a process, not a quota.
 */
export function rateLimit(perSecond: number): MiddlewareHandler<HttpEnv> {
  const capacity = perSecond * 2;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return async (c, next) => {
    const key = c.var.actor.keyId;
    const now = performance.now();
    const bucket = buckets.get(key) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    buckets.set(key, bucket);
    if (bucket.tokens < 1) {
      const retryAfter = Math.ceil((1 - bucket.tokens) / perSecond);
      c.header('retry-after', String(retryAfter));
      throw new FerryError('rate_limited', `too many requests for this key; retry in ${retryAfter}s`);
    }
    bucket.tokens -= 1;
    await next();
  };
}
