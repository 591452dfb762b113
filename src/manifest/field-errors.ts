// How validation problems become NodeletErrors: Kubernetes field.Error message shapes
// (k8s.io/apimachinery/pkg/util/validation/field/errors.go), a field path, and the line and column of
// the offending node when the caller can locate it.

import { NodeletError } from '../errors.js';

/** Error codes of the manifest package; validation uses the kubelet's event reason `FailedValidation`. */
export const ManifestErrorCode = {
  /** The bytes are not a YAML/JSON document we can read (syntax, duplicate key, alias bomb, encoding). */
  InvalidManifest: 'InvalidManifest',
  /** The manifest is larger than {@link MAX_MANIFEST_BYTES}. */
  ManifestTooLarge: 'ManifestTooLarge',
  /** The object is not a `v1` Pod (or, for the http source, a PodList). */
  UnsupportedKind: 'UnsupportedKind',
  /** The Pod fails API-server or static-pod validation. */
  FailedValidation: 'FailedValidation',
  /** The manifest, or a directory or symlink target on the way to it, may be changed by others than root (the audit of issue 11). */
  InsecureManifest: 'InsecureManifest',
} as const;

/** One of the {@link ManifestErrorCode} values. */
export type ManifestErrorCode = (typeof ManifestErrorCode)[keyof typeof ManifestErrorCode];

/** A 1-based line and column in the manifest text. */
export interface Position {
  line: number;
  column: number;
}

/** Maps a field path such as `spec.containers[1].name` to where it is in the source, if known. */
export type Locate = (fieldPath: string) => Position | undefined;

/**
 * `s` if at most `max` characters, else its start and end around an ellipsis. Messages quote what
 * the user wrote, which can be a multi-MB key or scalar, and they end up in logs and pod events.
 */
export function clip(s: string, max = 1000): string {
  if (s.length <= max) return s;
  const tail = Math.floor(max / 3);
  return `${s.slice(0, max - tail - 1)}…${s.slice(s.length - tail)}`;
}

/** Renders a value the way field.Error does (`%q` for strings), shortened for very long values. */
export function formatValue(value: unknown): string {
  let s: string;
  try {
    s = typeof value === 'bigint' ? String(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    s = String(value);
  }
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/**
 * A collector of validation errors for one manifest. Every method records one error and never
 * throws, so a validator can report everything that is wrong in one pass (as the API server does)
 * rather than stop at the first problem.
 */
export class FieldErrors {
  /** The errors recorded so far, in the order found. */
  readonly errors: NodeletError[] = [];
  private readonly fields = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly locate?: Locate,
  ) {}

  /** Records `message` verbatim for `field`; `at` is the path to locate when it differs from `field`. */
  add(field: string, message: string, at: string = field): void {
    let pos: Position | undefined;
    try {
      pos = this.locate?.(at);
    } catch {
      // A locator bug must not hide the validation error itself.
      pos = undefined;
    }
    // A field path holds map keys as written: clipped like the message.
    const details = pos
      ? { file: this.file, line: pos.line, column: pos.column, field: clip(field) }
      : { file: this.file, field: clip(field) };
    this.errors.push(new NodeletError(ManifestErrorCode.FailedValidation, clip(message), { details }));
    this.fields.add(field);
  }

  /** `<field>: Required value[: detail]`, unless the field already has an error (a wrong type reads as absent). */
  required(field: string, detail?: string): void {
    if (this.fields.has(field)) return;
    this.add(field, `${field}: Required value${detail ? `: ${detail}` : ''}`);
  }

  /** `<field>: Invalid value: <value>: <detail>` */
  invalid(field: string, value: unknown, detail: string, at?: string): void {
    this.add(field, `${field}: Invalid value: ${formatValue(value)}: ${detail}`, at);
  }

  /** `<field>: Unsupported value: <value>: supported values: "a", "b"` */
  unsupported(field: string, value: unknown, supported: readonly string[]): void {
    const list = supported.map((s) => JSON.stringify(s)).join(', ');
    this.add(field, `${field}: Unsupported value: ${formatValue(value)}: supported values: ${list}`);
  }

  /** `<field>: Duplicate value: <value>` */
  duplicate(field: string, value: unknown): void {
    this.add(field, `${field}: Duplicate value: ${formatValue(value)}`);
  }

  /** `<field>: Not found: <value>` */
  notFound(field: string, value: unknown): void {
    this.add(field, `${field}: Not found: ${formatValue(value)}`);
  }

  /** `<field>: Forbidden: <detail>` */
  forbidden(field: string, detail: string): void {
    this.add(field, `${field}: Forbidden: ${detail}`);
  }

  /** `<field>: Too many: <n>: must have at most <max> items` */
  tooMany(field: string, actual: number, max: number): void {
    this.add(field, `${field}: Too many: ${actual}: must have at most ${max} items`);
  }

  /** `<field>: Invalid type: expected <expected>, got <actual>` — what the Go JSON decoder would refuse. */
  wrongType(field: string, expected: string, value: unknown): void {
    const got = typeName(value);
    // YAML 1.1 (the dialect of the kubelet's decoder) reads unquoted yes/no/on/off as booleans.
    const hint = expected === 'string' && typeof value === 'boolean' ? ' (quote the value to make it a string)' : '';
    this.add(field, `${field}: Invalid type: expected ${expected}, got ${got} ${formatValue(value)}${hint}`);
  }
}

/** The JSON type name of a value, for messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}
