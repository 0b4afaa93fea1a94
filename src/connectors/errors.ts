import { FerryError } from '../domain/errors.ts';

/** The driver's own message; Node's AggregateError (IPv4 + IPv6 attempts) has an empty one. */
export function driverMessage(error: unknown): string {
  if (error instanceof AggregateError && !error.message) {
    return [...new Set(error.errors.map(driverMessage))].join('; ') || 'connection failed';
  }
  if (error instanceof Error) return error.message || (error as { code?: string }).code || error.name;
  return String(error);
}

/** Removes secrets from a message before it can leave the process. */
export function redact(message: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = message;
  for (const secret of secrets) if (secret) out = out.replaceAll(secret, '********');
  return out;
}

export function connectionFailed(
  prefix: string,
  error: unknown,
  options: { secrets?: ReadonlyArray<string | undefined>; field?: string } = {},
): FerryError {
  if (error instanceof FerryError) return error;
  const message = redact(`${prefix}: ${driverMessage(error)}`, options.secrets ?? []);
  return new FerryError('connection_failed', message, { field: options.field });
}

export function queryFailed(error: unknown, secrets: ReadonlyArray<string | undefined> = []): FerryError {
  if (error instanceof FerryError) return error;
  return new FerryError('query_failed', redact(driverMessage(error), secrets));
}

/** Validates a connection configuration, reporting the first bad key as `configuration.<key>`. */
export function parseConfig<T>(schema: { safeParse(input: unknown): ZodSafeParse<T> }, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  throw new FerryError(
    'validation_failed',
    `Invalid configuration${path ? ` (${path})` : ''}: ${issue?.message}`,
    {
      field: path ? `configuration.${path}` : 'configuration',
    },
  );
}

type ZodSafeParse<T> =
  | { success: true; data: T }
  | {
      success: false;
      error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> };
    };
