import pino, { type Logger } from 'pino';
import type { Config } from './config.ts';

/** Structured JSON logs on stderr, so stdout stays free for what commands print to people and scripts. */
export function createLogger(level: Config['logLevel']): Logger {
  return pino({ level, base: { service: 'ferry' } }, pino.destination(2));
}
