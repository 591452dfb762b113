import { NodeletError } from '../errors.js';
import { closest } from './did-you-mean.js';
import { FIELDS } from './fields.js';
import { RUN_FLAGS, runFlagHelp, type RunFlag } from './flags.js';
import { invalidConfig } from './invalid.js';
import { IGNORED_KUBELET_FLAGS } from './kubelet-flags.js';
import { parseBool } from './values.js';

// A hand parser rather than commander: the kubelet's syntax is pflag's, and commander does not
// speak it. We need the single-dash `-v=2` / `-v2` form, ~150 kubelet flags accepted and ignored
// with a reason (each knowing whether it takes a value, so `--register-node --v=2` and
// `--cluster-dns 10.0.0.10` both parse), pflag's underscore-to-dash normalisation, one-line errors
// in our own words, and did-you-mean against the whole kubelet vocabulary. The CLI can still use
// commander for the subcommand and hand `run`'s raw arguments here.

/** One flag of `nodelet run` as given on the command line. */
export interface FlagOccurrence {
  readonly flag: RunFlag;
  readonly value: string;
}

/** The command line of `nodelet run`, split into the flags nodelet uses and warnings. */
export interface ParsedArgs {
  /** Flags nodelet acts on, in command-line order (the last one wins unless repeatable). */
  readonly flags: FlagOccurrence[];
  /** One line per ignored kubelet flag. */
  readonly warnings: string[];
}

const RUN_FLAG_BY_NAME: ReadonlyMap<string, RunFlag> = new Map(RUN_FLAGS.map((f) => [f.name, f]));

/** Every flag name a user could have meant: nodelet's visible flags and the kubelet's. */
const SUGGESTIONS: readonly string[] = [
  ...RUN_FLAGS.filter((f) => !f.hidden).map((f) => f.name),
  ...IGNORED_KUBELET_FLAGS.keys(),
  'help',
];

/**
 * Parses the arguments after `nodelet run` with the kubelet's (pflag's) rules: `--flag=value`,
 * `--flag value`, `-v=2`, `-v 2`, `-v2`, booleans as `--flag` or `--flag=false`, `_` read as `-`.
 * Throws NodeletError `InvalidConfig` on an unknown flag (with a did-you-mean), a missing or bad
 * boolean value, or a positional argument; `HelpRequested` (message = the help) on `--help`/`-h`.
 */
export function parseArgs(args: readonly string[]): ParsedArgs {
  const flags: FlagOccurrence[] = [];
  const warnings: string[] = [];
  const warned = new Set<string>();
  let previousBool: string | undefined;

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      if (i + 1 < args.length) throw unexpected(args[i + 1]!);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') throw unexpected(arg, previousBool);
    previousBool = undefined;

    const single = !arg.startsWith('--');
    const body = arg.slice(single ? 1 : 2);
    const eq = body.indexOf('=');
    // pflag normalises word separators with the kubelet's WordSepNormalizeFunc: `_` reads as `-`.
    let name = (eq < 0 ? body : body.slice(0, eq)).replaceAll('_', '-');
    let inline = eq < 0 ? undefined : body.slice(eq + 1);

    if (single) {
      // The only shorthands the kubelet has: -v (klog's go flag, as -v=2, -v 2 or -v2) and -h.
      const attached = /^v(\d+)$/.exec(name);
      if (attached && inline === undefined) {
        name = 'v';
        inline = attached[1];
      } else if (name !== 'v' && name !== 'h') {
        throw unknownShorthand(arg, name);
      }
    }
    if (name === 'help' || name === 'h') throw new NodeletError('HelpRequested', runFlagHelp);

    const spelling = `${single ? '-' : '--'}${name}`;
    const runFlag = RUN_FLAG_BY_NAME.get(name);
    const ignored = runFlag ? undefined : IGNORED_KUBELET_FLAGS.get(name);
    if (!runFlag && !ignored) throw unknownFlag(name);

    let value: string;
    if (runFlag?.field && FIELDS[runFlag.field].kind.arg === 'bool') {
      value = inline ?? 'true';
      if (inline === undefined) previousBool = spelling;
    } else if (ignored && ignored.type !== 'value') {
      value = inline ?? 'true';
      if (ignored.type === 'bool') {
        try {
          parseBool(value);
        } catch (err) {
          throw invalidConfig(`${spelling}: ${(err as Error).message}`, { flag: spelling }, err);
        }
        if (inline === undefined) previousBool = spelling;
      }
    } else if (inline !== undefined) {
      value = inline;
    } else {
      const next = args[i + 1];
      // pflag would take any next argument, even `--v=2`; a missing value is far likelier than a
      // path starting with a dash, so say so. `-1` stays a value (and fails its own validation).
      if (next === undefined || /^--?[A-Za-z_-]/.test(next)) {
        const hint = next === undefined ? '' : ` (the next argument ${JSON.stringify(next)} is a flag)`;
        throw invalidConfig(`${spelling}: missing value${hint}`, { flag: spelling });
      }
      value = next;
      i++;
    }

    if (runFlag) {
      flags.push({ flag: runFlag, value });
    } else if (!warned.has(name)) {
      warned.add(name);
      warnings.push(`flag --${name} is accepted and ignored by nodelet: ${ignored!.why}`);
    }
  }
  return { flags, warnings };
}

function unexpected(arg: string, previousBool?: string): NodeletError {
  const hint =
    previousBool && /^(true|false)$/i.test(arg)
      ? ` (boolean flags take their value after '=': ${previousBool}=${arg})`
      : '';
  return invalidConfig(`unexpected argument ${JSON.stringify(arg)}: nodelet run takes only flags${hint}`, {
    argument: arg,
  });
}

function unknownFlag(name: string): NodeletError {
  const suggestion = closest(name, SUGGESTIONS);
  const hint = suggestion === undefined ? '' : ` (did you mean --${suggestion}?)`;
  return invalidConfig(`unknown flag --${name}${hint}`, { flag: `--${name}` });
}

function unknownShorthand(arg: string, name: string): NodeletError {
  // `-pod-manifest-path=/x` (Go's flag package style): pflag reads it as shorthands and fails.
  const known = RUN_FLAG_BY_NAME.has(name) || IGNORED_KUBELET_FLAGS.has(name) ? name : closest(name, SUGGESTIONS);
  const hint =
    known === undefined ? '' : known === 'v' ? ' (did you mean -v?)' : ` (did you mean --${known}? long flags take two dashes)`;
  return invalidConfig(`unknown flag ${arg.split('=')[0]}${hint}`, { flag: arg.split('=')[0] });
}
