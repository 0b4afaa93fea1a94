import { z } from 'zod';
import { FerryError } from './domain/errors.ts';

/** Every environment variable Ferry reads, with its default; `ferry serve --help` prints this table. */
export const configVariables = [
  ['PORT', '8080', 'HTTP port of the API, dashboard and /mcp (0 picks a free port)'],
  ['FERRY_MCP_PORT', '9090', 'Port of the standalone MCP server (Streamable HTTP)'],
  ['FERRY_DATA_DIR', './.ferry', 'Directory of the embedded store, the secret key file and record logs'],
  [
    'DATABASE_URL',
    '(unset)',
    'PostgreSQL URL of the metadata store and job queue; embedded PGlite when unset',
  ],
  [
    'FERRY_API_KEY',
    '(unset)',
    'Becomes the first admin key when the store has no keys; otherwise one is generated',
  ],
  [
    'FERRY_SECRET_KEY',
    '(generated)',
    'Key that encrypts connection secrets; generated into the data dir (0600) when unset',
  ],
  ['FERRY_RATE_LIMIT', '100', 'API requests per second per key and process (bursts of twice that)'],
  [
    'FERRY_HEARTBEAT_TIMEOUT',
    '30',
    'Seconds without a heartbeat after which a run counts as lost and is retried by another worker (runs heartbeat every second)',
  ],
  ['FERRY_LOG_LEVEL', 'info', 'Log level: fatal, error, warn, info, debug, trace, silent'],
  [
    'FERRY_JOB_RETENTION_DAYS',
    '30',
    'Days an ended run (with its console and record logs) is kept before the worker purges it',
  ],
] as const;

const portSchema = z.coerce.number().int().min(0).max(65535);

const envSchema = z.object({
  PORT: portSchema.default(8080),
  FERRY_MCP_PORT: portSchema.default(9090),
  FERRY_DATA_DIR: z.string().min(1).default('./.ferry'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  FERRY_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  FERRY_SECRET_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  FERRY_RATE_LIMIT: z.coerce.number().int().min(1).default(100),
  FERRY_HEARTBEAT_TIMEOUT: z.coerce.number().int().min(5).max(3600).default(30),
  FERRY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  FERRY_JOB_RETENTION_DAYS: z.coerce.number().min(0).max(36500).default(30),
});

export interface Config {
  port: number;
  mcpPort: number;
  dataDir: string;
  databaseUrl: string | undefined;
  apiKey: string | undefined;
  secretKey: string | undefined;
  rateLimit: number;
  /** Seconds without a heartbeat after which a run's worker is taken to be dead. */
  heartbeatTimeout: number;
  logLevel: z.infer<typeof envSchema>['FERRY_LOG_LEVEL'];
  /** Days an ended run is kept; fractions allowed, 0 purges runs at the next sweep. */
  jobRetentionDays: number;
}

/** Reads the configuration from the environment; empty variables count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    throw new FerryError('bad_request', `invalid ${variable}: ${issue.message}`, { field: variable });
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    mcpPort: e.FERRY_MCP_PORT,
    dataDir: e.FERRY_DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    apiKey: e.FERRY_API_KEY,
    secretKey: e.FERRY_SECRET_KEY,
    rateLimit: e.FERRY_RATE_LIMIT,
    heartbeatTimeout: e.FERRY_HEARTBEAT_TIMEOUT,
    logLevel: e.FERRY_LOG_LEVEL,
    jobRetentionDays: e.FERRY_JOB_RETENTION_DAYS,
  };
}
