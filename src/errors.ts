/** Where in the user's input an error is: file, line and column (1-based), and the field path. */
export interface ErrorDetails {
  file?: string;
  line?: number;
  column?: number;
  /** A Kubernetes-style field path, e.g. `spec.containers[0].name`. */
  field?: string;
  [key: string]: unknown;
}

/**
 * The one error class of nodelet. `code` is a Kubernetes reason where one exists (`CrashLoopBackOff`,
 * `RunContainerError`, `OutOfpods`), so it flows straight into pod status and events.
 */
export class NodeletError extends Error {
  override readonly name = 'NodeletError';
  readonly code: string;
  readonly details: ErrorDetails;

  constructor(code: string, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** `file:line:col: message`, the form editors and terminals turn into links. */
  get located(): string {
    const { file, line, column } = this.details;
    if (!file) return this.message;
    if (line === undefined) return `${file}: ${this.message}`;
    return `${file}:${line}:${column ?? 1}: ${this.message}`;
  }
}

/** Message of any thrown value, for logs. */
export function errorMessage(err: unknown): string {
  if (err instanceof NodeletError) return err.located;
  if (err instanceof Error) return err.message;
  return String(err);
}
