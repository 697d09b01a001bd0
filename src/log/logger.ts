// pino JSON-line logs. Levels follow joind(8): -l 0 none, -l 1 warnings, -l 2 informational; any -d N
// turns on debug output (N ≥ 3: trace).
import pino from 'pino';
import { Level, MESSAGES, MessageId } from './messages';

export type Logger = pino.Logger;

export function levelFor(logLevel: number, debugLevel: number): pino.LevelWithSilent {
  if (debugLevel >= 3) return 'trace';
  if (debugLevel >= 1) return 'debug';
  if (logLevel <= 0) return 'silent';
  if (logLevel === 1) return 'warn';
  return 'info';
}

export function createLogger(level: pino.LevelWithSilent, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { name: 'joind' }, timestamp: pino.stdTimeFunctions.isoTime }, destination ?? pino.destination(2));
}

/**
 * Whether an event would be logged: the packet path asks first, so that the fields of an event nobody
 * will see (addresses and MACs formatted as text, twice per exchange) are never built.
 */
export function eventEnabled(log: Logger, id: MessageId): boolean {
  return log.isLevelEnabled(MESSAGES[id].level);
}

/** Logs a catalogued event at its catalogued level. */
export function logEvent(log: Logger, id: MessageId, fields: Record<string, unknown> = {}, text?: string): void {
  const message = MESSAGES[id];
  if (!log.isLevelEnabled(message.level)) return;
  log[message.level]({ msgId: id, ...fields }, text ?? message.text);
}

/** A logger reduced to the methods of some levels, in pino's (fields, text) form: what io/ modules take. */
export type LevelLog<L extends Level> = { [K in L]: (fields: object, text: string) => void };

/**
 * logEvent for a reduced logger (a pino logger, or a test's stand-in): the catalogued level's method, with
 * the msgId field first. The logger itself decides whether the level is enabled.
 */
export function logEventTo<Id extends MessageId>(
  log: LevelLog<(typeof MESSAGES)[Id]['level']>,
  id: Id,
  fields: Record<string, unknown> = {},
  text?: string,
): void {
  const message: { level: (typeof MESSAGES)[Id]['level']; text: string } = MESSAGES[id];
  log[message.level]({ msgId: id, ...fields }, text ?? message.text);
}
