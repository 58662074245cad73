// Structured JSON-lines logging (pino). Never log secrets: Authorization headers, query strings of signed URLs
// and request bodies are not passed to the logger.
import { pino, destination as pinoDestination, type Logger as PinoLogger } from 'pino';
import { AuditFile } from './audit-file.ts';

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
 * The audit log of authorization decisions: JSON lines to a file (appended), to stdout, or nowhere ("off").
 * A file is written through AuditFile: a line that cannot be written (a full disk) is dropped and counted
 * (`onDropped`), never thrown into a request.
 */
export function createAuditLogger(destination: string, onDropped: (lines: number, error: unknown) => void): AuditLog {
  const options = { base: { audit: true }, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'event' };
  if (destination === 'off') return { logger: pino({ enabled: false }), close: async () => {} };
  if (destination === 'stdout') return { logger: pino(options, pinoDestination(1)), close: async () => {} };
  const file = new AuditFile(destination, onDropped);
  return { logger: pino(options, file), close: () => file.close() };
}
