import { readdirSync } from 'node:fs';
import path from 'node:path';
import { decodeConfigFile, type DecodedConfigFile } from './config-file.js';
import { formatDuration } from './duration.js';
import { FIELD_KEYS, FIELDS, FILE_READ_ONLY_PORT_DEFAULT } from './fields.js';
import { flagSpelling } from './flags.js';
import { invalidConfig, reasonOf } from './invalid.js';
import { parseArgs, type FlagOccurrence } from './parse-args.js';
import type { LoadedConfig, NodeletConfig, ValueOrigin } from './types.js';
import { appendHeaders, normalizeNodeName } from './values.js';
import { compareStrings } from '../util/compare.js';

/** What loadConfig may touch of the outside world: injected, so tests need no real files or host. */
export interface ConfigEnv {
  /** The machine's hostname (os.hostname), used when --hostname-override is not given. */
  hostname: () => string;
  /** Reads a config file (fs.readFileSync). */
  readFile: (path: string) => string | Buffer;
  /** The directory relative flag paths are resolved against (process.cwd()). */
  cwd: string;
  /** Lists the entry names of a --config-dir directory; defaults to fs.readdirSync. */
  readDir?: (path: string) => string[];
}

type Values = { -readonly [K in keyof NodeletConfig]?: NodeletConfig[K] };
type Origins = { -readonly [K in keyof NodeletConfig]?: ValueOrigin };

/**
 * Parses `args` (the arguments after `nodelet run`, e.g. `['--pod-manifest-path=/x', '--v=2']`)
 * plus the config file and drop-ins they name into one frozen configuration, with the origin of
 * every field and the warnings. Precedence as in the kubelet: defaults < `--config` < `--config-dir`
 * drop-ins (`*.conf`, lexical order, merge-patch) < flags set explicitly. All paths in the result
 * are absolute: flag paths resolved against `env.cwd`, file paths against the file's directory.
 * Throws NodeletError (code `InvalidConfig`) with one line naming the flag, or the file and field.
 */
export function loadConfig(args: string[], env: ConfigEnv): LoadedConfig {
  const parsed = parseArgs(args);
  const warnings = [...parsed.warnings];
  const values: Values = {};
  const origins: Origins = {};

  let configFile = '';
  let configDir = '';
  for (const { flag, value } of parsed.flags) {
    if (flag.name === 'config') configFile = value;
    if (flag.name === 'config-dir') configDir = value;
  }

  const applyFile = (decoded: DecodedConfigFile, file: string, source: 'config-file' | 'config-dir') => {
    warnings.push(...decoded.warnings);
    for (const { key, value, field } of decoded.settings) {
      if (value === null) {
        delete values[key];
        delete origins[key];
        continue;
      }
      // Maps merge key by key, as the JSON merge patch of a drop-in does; everything else replaces.
      const merged =
        key === 'staticPodURLHeader' && values.staticPodURLHeader
          ? Object.fromEntries([...Object.entries(values.staticPodURLHeader), ...Object.entries(value as Record<string, string[]>)])
          : value;
      setValue(values, key, merged);
      origins[key] = { source, detail: `${file}: ${field}` };
    }
  };

  // An empty --config means none, as in the kubelet.
  if (configFile !== '') {
    const file = path.resolve(env.cwd, configFile);
    applyFile(decodeConfigFile(readText(env, file), file), file, 'config-file');
  }
  if (configDir !== '') {
    const dir = path.resolve(env.cwd, configDir);
    for (const file of listDropIns(env, dir)) {
      applyFile(decodeConfigFile(readText(env, file), file), file, 'config-dir');
    }
  }

  applyFlags(parsed.flags, env.cwd, values, origins);

  for (const key of FIELD_KEYS) {
    if (key in values || key === 'nodeName') continue;
    setValue(values, key, FIELDS[key].default);
    origins[key] = { source: 'default' };
  }
  if (configFile !== '' && origins.readOnlyPort?.source === 'default') {
    // The kubelet's v1beta1 defaulting disables the read-only port for a config file; its flag
    // default (10255) applies only when no file is used.
    values.readOnlyPort = FILE_READ_ONLY_PORT_DEFAULT;
    origins.readOnlyPort = { source: 'default', detail: 'with --config' };
  }
  if (!values.nodeName) {
    values.nodeName = hostnameNodeName(env);
    origins.nodeName = { source: 'default', detail: "the machine's hostname" };
  }

  const config = values as NodeletConfig;
  checkBackOff(config, origins as Record<keyof NodeletConfig, ValueOrigin>);
  Object.freeze(config.staticPodURLHeader);
  for (const list of Object.values(config.staticPodURLHeader)) Object.freeze(list);
  for (const origin of Object.values(origins)) Object.freeze(origin);
  return Object.freeze({
    config: Object.freeze(config),
    origins: Object.freeze(origins as Record<keyof NodeletConfig, ValueOrigin>),
    warnings,
  });
}

