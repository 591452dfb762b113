import path from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { FIELDS, FILE_FIELDS } from './fields.js';
import { invalidConfig, reasonOf } from './invalid.js';
import { IGNORED_FILE_FIELDS, STRUCT_FIELDS } from './kubelet-fields.js';
import type { NodeletConfig } from './types.js';

/** The only KubeletConfiguration version the kubelet reads today. */
export const KUBELET_CONFIG_API_VERSION = 'kubelet.config.k8s.io/v1beta1';
export const KUBELET_CONFIG_KIND = 'KubeletConfiguration';

/** One field a config file sets (`value`) or clears back to its default (`value: null`). */
export interface FileSetting<K extends keyof NodeletConfig = keyof NodeletConfig> {
  readonly key: K;
  readonly value: NodeletConfig[K] | null;
  /** The field's path in the file (`staticPodPath`, `logging.format`). */
  readonly field: string;
}

/** A decoded KubeletConfiguration: the settings nodelet uses, in file order, and warnings. */
export interface DecodedConfigFile {
  readonly settings: FileSetting[];
  readonly warnings: string[];
}

/**
 * Decodes one KubeletConfiguration file (YAML or JSON; `file` is its absolute path, for messages
 * and for resolving relative paths, which are relative to the file as in the kubelet). A `null`
 * field clears it, as in the JSON merge patch the kubelet applies to drop-ins. Fields nodelet does
 * not use are warned about, once each; unknown fields too (the kubelet's lenient decoding also only
 * warns). Throws NodeletError `InvalidConfig`, one line naming the file (and line, column, field).
 */
export function decodeConfigFile(text: string, file: string): DecodedConfigFile {
  const where = `config file ${file}`;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), { lineCounter, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = yamlError.linePos?.[0];
    const message = yamlError.message.split(' at line ')[0]!.split('\n')[0]!;
    throw invalidConfig(`${where}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${message}`, {
      configFile: file,
      line: pos?.line,
      column: pos?.col,
    });
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw invalidConfig(`${where}: invalid YAML: ${reasonOf(err)}`, { configFile: file }, err);
  }
  if (root === null || root === undefined) {
    throw invalidConfig(`${where}: is empty, expected a ${KUBELET_CONFIG_KIND}`, { configFile: file });
  }
  if (typeof root !== 'object' || Array.isArray(root)) {
    throw invalidConfig(`${where}: expected a ${KUBELET_CONFIG_KIND} object`, { configFile: file });
  }
  const object = root as Record<string, unknown>;
  checkTypeMeta(object, where, file);

  const decoder = new Decoder(doc, lineCounter, file, path.dirname(file));
  for (const [name, value] of Object.entries(object)) {
    if (name === 'apiVersion' || name === 'kind') continue;
    decoder.field([name], value);
  }
  return { settings: decoder.settings, warnings: decoder.warnings };
}

function checkTypeMeta(object: Record<string, unknown>, where: string, file: string): void {
  const { kind, apiVersion } = object;
  if (kind !== KUBELET_CONFIG_KIND) {
    const got = kind === undefined ? 'missing' : JSON.stringify(kind);
    throw invalidConfig(`${where}: kind is ${got}, expected ${KUBELET_CONFIG_KIND}`, { configFile: file, field: 'kind' });
  }
  if (apiVersion !== KUBELET_CONFIG_API_VERSION) {
    const got = apiVersion === undefined ? 'missing' : JSON.stringify(apiVersion);
    throw invalidConfig(`${where}: apiVersion is ${got}, expected ${KUBELET_CONFIG_API_VERSION}`, {
      configFile: file,
      field: 'apiVersion',
    });
  }
}

class Decoder {
  readonly settings: FileSetting[] = [];
  readonly warnings: string[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
    private readonly file: string,
    private readonly baseDir: string,
  ) {}

  field(segments: string[], value: unknown): void {
    const field = segments.join('.');
    const key = FILE_FIELDS.get(field);
    if (key !== undefined) {
      this.setting(key, field, segments, value);
    } else if (STRUCT_FIELDS.has(field)) {
      this.struct(segments, value);
    } else if (IGNORED_FILE_FIELDS.has(field)) {
      this.warnings.push(`config file ${this.file}: field ${field} is accepted and ignored by nodelet`);
    } else {
      this.warnings.push(`config file ${this.file}: unknown field ${JSON.stringify(field)}`);
    }
  }

  private struct(segments: string[], value: unknown): void {
    const field = segments.join('.');
    if (value === null) {
      // `logging: null` clears every field under it (merge-patch semantics).
      for (const [path, key] of FILE_FIELDS) {
        if (path.startsWith(`${field}.`)) this.settings.push({ key, value: null, field: path });
      }
      return;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw this.error(segments, `${field}: must be a map`);
    }
    for (const [name, sub] of Object.entries(value as Record<string, unknown>)) {
      this.field([...segments, name], sub);
    }
  }

  private setting(key: keyof NodeletConfig, field: string, segments: string[], value: unknown): void {
    if (value === null) {
      this.settings.push({ key, value: null, field });
      return;
    }
    try {
      const parsed = FIELDS[key].kind.fromFile(value, this.baseDir);
      this.settings.push({ key, value: parsed, field } as FileSetting);
    } catch (err) {
      throw this.error(segments, `${field}: ${reasonOf(err)}`, err);
    }
  }

  private error(segments: string[], message: string, cause?: unknown) {
    const node = this.doc.getIn(segments, true) as { range?: [number, number, number] } | undefined;
    const pos = node?.range ? this.lineCounter.linePos(node.range[0]) : undefined;
    const at = pos ? `:${pos.line}:${pos.col}` : '';
    return invalidConfig(
      `config file ${this.file}${at}: ${message}`,
      { configFile: this.file, field: segments.join('.'), line: pos?.line, column: pos?.col },
      cause,
    );
  }
}
