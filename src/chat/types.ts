/**
 * Types shared along the event path, so that no module imports another only for its types.
 */

/** What the chat logs to (pino, Fastify's logger, or a test's). */
export interface ChatLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Where a caught failure happened: the label of `roomchat_errors_total`. */
export type FailureKind =
  | 'append'
  | 'welcome'
  | 'frame'
  | 'bus_publish'
  | 'bus_unwatch'
  | 'gap_fill'
  | 'deliver'
  | 'presence'
  | 'rate_limit'
  | 'leave'
  | 'sweep';

/** Hooks for metrics; every one optional. Deliveries are counted in `RoomRegistry.stats`. */
export interface ChatObserver {
  eventStored?(): void;
  /** Seconds from a message frame's arrival to the end of its fan-out on this instance. */
  messageLatency?(seconds: number): void;
  /** A failure was caught (and logged) at `where`. */
  failure?(where: FailureKind): void;
  /** A connection's inbox filled up and its socket stopped being read until it drains. */
  inboxPaused?(): void;
}

/** Log a caught failure with its context and count it; never throws. */
export type ReportFailure = (where: FailureKind, err: unknown, context: object, msg: string) => void;

/**
 * Failures the server works around by itself (another instance or the store fills in) are
 * warnings; those a client or the log notices are errors.
 */
const WARNINGS: ReadonlySet<FailureKind> = new Set([
  'bus_publish',
  'bus_unwatch',
  'gap_fill',
  'presence',
  'rate_limit',
]);

export function failureReporter(log: ChatLogger, observer: ChatObserver = {}): ReportFailure {
  return (where, err, context, msg) => {
    if (WARNINGS.has(where)) log.warn({ ...context, err, where }, msg);
    else log.error({ ...context, err, where }, msg);
    observer.failure?.(where);
  };
}

/** What a client asked for in the handshake, already validated. */
export interface JoinRequest {
  room: string;
  /** The client's address (behind a trusted proxy, the one it reports): per-address limits. */
  address?: string;
  uid?: string;
  name?: string;
  since?: number;
}
