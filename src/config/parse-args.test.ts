import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeletError } from '../errors.js';
import { editDistance, closest } from './did-you-mean.js';
import { RUN_FLAGS, runFlagHelp } from './flags.js';
import { IGNORED_KUBELET_FLAGS } from './kubelet-flags.js';
import { parseArgs } from './parse-args.js';

const pairs = (args: string[]) => parseArgs(args).flags.map(({ flag, value }) => [flag.name, value]);

function throwsInvalid(args: string[], message: string) {
  assert.throws(
    () => parseArgs(args),
    (err: unknown) => {
      assert.ok(err instanceof NodeletError);
      assert.equal(err.code, 'InvalidConfig');
      assert.equal(err.message, message);
      return true;
    },
  );
}

describe('parseArgs', () => {
  it('reads --flag=value and --flag value', () => {
    assert.deepEqual(pairs(['--pod-manifest-path=/a', '--root-dir', '/b']), [
      ['pod-manifest-path', '/a'],
      ['root-dir', '/b'],
    ]);
  });

  it('reads every kubelet spelling of the verbosity', () => {
    for (const args of [['-v=2'], ['-v', '2'], ['-v2'], ['--v=2'], ['--v', '2']]) {
      assert.deepEqual(pairs(args), [['v', '2']], args.join(' '));
    }
  });

  it('reads underscores as dashes, as pflag does for the kubelet', () => {
    assert.deepEqual(pairs(['--pod_manifest_path=/x']), [['pod-manifest-path', '/x']]);
  });

  it('keeps an empty inline value', () => {
    assert.deepEqual(pairs(['--pod-manifest-path=']), [['pod-manifest-path', '']]);
  });

  it('keeps the text after the first = only', () => {
    assert.deepEqual(pairs(['--manifest-url=http://x/?a=b']), [['manifest-url', 'http://x/?a=b']]);
  });

  it('accepts known kubelet flags with one warning each, values or booleans', () => {
    const parsed = parseArgs([
      '--register-node',
      '--register-node=false',
      '--cluster-dns',
      '10.0.0.10',
      '--fail-swap-on=0',
      '--pod-manifest-path=/m',
    ]);
    assert.deepEqual(
      parsed.flags.map((f) => f.flag.name),
      ['pod-manifest-path'],
    );
    assert.equal(parsed.warnings.length, 3);
    assert.match(parsed.warnings[0]!, /^flag --register-node is accepted and ignored by nodelet: /);
    assert.match(parsed.warnings[1]!, /^flag --cluster-dns is accepted and ignored by nodelet: /);
  });

  it('does not let a boolean kubelet flag swallow the next flag', () => {
    assert.deepEqual(pairs(['--register-node', '--v=3']), [['v', '3']]);
  });

  it('suggests the closest flag for a typo', () => {
    throwsInvalid(['--pod-manifest-pat=/x'], 'unknown flag --pod-manifest-pat (did you mean --pod-manifest-path?)');
    throwsInvalid(['--pod-manfiest-path=/x'], 'unknown flag --pod-manfiest-path (did you mean --pod-manifest-path?)');
    throwsInvalid(['--registr-node'], 'unknown flag --registr-node (did you mean --register-node?)');
  });

  it('completes a truncated flag', () => {
    throwsInvalid(['--pod-manifest=/x'], 'unknown flag --pod-manifest (did you mean --pod-manifest-path?)');
  });

  it('points a mistyped shorthand at -v', () => {
    throwsInvalid(['-vv'], 'unknown flag -vv (did you mean -v?)');
  });

  it('says nothing more when no flag is close', () => {
    throwsInvalid(['--frobnicate'], 'unknown flag --frobnicate');
  });

  it('never suggests a hidden flag', () => {
    throwsInvalid(['--crash-loop-backof-max=1s'], 'unknown flag --crash-loop-backof-max');
  });

  it('accepts the hidden test flags', () => {
    assert.deepEqual(pairs(['--crash-loop-backoff-initial=1s']), [['crash-loop-backoff-initial', '1s']]);
  });

  it('explains a single-dash long flag', () => {
    throwsInvalid(
      ['-pod-manifest-path=/x'],
      'unknown flag -pod-manifest-path (did you mean --pod-manifest-path? long flags take two dashes)',
    );
  });

  it('refuses positional arguments', () => {
    throwsInvalid(['/etc/kubernetes/manifests'], 'unexpected argument "/etc/kubernetes/manifests": nodelet run takes only flags');
    throwsInvalid(['--', 'x'], 'unexpected argument "x": nodelet run takes only flags');
  });

  it('explains a boolean followed by a separate value', () => {
    throwsInvalid(
      ['--register-node', 'true'],
      'unexpected argument "true": nodelet run takes only flags (boolean flags take their value after \'=\': --register-node=true)',
    );
  });

  it('refuses a bad boolean', () => {
    throwsInvalid(['--register-node=maybe'], '--register-node: invalid value "maybe": must be true or false');
  });

  it('reports a missing value', () => {
    throwsInvalid(['--pod-manifest-path'], '--pod-manifest-path: missing value');
    throwsInvalid(['--pod-manifest-path', '--v=2'], '--pod-manifest-path: missing value (the next argument "--v=2" is a flag)');
  });

  it('lets a negative number through as a value, for its own validation to judge', () => {
    assert.deepEqual(pairs(['--read-only-port', '-1']), [['read-only-port', '-1']]);
  });

  it('answers --help and -h with the help text', () => {
    for (const flag of ['--help', '-h']) {
      assert.throws(() => parseArgs([flag]), (err: unknown) => err instanceof NodeletError && err.code === 'HelpRequested' && err.message === runFlagHelp);
    }
  });
});

describe('flag tables', () => {
  it('never lists a flag both as used and as ignored', () => {
    for (const flag of RUN_FLAGS) assert.ok(!IGNORED_KUBELET_FLAGS.has(flag.name), flag.name);
  });

  it('shows visible flags and their defaults in help, and hides the test flags', () => {
    assert.match(runFlagHelp, /--pod-manifest-path path +Directory/);
    assert.match(runFlagHelp, /--file-check-frequency duration .*\(default 20s\)/);
    assert.match(runFlagHelp, /--sync-frequency duration .*\(default 1m0s\)/);
    assert.match(runFlagHelp, /--container-log-max-size quantity .*\(default 10Mi\)/);
    assert.match(runFlagHelp, /--address ip .*\(default 127\.0\.0\.1\)/);
    assert.match(runFlagHelp, /-v, --v level/);
    assert.match(runFlagHelp, /--read-only-port port .*\(default 10255, or 0 with --config\)/);
    assert.doesNotMatch(runFlagHelp, /crash-loop/);
  });
});

describe('editDistance', () => {
  it('counts a transposition as one edit', () => {
    assert.equal(editDistance('manfiest', 'manifest'), 1);
    assert.equal(editDistance('abc', 'abc'), 0);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  it('picks nothing that is too far', () => {
    assert.equal(closest('zzz', ['pod-manifest-path']), undefined);
  });
});
