import type { Logger } from 'pino';

/**
 * Stops the process on SIGTERM/SIGINT through `stop`, and exits within `boundMs` even if stopping
 * hangs (a stuck connection must not keep an orchestrator waiting forever).
 */
export function exitOnSignals(stop: () => Promise<void>, log: Logger, boundMs: number): void {
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ boundMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, boundMs);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/** Parses an integer option of a command that must be at least `min`. */
export const integerAtLeast = (name: string, min: number) => (value: string) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) throw new Error(`${name} must be an integer ≥ ${min}`);
  return number;
};

/** Seconds a graceful stop lets running tables commit; the process exits by this plus a margin. */
export const defaultGraceSeconds = 10;
export const exitMarginMs = 15_000;
