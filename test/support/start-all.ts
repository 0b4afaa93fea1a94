/** What a suite starts in `before`: a server, a database, a browser, a cluster. */
type Disposable = {
  stop?: () => Promise<unknown>;
  stopAll?: () => Promise<unknown>;
  drop?: () => Promise<unknown>;
  close?: () => Promise<unknown>;
};

/**
 * `Promise.all` for a suite's resources: when one fails to start, the others are awaited and disposed
 * of before the failure is thrown. With plain `Promise.all` they would start after the suite gave up on
 * them, and a server left running keeps the test file alive until its timeout.
 */
export async function startAll<T extends readonly unknown[]>(
  starts: {
    [K in keyof T]: Promise<T[K]>;
  },
): Promise<T> {
  const results = await Promise.allSettled(starts as readonly Promise<unknown>[]);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failure) return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
  await Promise.all(
    results.map(async (r) => {
      if (r.status !== 'fulfilled' || r.value === null || typeof r.value !== 'object') return;
      const resource = r.value as Disposable;
      const dispose = resource.stopAll ?? resource.stop ?? resource.drop ?? resource.close;
      await dispose?.call(resource).catch(() => {});
    }),
  );
  throw failure.reason;
}
