// Structured JSON-lines logging (pino). Never log secrets: Authorization headers, query strings of signed URLs
// and request bodies are not passed to the logger.
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

export function createLogger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}
