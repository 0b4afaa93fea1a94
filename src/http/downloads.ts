import { Readable } from 'node:stream';
import { FerryError } from '../domain/errors.ts';
import { openRecordLogFile, verifyRecordLogSignature } from '../logs/record-log.ts';
import { renderPolytomicError } from './dialects/polytomic/errors.ts';
import type { HttpApp } from './env.ts';

/**
 * Signed downloads of record logs and log archives. The signature is the credential (no API key),
 * so links can be handed to a browser or `curl`; a tampered or expired link is 403.
 * Registered before the `/api` dialect so that its key check does not apply.
 */
export function downloadRoutes(app: HttpApp): void {
  app.get('/api/logs/:executionId/:filename', async (c) => {
    try {
      const { executionId, filename } = c.req.param();
      const valid = verifyRecordLogSignature(c.var.core.signingKey, {
        executionId,
        filename,
        expires: c.req.query('expires'),
        signature: c.req.query('signature'),
      });
      if (!valid) throw new FerryError('forbidden', 'this download link is invalid or has expired');
      const stream = await openRecordLogFile(c.var.core.config.dataDir, executionId, filename);
      const type = filename.endsWith('.tar.gz') ? 'application/gzip' : 'application/x-ndjson';
      return c.body(Readable.toWeb(stream) as ReadableStream, 200, {
        'content-type': type,
        'content-disposition': `attachment; filename="${filename}"`,
      });
    } catch (error) {
      return renderPolytomicError(error as Error, c);
    }
  });
}
