/**
 * The shipped systemd unit (deploy/systemd/nodelet.service), its --config drop-in and the sample
 * config file: systemd's own `systemd-analyze verify` accepts them without a warning, and the
 * ExecStart lines are flags the real nodelet accepts, giving the settings they claim.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BIN, ROOT } from './harness.js';

const UNIT = path.join(ROOT, 'deploy/systemd/nodelet.service');
const DROP_IN = path.join(ROOT, 'deploy/systemd/10-config.conf');
const CONFIG = path.join(ROOT, 'deploy/config.yaml');

function noSystemdAnalyze(): string | undefined {
  if (spawnSync('systemd-analyze', ['--version']).status === 0) return undefined;
  const reason = 'systemd-analyze not installed: apt-get install systemd, as .ci/run does';
  if (process.env.CI === 'true') throw new Error(`CI must verify the systemd unit: ${reason}`);
  return reason;
}

/** The value of the last `ExecStart=` of a unit file: the one systemd runs. */
function execStart(file: string): string {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('ExecStart='));
  return lines.at(-1)!.slice('ExecStart='.length);
}

/** Runs `nodelet config` with an ExecStart's arguments (its `nodelet run` prefix dropped). */
function nodeletConfig(commandLine: string): string {
  const [cmd, sub, ...args] = commandLine.split(/\s+/).filter(Boolean);
  assert.equal(cmd, 'nodelet');
  assert.equal(sub, 'run');
  return execFileSync(process.execPath, [BIN, 'config', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('systemd-analyze verify accepts nodelet.service and its --config drop-in without a warning', (t) => {
  const skip = noSystemdAnalyze();
  if (skip) return t.skip(skip);
  const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // verify checks that ExecStart's program exists: point it at the built nodelet, as `npm install -g`
  // would put it on systemd's search path.
  const wrapper = path.join(dir, 'nodelet');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${process.execPath} ${BIN} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const unit = path.join(dir, 'nodelet.service');
  const copy = (from: string, to: string, edit = (text: string) => text) =>
    writeFileSync(to, edit(readFileSync(from, 'utf8').replace(/^ExecStart=nodelet /gm, `ExecStart=${wrapper} `)));
  copy(UNIT, unit);
  const verify = () => spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8' });

  let r = verify();
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warnings');

  mkdirSync(path.join(dir, 'nodelet.service.d'));
  copy(DROP_IN, path.join(dir, 'nodelet.service.d', '10-config.conf'));
  r = verify();
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warnings');

  // The check can fail: a misspelt key is reported.
  copy(UNIT, unit, (text) => text.replace('KillMode=process', 'KilMode=process'));
  assert.match(verify().stderr, /Unknown key 'KilMode'/);
});

test("nodelet.service's ExecStart is flags nodelet accepts, and the drop-in's reads deploy/config.yaml", () => {
  const flags = nodeletConfig(execStart(UNIT));
  assert.match(flags, /staticPodPath\s+"\/etc\/kubernetes\/manifests"\s+flag --pod-manifest-path/);
  assert.match(flags, /rootDir\s+"\/var\/lib\/kubelet"\s+flag --root-dir/);

  const dropIn = readFileSync(DROP_IN, 'utf8');
  const configArgs = /Environment="NODELET_CONFIG_ARGS=([^"]*)"/.exec(dropIn)?.[1];
  assert.equal(configArgs, '--config=/etc/nodelet/config.yaml');
  const line = execStart(DROP_IN)
    .replace('$NODELET_CONFIG_ARGS', `--config=${CONFIG}`)
    .replace('$NODELET_EXTRA_ARGS', '--hostname-override=node-a');
  const fromFile = nodeletConfig(line);
  assert.match(fromFile, /staticPodPath\s+"\/etc\/kubernetes\/manifests"\s+config file .*deploy\/config\.yaml: staticPodPath/);
  assert.match(fromFile, /nodeName\s+node-a\s+flag --hostname-override/);
});
