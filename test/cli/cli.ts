import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';

// Runs the real `ferry` binary as users do, as a child process: stdout is a pipe, not a terminal, so
// progress comes as plain lines.

const binary = path.resolve(import.meta.dirname, '../../bin/ferry.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ferry args...` with FERRY_URL and FERRY_API_KEY unset unless `env` sets them. */
export function ferryCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [binary, ...args], {
    env: { ...process.env, FERRY_URL: undefined, FERRY_API_KEY: undefined, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** A CLI bound to one server: its URL and admin key in the environment. */
export const cliFor =
  (server: { url: string; adminKey: string }) =>
  (...args: string[]) =>
    ferryCli(args, { FERRY_URL: server.url, FERRY_API_KEY: server.adminKey });

export function ok(result: CliResult): CliResult {
  assert.equal(result.code, 0, `exit ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

export const lines = (text: string) => text.trimEnd().split('\n');
