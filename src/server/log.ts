// Structured JSON-lines logging (pino). Never log secrets: Authorization headers, query strings of signed URLs
// and request bodies are not passed to the logger.
import { pino, destination as pinoDestination, multistream, type Logger as PinoLogger } from 'pino';
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
 * ("database"), or nowhere ("off"). With a store, a file or stdout log is written to the store too (the records the
 * console searches). A file is written through AuditFile, the store through AuditTable: a line that cannot be
 * written (a full disk) is dropped and counted (`onDropped`), never thrown into a request.
 */
export function createAuditLogger(destination: string, onDropped: (lines: number, error: unknown) => void, store?: AuditStore): AuditLog {
  const options = { base: { audit: true }, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'event' };
  if (destination === 'off') return { logger: pino({ enabled: false }), close: async () => {} };
  const table = store ? new AuditTable(store, onDropped) : undefined;
  if (destination === 'database') {
    if (!table) throw new Error('an audit log in the database needs the metadata store');
    return { logger: pino(options, table), close: () => table.close() };
  }
  const out = destination === 'stdout' ? pinoDestination(1) : new AuditFile(destination, onDropped);
  const close = async () => {
    if (out instanceof AuditFile) await out.close();
    await table?.close();
  };
  if (!table) return { logger: pino(options, out), close };
  return { logger: pino(options, multistream([{ stream: out }, { stream: table }])), close };
}
