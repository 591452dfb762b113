import { FIELD_KEYS, FIELDS } from './fields.js';
import type { LoadedConfig, NodeletConfig, ValueOrigin } from './types.js';

/**
 * The table `nodelet config` prints: one row per field with its effective value and where it came
 * from (`flag --pod-manifest-path`, `config file /etc/kubelet.yaml: staticPodPath`, `default`).
 * Ends with a newline. Header values are masked: they often carry a bearer token, and this output ends up in bug reports.
 */
export function describeConfig(loaded: LoadedConfig): string {
  const rows: [string, string, string][] = [['FIELD', 'VALUE', 'ORIGIN']];
  for (const key of FIELD_KEYS) {
    rows.push([FIELDS[key].name, formatValue(key, loaded.config), formatOrigin(loaded.origins[key])]);
  }
  const width = [0, 1].map((col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows
    .map(([field, value, origin]) => `${field.padEnd(width[0]! + 2)}${value.padEnd(width[1]! + 2)}${origin}`.trimEnd())
    .join('\n')
    .concat('\n');
}

function formatValue(key: keyof NodeletConfig, config: Readonly<NodeletConfig>): string {
  if (key === 'staticPodURLHeader') {
    const names = Object.keys(config.staticPodURLHeader);
    return names.length === 0 ? '{}' : names.map((name) => `${name}: <hidden>`).join('; ');
  }
  const format = FIELDS[key].kind.format as (value: unknown) => string;
  return format(config[key]);
}

/** An origin in words: `flag -v`, `config file /etc/kubelet.yaml: maxPods`, `default (with --config)`. */
export function formatOrigin(origin: ValueOrigin | undefined): string {
  if (!origin) return 'default';
  switch (origin.source) {
    case 'flag':
      return `flag ${origin.detail ?? ''}`.trimEnd();
    case 'config-file':
      return `config file ${origin.detail ?? ''}`.trimEnd();
    case 'config-dir':
      return `config dir ${origin.detail ?? ''}`.trimEnd();
    case 'default':
      return origin.detail ? `default (${origin.detail})` : 'default';
  }
}
