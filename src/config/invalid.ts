import { NodeletError, type ErrorDetails } from '../errors.js';

/**
 * The one error of this folder: a NodeletError with code `InvalidConfig` and a one-line message that
 * names its culprit (a flag, or a file and field), so the CLI can print it as it is.
 */
export function invalidConfig(message: string, details: ErrorDetails = {}, cause?: unknown): NodeletError {
  // `details.file` is deliberately never set: the file is already in the message, and
  // NodeletError.located would print it twice. The path goes in `configFile` instead.
  return new NodeletError('InvalidConfig', message, { details, cause });
}

/** The message of a thrown value, for wrapping a parser's reason under a flag or field name. */
export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