function setValue<K extends keyof NodeletConfig>(values: Values, key: K, value: unknown): void {
  values[key] = value as NodeletConfig[K];
}

function applyFlags(flags: readonly FlagOccurrence[], cwd: string, values: Values, origins: Origins): void {
  // Repeatable flags accumulate among themselves but replace the file's value as a whole: the
  // kubelet's ColonSeparatedMultimapStringString starts a fresh map at its first Set.
  const accumulated = new Set<keyof NodeletConfig>();
  for (const { flag, value } of flags) {
    const key = flag.field;
    if (key === undefined) continue;
    const spelling = flagSpelling(flag.name);
    let parsed: unknown;
    try {
      parsed = FIELDS[key].kind.fromFlag(value, cwd);
    } catch (err) {
      throw invalidConfig(`${spelling}: ${reasonOf(err)}`, { flag: spelling }, err);
    }
    if (flag.repeatable && accumulated.has(key)) {
      parsed = appendHeaders(values[key] as Record<string, string[]>, parsed as Record<string, string[]>);
    }
    accumulated.add(key);
    setValue(values, key, parsed);
    origins[key] = { source: 'flag', detail: spelling };
  }
}

function readText(env: ConfigEnv, file: string): string {
  let data: string | Buffer;
  try {
    data = env.readFile(file);
  } catch (err) {
    throw invalidConfig(`config file ${file}: cannot read: ${ioReason(err)}`, { configFile: file }, err);
  }
  return typeof data === 'string' ? data : data.toString('utf8');
}

function listDropIns(env: ConfigEnv, dir: string): string[] {
  let names: string[];
  try {
    names = (env.readDir ?? ((p: string) => readdirSync(p)))(dir);
  } catch (err) {
    throw invalidConfig(`--config-dir ${dir}: cannot read: ${ioReason(err)}`, { flag: '--config-dir' }, err);
  }
  // Lexical (code-unit) order, as Go's filepath.WalkDir. Only the directory itself is read:
  // subdirectories are not descended into (the kubelet's WalkDir does; nobody relies on it).
  return names
    .filter((name) => name.endsWith('.conf') && !name.startsWith('.'))
    .sort(compareStrings)
    .map((name) => path.join(dir, name));
}

// "ENOENT: no such file or directory, open '/x'" → "no such file or directory": the path is
// already in our message.
function ioReason(err: unknown): string {
  const message = reasonOf(err);
  const m = /^E[A-Z]+: (.*?)(, \w+( '.*')?)?$/.exec(message);
  return m ? m[1]! : message;
}

function hostnameNodeName(env: ConfigEnv): string {
  let hostname: string;
  try {
    hostname = env.hostname();
  } catch (err) {
    throw invalidConfig(`cannot read the machine's hostname: ${reasonOf(err)}; set --hostname-override`, {}, err);
  }
  try {
    return normalizeNodeName(hostname);
  } catch (err) {
    throw invalidConfig(`the machine's hostname ${JSON.stringify(hostname)}: ${reasonOf(err)}; set --hostname-override`, {}, err);
  }
}

function checkBackOff(config: NodeletConfig, origins: Record<keyof NodeletConfig, ValueOrigin>): void {
  if (config.crashLoopBackOffInitialMs <= config.crashLoopBackOffMaxMs) return;
  const culprit = origins.crashLoopBackOffInitialMs.source === 'flag' ? 'initial' : 'max';
  const flag = `--crash-loop-backoff-${culprit}`;
  throw invalidConfig(
    `${flag}: the initial back-off ${formatDuration(config.crashLoopBackOffInitialMs)} must not exceed the maximum ${formatDuration(config.crashLoopBackOffMaxMs)}`,
    { flag },
  );
}
