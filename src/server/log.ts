// Structured JSON-lines logging (pino). Never log secrets: Authorization headers, query strings of signed URLs
// and request bodies are not passed to the logger.
import { pino, destination as pinoDestination, type Logger as PinoLogger } from 'pino';
import { AuditFile } from './audit-file.ts';
import { AuditTable } from './audit-table.ts';
import type { AuditStore } from '../storage/meta/store.ts';

export type Logger = PinoLogger;

export function createLogger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}

export interface AuditLog {
  logger: Logger;
  /** Writes what is queued and closes the file. */
  close(): Promise<void>;
}

/**
 * The audit log of authorization decisions: JSON lines to a file (appended), to stdout, to the metadata store
 * ("database"), or nowhere ("off"). A file is written through AuditFile, the store through AuditTable: a line that
 * cannot be written (a full disk) is dropped and counted (`onDropped`), never thrown into a request.
 */
export function createAuditLogger(destination: string, onDropped: (lines: number, error: unknown) => void, store?: AuditStore): AuditLog {
  const options = { base: { audit: true }, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'event' };
  if (destination === 'off') return { logger: pino({ enabled: false }), close: async () => {} };
  if (destination === 'stdout') return { logger: pino(options, pinoDestination(1)), close: async () => {} };
  if (destination === 'database') {
    if (!store) throw new Error('an audit log in the database needs the metadata store');
    const table = new AuditTable(store, onDropped);
    return { logger: pino(options, table), close: () => table.close() };
  }
  const file = new AuditFile(destination, onDropped);
  return { logger: pino(options, file), close: () => file.close() };
}
