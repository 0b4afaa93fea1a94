import { randomBytes } from 'node:crypto';

// W3C Trace Context: `traceparent: <version>-<trace-id>-<parent-id>-<flags>`, lower-case hex.
const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The trace id of a `traceparent` header, or undefined when the header is absent or invalid (the
 * spec says to ignore an invalid one and start a new trace). Version ff and all-zero ids are invalid.
 */
export function traceIdFromTraceparent(header: string | undefined): string | undefined {
  const match = header ? traceparentPattern.exec(header.trim()) : null;
  if (!match) return undefined;
  const [, version, traceId, parentId, , rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(parentId!)) return undefined;
  return traceId;
}

/** A fresh random trace id for a run no request traced. */
export const newTraceId = () => randomBytes(16).toString('hex');
