/**
 * Typed errors of the domain. Every face maps a FerryError to its own envelope by `code`;
 * anything that is not a FerryError is an internal error and its message never leaves the process.
 */
export const errorStatus = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  validation_failed: 422,
  rate_limited: 429,
  connection_failed: 422,
  query_failed: 422,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export interface ErrorOptions {
  /** The request field at fault, as a dotted path (`configuration.hostname`). */
  field?: string;
  metadata?: Record<string, unknown>;
  cause?: unknown;
}

export class FerryError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly metadata: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'FerryError';
    this.code = code;
    this.field = options.field;
    this.metadata = options.metadata;
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export const notFound = (what: string, id: string) => new FerryError('not_found', `${what} ${id} not found`);

export const isFerryError = (error: unknown): error is FerryError => error instanceof FerryError;
