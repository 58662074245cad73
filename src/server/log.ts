// Structured JSON-lines logging (pino). Never log secrets: Authorization headers, query strings of signed URLs
// and request bodies are not passed to the logger.
import { pino, destination as pinoDestination, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

export function createLogger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}

/** The audit log of authorization decisions: JSON lines to a file (appended), to stdout, or nowhere ("off"). */
export function createAuditLogger(destination: string): Logger {
  if (destination === 'off') return pino({ enabled: false });
  const stream = destination === 'stdout' ? pinoDestination(1) : pinoDestination({ dest: destination, mkdir: true, sync: false });
  return pino({ base: { audit: true }, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'event' }, stream);
}
