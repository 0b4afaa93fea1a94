import { FerryError } from './errors.ts';

/**
 * The one state machine of every run (bulk and model executions, and each table of a bulk run).
 * Faces map these words to their own (Polytomic, Celigo, Qontext); nothing else invents statuses.
 */
export const executionStatuses = [
  'created',
  'queued',
  'running',
  'canceling',
  'canceled',
  'completed',
  'completed_with_errors',
  'failed',
  'interrupted',
] as const;
export type ExecutionStatus = (typeof executionStatuses)[number];

/** Statuses of a run that still holds its sync: the store allows one such run per sync. */
export const activeStatuses: readonly ExecutionStatus[] = ['created', 'queued', 'running', 'canceling'];
export const terminalStatuses: readonly ExecutionStatus[] = [
  'canceled',
  'completed',
  'completed_with_errors',
  'failed',
  'interrupted',
];

const transitions: Record<ExecutionStatus, readonly ExecutionStatus[]> = {
  created: ['queued', 'canceled', 'failed'],
  queued: ['running', 'canceling', 'canceled', 'failed'],
  // running → queued: the worker died or stopped and the run goes back to the queue for a retry.
  running: ['canceling', 'completed', 'completed_with_errors', 'failed', 'interrupted', 'queued'],
  canceling: ['canceled', 'completed', 'completed_with_errors', 'failed', 'interrupted'],
  canceled: [],
  completed: [],
  completed_with_errors: [],
  failed: [],
  interrupted: [],
};

export const isTerminal = (status: ExecutionStatus) => terminalStatuses.includes(status);
export const isActive = (status: ExecutionStatus) => activeStatuses.includes(status);

export function canTransition(from: ExecutionStatus, to: ExecutionStatus): boolean {
  return transitions[from].includes(to);
}

export function assertTransition(from: ExecutionStatus, to: ExecutionStatus): void {
  if (!canTransition(from, to))
    throw new FerryError('conflict', `an execution cannot go from ${from} to ${to}`);
}

/** Kinds of record log files an execution may produce. */
export const recordLogTypes = ['records', 'errors', 'warnings', 'inserts', 'updates', 'deletes'] as const;
export type RecordLogType = (typeof recordLogTypes)[number];
