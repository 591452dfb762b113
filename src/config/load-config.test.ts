import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { NodeletError } from '../errors.js';
import { describeConfig, loadConfig, toKubeletConfiguration, type ConfigEnv } from './index.js';
import { FIELD_KEYS } from './fields.js';
import type { NodeletConfig } from './types.js';

/** An environment with an in-memory filesystem. */
function fakeEnv(files: Record<string, string> = {}, hostname = 'Node-1.Example.COM '): ConfigEnv {
  return {
    hostname: () => hostname,
    cwd: '/work',
    readFile(p) {
      if (!Object.hasOwn(files, p)) {
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
      }
      return files[p]!;
    },
    readDir(p) {
      const prefix = `${p}/`;
      const names = Object.keys(files)
        .filter((f) => f.startsWith(prefix) && !f.slice(prefix.length).includes('/'))
        .map((f) => f.slice(prefix.length));
      if (names.length === 0) throw Object.assign(new Error(`ENOENT: no such file or directory, scandir '${p}'`), { code: 'ENOENT' });
      return names;
    },
  };
}

const HEADER = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';

function throwsInvalid(fn: () => unknown, message: string | RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof NodeletError, String(err));
    assert.equal(err.code, 'InvalidConfig');
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('loadConfig defaults', () => {
  it('gives the kubelet defaults (and ours for address) with no arguments', () => {
    const { config, origins, warnings } = loadConfig([], fakeEnv());
    const expected: NodeletConfig = {
      staticPodPath: '',
      fileCheckFrequencyMs: 20_000,
      syncFrequencyMs: 60_000,
      rootDir: '/var/lib/kubelet',
      podLogsDir: '/var/log/pods',
      nodeName: 'node-1.example.com',
      maxPods: 110,
      containerLogMaxSizeBytes: 10 * 1024 * 1024,
      containerLogMaxFiles: 5,
      verbosity: 0,
      loggingFormat: 'text',
      containerRuntimeEndpoint: '',
      kubeconfig: '',
      staticPodURL: '',
      staticPodURLHeader: {},
      nodeStatusUpdateFrequencyMs: 10_000,
      nodeLeaseDurationSeconds: 40,
      httpCheckFrequencyMs: 20_000,
      address: '127.0.0.1',
      readOnlyPort: 10255,
      port: 10250,
      tlsCertFile: '',
      tlsPrivateKeyFile: '',
      tlsMinVersion: 'VersionTLS12',
      clientCAFile: '',
      anonymousAuth: false,
      tokenAuthFile: '',
      crashLoopBackOffInitialMs: 10_000,
      crashLoopBackOffMaxMs: 300_000,
      stopPodsOnExit: false,
      allowInsecureManifests: false,
      processIsolation: 'auto',
      cgroupRoot: '',
      cpuCFSQuota: true,
      oomScoreAdj: -999,
    };
    assert.deepEqual(config, expected);
    assert.deepEqual(warnings, []);
    for (const key of Object.keys(expected)) {
      assert.equal(origins[key as keyof NodeletConfig]?.source, 'default', key);
    }
    assert.equal(origins.nodeName.detail, "the machine's hostname");
  });

  it('freezes the result, deeply', () => {
    const loaded = loadConfig(['--manifest-url=http://x/', '--manifest-url-header=a:b'], fakeEnv());
    assert.ok(Object.isFrozen(loaded));
    assert.ok(Object.isFrozen(loaded.config));
    assert.ok(Object.isFrozen(loaded.origins));
    assert.ok(Object.isFrozen(loaded.config.staticPodURLHeader));
    assert.ok(Object.isFrozen(loaded.config.staticPodURLHeader.a));
    assert.throws(() => {
      (loaded.config as NodeletConfig).maxPods = 1;
    }, TypeError);
  });
});

describe('loadConfig flags', () => {
  it('parses every flag into its field with its origin', () => {
    const { config, origins } = loadConfig(
      [
        '--pod-manifest-path=manifests',
        '--root-dir',
        'state',
        '--pod-logs-dir=/logs',
        '--hostname-override=  MyNode ',
        '--file-check-frequency=5s',
        '--sync-frequency=30s',
        '--max-pods=10',
        '--container-log-max-size=1Mi',
        '--container-log-max-files=2',
        '-v=4',
        '--logging-format=json',
        '--container-runtime-endpoint=unix:///run/containerd/containerd.sock',
        '--kubeconfig=kubeconfig',
        '--manifest-url=https://example.com/pods',
        '--manifest-url-header=Authorization:Bearer x,X-A:1',
        '--manifest-url-header',
        'X-A: 2',
        '--http-check-frequency=1m',
        '--node-status-update-frequency=20s',
        '--address=::1',
        '--read-only-port=0',
        '--port=0',
        '--tls-cert-file=tls/node.crt',
        '--tls-private-key-file=/tls/node.key',
        '--tls-min-version=VersionTLS13',
        '--client-ca-file=/tls/ca.crt',
        '--anonymous-auth',
        '--token-auth-file=tokens.csv',
        '--crash-loop-backoff-initial=100ms',
        '--crash-loop-backoff-max=1s',
        '--stop-pods-on-exit',
        '--allow-insecure-manifests',
        '--process-isolation=none',
        '--cgroup-root=/nodelet.slice/',
        '--cpu-cfs-quota=false',
        '--oom-score-adj=-500',
      ],
      fakeEnv(),
    );
    assert.deepEqual(config, {
      staticPodPath: '/work/manifests',
      rootDir: '/work/state',
      podLogsDir: '/logs',
      nodeName: 'mynode',
      fileCheckFrequencyMs: 5_000,
      syncFrequencyMs: 30_000,
      maxPods: 10,
      containerLogMaxSizeBytes: 1024 * 1024,
      containerLogMaxFiles: 2,
      verbosity: 4,
      loggingFormat: 'json',
      containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
      kubeconfig: '/work/kubeconfig',
      staticPodURL: 'https://example.com/pods',
      staticPodURLHeader: { Authorization: ['Bearer x'], 'X-A': ['1', '2'] },
      nodeStatusUpdateFrequencyMs: 20_000,
      nodeLeaseDurationSeconds: 40,
      httpCheckFrequencyMs: 60_000,
      address: '::1',
      readOnlyPort: 0,
      port: 0,
      tlsCertFile: '/work/tls/node.crt',
      tlsPrivateKeyFile: '/tls/node.key',
      tlsMinVersion: 'VersionTLS13',
      clientCAFile: '/tls/ca.crt',
      anonymousAuth: true,
      tokenAuthFile: '/work/tokens.csv',
      crashLoopBackOffInitialMs: 100,
      crashLoopBackOffMaxMs: 1_000,
      stopPodsOnExit: true,
      allowInsecureManifests: true,
      processIsolation: 'none',
      cgroupRoot: '/nodelet.slice',
      cpuCFSQuota: false,
      oomScoreAdj: -500,
    });
    assert.deepEqual(origins.staticPodPath, { source: 'flag', detail: '--pod-manifest-path' });
    assert.deepEqual(origins.verbosity, { source: 'flag', detail: '-v' });
    assert.deepEqual(origins.nodeName, { source: 'flag', detail: '--hostname-override' });
  });

  it('keeps a header named __proto__ as a plain entry', () => {
    const { config } = loadConfig(['--manifest-url-header=__proto__:x', '--manifest-url-header=__proto__:y'], fakeEnv());
    assert.deepEqual(Object.entries(config.staticPodURLHeader), [['__proto__', ['x', 'y']]]);
  });

  it('lets the last occurrence of a flag win', () => {
    assert.equal(loadConfig(['--max-pods=5', '--max-pods=7'], fakeEnv()).config.maxPods, 7);
  });

  it('uses the hostname when --hostname-override is empty', () => {
    assert.equal(loadConfig(['--hostname-override='], fakeEnv()).config.nodeName, 'node-1.example.com');
  });

  it('parses the kubelet.service line of a kubeadm-era node, with warnings', () => {
    const line =
      '--container-runtime=remote --container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-manifest-path=/etc/kubernetes/manifests --kubeconfig=/var/lib/kubelet/kubeconfig --network-plugin=cni --register-node=true --v=2';
    const { config, warnings, origins } = loadConfig(line.split(' '), fakeEnv());
    assert.equal(config.containerRuntimeEndpoint, 'unix:///var/run/containerd/containerd.sock');
    assert.equal(config.staticPodPath, '/etc/kubernetes/manifests');
    assert.equal(config.kubeconfig, '/var/lib/kubelet/kubeconfig');
    assert.equal(config.verbosity, 2);
    assert.equal(config.readOnlyPort, 10255);
    assert.equal(origins.kubeconfig.source, 'flag');
    assert.equal(warnings.length, 3);
    assert.match(warnings[0]!, /^flag --container-runtime is accepted and ignored by nodelet: removed from the kubelet in 1\.27/);
    assert.match(warnings[1]!, /^flag --network-plugin is accepted and ignored by nodelet: /);
    assert.match(warnings[2]!, /^flag --register-node is accepted and ignored by nodelet: /);
  });

  const flagErrors: [string[], string | RegExp][] = [
    [['--file-check-frequency=-5s'], '--file-check-frequency: invalid duration "-5s": must not be negative'],
    [['--sync-frequency=soon'], '--sync-frequency: invalid duration "soon"'],
    [['--http-check-frequency=0'], '--http-check-frequency: invalid duration "0": must be greater than 0'],
    [['--file-check-frequency=20'], '--file-check-frequency: invalid duration "20": missing unit (for example "20s")'],
    [['--max-pods=0'], '--max-pods: invalid value "0": must be at least 1'],
    [['--max-pods=many'], '--max-pods: invalid value "many": must be an integer'],
    [['--max-pods=99999999999'], '--max-pods: invalid value "99999999999": must be at most 2147483647'],
    [['--container-log-max-files=1'], '--container-log-max-files: invalid value "1": must be at least 2'],
    [['--container-log-max-size=10MB'], /^--container-log-max-size: invalid quantity "10MB": expected a number/],
    [['--container-log-max-size=0'], '--container-log-max-size: invalid quantity "0": must be greater than 0'],
    [['--read-only-port=65536'], '--read-only-port: invalid value "65536": must be between 0 and 65535'],
    [['--read-only-port', '-1'], '--read-only-port: invalid value "-1": must be between 0 and 65535'],
    [['--logging-format=xml'], '--logging-format: invalid value "xml": must be text or json'],
    [['-v=-1'], '-v: invalid value "-1": must not be negative'],
    [['--oom-score-adj=-1001'], '--oom-score-adj: invalid value "-1001": must be between -1000 and 1000'],
    [['--address=localhost'], '--address: invalid IP address "localhost"'],
    [['--manifest-url=ftp://x/'], '--manifest-url: invalid URL "ftp://x/": must be http or https'],
    [['--manifest-url=not a url'], '--manifest-url: invalid URL "not a url"'],
    [['--manifest-url-header=novalue'], '--manifest-url-header: malformed pair "novalue": expected name:value'],
    [['--manifest-url-header=bad name:x'], '--manifest-url-header: invalid header name "bad name"'],
    [['--root-dir='], '--root-dir: must not be empty'],
    [['--hostname-override=my_host'], /^--hostname-override: invalid node name "my_host": must be lowercase/],
    [['--crash-loop-backoff-initial=10m'], '--crash-loop-backoff-initial: the initial back-off 10m0s must not exceed the maximum 5m0s'],
    [['--crash-loop-backoff-max=1s'], '--crash-loop-backoff-max: the initial back-off 10s must not exceed the maximum 1s'],
    [['positional'], 'unexpected argument "positional": nodelet run takes only flags'],
    [['--pod-manifest-pat=/x'], 'unknown flag --pod-manifest-pat (did you mean --pod-manifest-path?)'],
  ];
  for (const [args, message] of flagErrors) {
    it(`rejects ${args.join(' ')} naming the flag`, () => throwsInvalid(() => loadConfig(args, fakeEnv()), message));
  }

  it("rejects a machine hostname that cannot be a node name, pointing at --hostname-override", () => {
    throwsInvalid(() => loadConfig([], fakeEnv({}, 'bad_host')), /^the machine's hostname "bad_host": invalid node name .*; set --hostname-override$/);
    throwsInvalid(() => loadConfig([], fakeEnv({}, '  ')), /^the machine's hostname "  ": empty node name is invalid; set --hostname-override$/);
  });
});

describe('loadConfig with --config', () => {
  const file = '/etc/kubernetes/kubelet.yaml';

  it('reads the supported fields, resolving relative paths against the file', () => {
    const yaml = `${HEADER}staticPodPath: manifests
fileCheckFrequency: 5s
syncFrequency: 2m
podLogsDir: ../logs
containerLogMaxSize: 5Mi
containerLogMaxFiles: 3
maxPods: 50
staticPodURL: http://pods.example/
staticPodURLHeader:
  Authorization: ["Bearer t"]
httpCheckFrequency: 40s
address: 0.0.0.0
readOnlyPort: 10255
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
logging:
  format: json
  verbosity: 3
`;
    const { config, origins, warnings } = loadConfig([`--config=${file}`], fakeEnv({ [file]: yaml }));
    assert.deepEqual(warnings, []);
    assert.equal(config.staticPodPath, '/etc/kubernetes/manifests');
    assert.equal(config.podLogsDir, '/etc/logs');
    assert.equal(config.fileCheckFrequencyMs, 5_000);
    assert.equal(config.syncFrequencyMs, 120_000);
    assert.equal(config.containerLogMaxSizeBytes, 5 * 1024 * 1024);
    assert.equal(config.containerLogMaxFiles, 3);
    assert.equal(config.maxPods, 50);
    assert.equal(config.staticPodURL, 'http://pods.example/');
    assert.deepEqual(config.staticPodURLHeader, { Authorization: ['Bearer t'] });
    assert.equal(config.httpCheckFrequencyMs, 40_000);
    assert.equal(config.address, '0.0.0.0');
    assert.equal(config.readOnlyPort, 10255);
    assert.equal(config.containerRuntimeEndpoint, 'unix:///run/containerd/containerd.sock');
    assert.equal(config.loggingFormat, 'json');
    assert.equal(config.verbosity, 3);
    assert.deepEqual(origins.staticPodPath, { source: 'config-file', detail: `${file}: staticPodPath` });
    assert.deepEqual(origins.loggingFormat, { source: 'config-file', detail: `${file}: logging.format` });
    assert.equal(origins.rootDir.source, 'default');
  });

  it('resolves a relative --config against the working directory', () => {
    const { origins } = loadConfig(['--config', 'k.json'], fakeEnv({ '/work/k.json': JSON.stringify({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', maxPods: 3 }) }));
    assert.deepEqual(origins.maxPods, { source: 'config-file', detail: '/work/k.json: maxPods' });
  });

  it('lets explicit flags override the file, wherever they stand on the line', () => {
    const yaml = `${HEADER}staticPodPath: /from/file\nmaxPods: 50\nstaticPodURLHeader: {A: ["1"], B: ["2"]}\n`;
    const { config, origins } = loadConfig(
      ['--pod-manifest-path=/from/flag', `--config=${file}`, '--manifest-url-header=C:3'],
      fakeEnv({ [file]: yaml }),
    );
    assert.equal(config.staticPodPath, '/from/flag');
    assert.equal(origins.staticPodPath.source, 'flag');
    assert.equal(config.maxPods, 50);
    assert.equal(origins.maxPods.source, 'config-file');
    // A header flag replaces the file's map, as the kubelet's flag re-parse does.
    assert.deepEqual(config.staticPodURLHeader, { C: ['3'] });
  });

  it('disables the read-only port by default when a config file is used', () => {
    const { config, origins } = loadConfig([`--config=${file}`], fakeEnv({ [file]: HEADER }));
    assert.equal(config.readOnlyPort, 0);
    assert.deepEqual(origins.readOnlyPort, { source: 'default', detail: 'with --config' });
    const explicit = loadConfig([`--config=${file}`, '--read-only-port=10255'], fakeEnv({ [file]: HEADER }));
    assert.equal(explicit.config.readOnlyPort, 10255);
  });

  it('ignores an empty --config, as the kubelet does', () => {
    assert.equal(loadConfig(['--config='], fakeEnv()).config.readOnlyPort, 10255);
  });

  it('warns once for each real kubelet field it ignores and each unknown field', () => {
    const yaml = `${HEADER}authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ca.crt, other: 1}
authorization: {mode: Webhook}
clusterDNS: [10.96.0.10]
cgroupDriver: systemd
foo: 1
logging:
  format: text
  flushFrequency: 5s
  bar: {baz: 1}
`;
    const { warnings } = loadConfig([`--config=${file}`], fakeEnv({ [file]: yaml }));
    assert.deepEqual(warnings, [
      `config file ${file}: field authentication.webhook is accepted and ignored by nodelet`,
      `config file ${file}: unknown field "authentication.x509.other"`,
      `config file ${file}: field authorization is accepted and ignored by nodelet`,
      `config file ${file}: field clusterDNS is accepted and ignored by nodelet`,
      `config file ${file}: field cgroupDriver is accepted and ignored by nodelet`,
      `config file ${file}: unknown field "foo"`,
      `config file ${file}: field logging.flushFrequency is accepted and ignored by nodelet`,
      `config file ${file}: unknown field "logging.bar"`,
    ]);
  });

  it('does not accept rootDir from a file: it is a flag only, as in the kubelet', () => {
    const { config, warnings } = loadConfig([`--config=${file}`], fakeEnv({ [file]: `${HEADER}rootDir: /x\n` }));
    assert.equal(config.rootDir, '/var/lib/kubelet');
    assert.deepEqual(warnings, [`config file ${file}: unknown field "rootDir"`]);
  });

  it('reads JSON', () => {
    const json = JSON.stringify({ kind: 'KubeletConfiguration', apiVersion: 'kubelet.config.k8s.io/v1beta1', staticPodPath: '/m' });
    assert.equal(loadConfig([`--config=${file}`], fakeEnv({ [file]: json })).config.staticPodPath, '/m');
  });

  const fileErrors: [string | undefined, string | RegExp][] = [
    [undefined, `config file ${file}: cannot read: no such file or directory`],
    ['', `config file ${file}: is empty, expected a KubeletConfiguration`],
    ['- a\n- b\n', `config file ${file}: expected a KubeletConfiguration object`],
    ['kind: KubeletConfiguration\napiVersion: [\n', /^config file \/etc\/kubernetes\/kubelet\.yaml:\d+:\d+: invalid YAML: /],
    ['kind: KubeletConfiguration\nkind: KubeletConfiguration\n', `config file ${file}:2:1: invalid YAML: Map keys must be unique`],
    ['apiVersion: v1\nkind: Pod\n', `config file ${file}: kind is "Pod", expected KubeletConfiguration`],
    ['apiVersion: kubelet.config.k8s.io/v1beta1\n', `config file ${file}: kind is missing, expected KubeletConfiguration`],
    ['apiVersion: kubelet.config.k8s.io/v1alpha1\nkind: KubeletConfiguration\n', `config file ${file}: apiVersion is "kubelet.config.k8s.io/v1alpha1", expected kubelet.config.k8s.io/v1beta1`],
    [`${HEADER}fileCheckFrequency: -5s\n`, `config file ${file}:3:21: fileCheckFrequency: invalid duration "-5s": must not be negative`],
    [`${HEADER}fileCheckFrequency: 20\n`, `config file ${file}:3:21: fileCheckFrequency: must be a duration string such as "20s", got number 20`],
    [`${HEADER}maxPods: 0\n`, `config file ${file}:3:10: maxPods: invalid value 0: must be at least 1`],
    [`${HEADER}maxPods: "110"\n`, `config file ${file}:3:10: maxPods: must be an integer, got string "110"`],
    [`${HEADER}containerLogMaxFiles: 1\n`, `config file ${file}:3:23: containerLogMaxFiles: invalid value 1: must be at least 2`],
    [`${HEADER}oomScoreAdj: 1001\n`, `config file ${file}:3:14: oomScoreAdj: invalid value 1001: must be between -1000 and 1000`],
    [`${HEADER}containerLogMaxSize: lots\n`, /^config file \/etc\/kubernetes\/kubelet\.yaml:3:22: containerLogMaxSize: invalid quantity "lots"/],
    [`${HEADER}readOnlyPort: 70000\n`, `config file ${file}:3:15: readOnlyPort: invalid value 70000: must be between 0 and 65535`],
    [`${HEADER}logging:\n  format: xml\n`, `config file ${file}:4:11: logging.format: invalid value "xml": must be text or json`],
    [`${HEADER}logging: text\n`, `config file ${file}:3:10: logging: must be a map`],
    [`${HEADER}staticPodPath: 5\n`, `config file ${file}:3:16: staticPodPath: must be a string, got number 5`],
    [`${HEADER}staticPodURLHeader: {A: x}\n`, `config file ${file}:3:21: staticPodURLHeader: header "A": must be a list of strings, got string "x"`],
    [`${HEADER}address: nowhere\n`, `config file ${file}:3:10: address: invalid IP address "nowhere"`],
  ];
  for (const [text, message] of fileErrors) {
    it(`rejects ${text === undefined ? 'a missing file' : JSON.stringify(text.replace(HEADER, '<header>'))} naming the file and field`, () => {
      const files: Record<string, string> = text === undefined ? {} : { [file]: text };
      throwsInvalid(() => loadConfig([`--config=${file}`], fakeEnv(files)), message);
    });
  }

  it('keeps the file and field in the error details', () => {
    try {
      loadConfig([`--config=${file}`], fakeEnv({ [file]: `${HEADER}maxPods: 0\n` }));
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof NodeletError);
      assert.deepEqual(err.details, { configFile: file, field: 'maxPods', line: 3, column: 10 });
      // No `file` detail: `located` must not repeat the path the message already names.
      assert.equal(err.located, err.message);
    }
  });
});

describe('loadConfig with --config-dir', () => {
  const file = '/etc/kubelet.yaml';
  const dir = '/etc/kubelet.conf.d';

  it('merges *.conf drop-ins in lexical order over the file, below the flags', () => {
    const env = fakeEnv({
      [file]: `${HEADER}maxPods: 10\nsyncFrequency: 2m\nstaticPodURLHeader: {A: ["1"]}\nfileCheckFrequency: 7s\n`,
      [`${dir}/20-b.conf`]: `${HEADER}maxPods: 30\nstaticPodPath: manifests\n`,
      [`${dir}/10-a.conf`]: `${HEADER}maxPods: 20\nsyncFrequency: 3m\nstaticPodURLHeader: {B: ["2"]}\nfileCheckFrequency: null\n`,
      [`${dir}/30-c.conf.bak`]: `${HEADER}maxPods: 99\n`,
    });
    const { config, origins } = loadConfig([`--config=${file}`, `--config-dir=${dir}`, '--sync-frequency=4m'], env);
    assert.equal(config.maxPods, 30);
    assert.deepEqual(origins.maxPods, { source: 'config-dir', detail: `${dir}/20-b.conf: maxPods` });
    assert.equal(config.staticPodPath, `${dir}/manifests`);
    assert.equal(config.syncFrequencyMs, 240_000);
    assert.equal(origins.syncFrequencyMs.source, 'flag');
    assert.deepEqual(config.staticPodURLHeader, { A: ['1'], B: ['2'] });
    // null in a drop-in clears the field back to its default (JSON merge patch).
    assert.equal(config.fileCheckFrequencyMs, 20_000);
    assert.equal(origins.fileCheckFrequencyMs.source, 'default');
  });

  it('reports an unreadable directory', () => {
    throwsInvalid(() => loadConfig([`--config-dir=/nope`], fakeEnv()), '--config-dir /nope: cannot read: no such file or directory');
  });
});

describe('loadConfig on a real filesystem', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'nodelet-config-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('reads a config file and drop-ins from disk with relative paths', () => {
    mkdirSync(path.join(tmp, 'etc', 'conf.d'), { recursive: true });
    writeFileSync(path.join(tmp, 'etc', 'kubelet.yaml'), `${HEADER}staticPodPath: manifests\n`);
    writeFileSync(path.join(tmp, 'etc', 'conf.d', '10.conf'), `${HEADER}podLogsDir: logs\n`);
    const { config } = loadConfig(['--config=etc/kubelet.yaml', '--config-dir=etc/conf.d', '--root-dir=state'], {
      hostname: os.hostname,
      readFile: (p) => readFileSync(p),
      readDir: (p) => readdirSync(p),
      cwd: tmp,
    });
    assert.equal(config.staticPodPath, path.join(tmp, 'etc', 'manifests'));
    assert.equal(config.podLogsDir, path.join(tmp, 'etc', 'conf.d', 'logs'));
    assert.equal(config.rootDir, path.join(tmp, 'state'));
  });

  it('names a directory given as the config file', () => {
    throwsInvalid(
      () => loadConfig([`--config=${tmp}`], { hostname: () => 'h', readFile: (p) => readFileSync(p), cwd: '/' }),
      `config file ${tmp}: cannot read: illegal operation on a directory`,
    );
  });
});

describe('describeConfig', () => {
  it('shows each field with its value and origin', () => {
    const file = '/etc/kubelet.yaml';
    const loaded = loadConfig(
      [`--config=${file}`, '--pod-manifest-path=/m', '--manifest-url-header=Authorization:Bearer secret'],
      fakeEnv({ [file]: `${HEADER}maxPods: 20\n` }),
    );
    const table = describeConfig(loaded);
    const lines = table.trimEnd().split('\n');
    assert.match(lines[0]!, /^FIELD +VALUE +ORIGIN$/);
    // A header line, then one row per field.
    assert.equal(lines.length, 1 + FIELD_KEYS.length);
    assert.match(table, /^staticPodPath +"\/m" +flag --pod-manifest-path$/m);
    assert.match(table, /^maxPods +20 +config file \/etc\/kubelet\.yaml: maxPods$/m);
    assert.match(table, /^fileCheckFrequency +20s +default$/m);
    assert.match(table, /^containerLogMaxSize +10Mi +default$/m);
    assert.match(table, /^readOnlyPort +0 +default \(with --config\)$/m);
    assert.match(table, /^nodeName +node-1\.example\.com +default \(the machine's hostname\)$/m);
    assert.match(table, /^staticPodURLHeader +Authorization: <hidden> +flag --manifest-url-header$/m);
    assert.doesNotMatch(table, /secret/);
    assert.ok(table.endsWith('\n'));
  });
});

describe('toKubeletConfiguration', () => {
  it('writes the kubelet v1beta1 shape', () => {
    const { config } = loadConfig(
      ['--pod-manifest-path=/etc/kubernetes/manifests', '--manifest-url-header=A:1', '--manifest-url=http://x/'],
      fakeEnv(),
    );
    assert.deepEqual(toKubeletConfiguration(config), {
      kind: 'KubeletConfiguration',
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      staticPodPath: '/etc/kubernetes/manifests',
      podLogsDir: '/var/log/pods',
      syncFrequency: '1m0s',
      fileCheckFrequency: '20s',
      httpCheckFrequency: '20s',
      nodeStatusUpdateFrequency: '10s',
      nodeLeaseDurationSeconds: 40,
      staticPodURL: 'http://x/',
      staticPodURLHeader: { A: ['1'] },
      address: '127.0.0.1',
      readOnlyPort: 10255,
      port: 10250,
      tlsMinVersion: 'VersionTLS12',
      authentication: { x509: {}, anonymous: { enabled: false } },
      maxPods: 110,
      containerLogMaxSize: '10Mi',
      containerLogMaxFiles: 5,
      logging: { format: 'text', verbosity: 0 },
      containerRuntimeEndpoint: '',
      cpuCFSQuota: true,
      oomScoreAdj: -999,
    });
  });

  it('round-trips through a config file', () => {
    const { config } = loadConfig(['--pod-manifest-path=/m', '--sync-frequency=90s', '--max-pods=7'], fakeEnv());
    const file = '/k.json';
    const again = loadConfig([`--config=${file}`], fakeEnv({ [file]: JSON.stringify(toKubeletConfiguration(config)) }));
    assert.deepEqual(again.warnings, []);
    assert.deepEqual(again.config, config);
  });
});

describe('the authenticated port', () => {
  it('reads port, TLS and authentication from a file (relative paths against the file) and from the kubelet flags', () => {
    const file = '/etc/k/k.yaml';
    const yaml = `${HEADER}port: 11250
tlsCertFile: pki/node.crt
tlsPrivateKeyFile: /pki/node.key
tlsMinVersion: VersionTLS13
tokenAuthFile: tokens.csv
authentication:
  x509:
    clientCAFile: ca.crt
  anonymous:
    enabled: true
`;
    const { config, origins, warnings } = loadConfig([`--config=${file}`], fakeEnv({ [file]: yaml }));
    assert.deepEqual(warnings, []);
    assert.equal(config.port, 11250);
    assert.equal(config.tlsCertFile, '/etc/k/pki/node.crt');
    assert.equal(config.tlsPrivateKeyFile, '/pki/node.key');
    assert.equal(config.tlsMinVersion, 'VersionTLS13');
    assert.equal(config.tokenAuthFile, '/etc/k/tokens.csv');
    assert.equal(config.clientCAFile, '/etc/k/ca.crt');
    assert.equal(config.anonymousAuth, true);
    assert.deepEqual(origins.clientCAFile, { source: 'config-file', detail: `${file}: authentication.x509.clientCAFile` });
    assert.match(describeConfig({ config, origins, warnings }), /authentication\.anonymous\.enabled\s+true\s+config file \/etc\/k\/k\.yaml: authentication\.anonymous\.enabled/);
    assert.deepEqual(toKubeletConfiguration(config).authentication, { x509: { clientCAFile: '/etc/k/ca.crt' }, anonymous: { enabled: true } });
    const flags = loadConfig(['--port=10251', '--anonymous-auth=false', '--client-ca-file='], fakeEnv());
    assert.deepEqual(flags.warnings, []);
    assert.equal(flags.config.port, 10251);
    assert.equal(flags.config.anonymousAuth, false);
    assert.deepEqual(flags.origins.port, { source: 'flag', detail: '--port' });
  });

  it('keeps port at 10250 with a config file, where the read-only port goes off', () => {
    const file = '/k.yaml';
    const { config } = loadConfig([`--config=${file}`], fakeEnv({ [file]: HEADER }));
    assert.equal(config.port, 10250);
    assert.equal(config.readOnlyPort, 0);
  });

  it('refuses a bad port or TLS version, and still ignores the webhook and authorization flags with a reason', () => {
    assert.throws(() => loadConfig(['--port=70000'], fakeEnv()), /--port: invalid value "70000": must be between 0 and 65535/);
    assert.throws(() => loadConfig(['--tls-min-version=VersionTLS11'], fakeEnv()), /VersionTLS11 is not supported: must be VersionTLS12 or VersionTLS13/);
    assert.throws(() => loadConfig(['--tls-min-version=1.2'], fakeEnv()), /must be VersionTLS12 or VersionTLS13/);
    const { warnings } = loadConfig(['--authorization-mode=Webhook', '--authentication-token-webhook', '--tls-cipher-suites=x'], fakeEnv());
    assert.equal(warnings.length, 3);
    assert.match(warnings[0]!, /--authorization-mode is accepted and ignored by nodelet: .*AlwaysAllow/);
    assert.match(warnings[1]!, /--authentication-token-webhook is accepted and ignored by nodelet: .*--token-auth-file/);
  });
});

describe('boolean run flags', () => {
  it('reads --stop-pods-on-exit as true, =false as false, and the config file field', () => {
    assert.equal(loadConfig(['--stop-pods-on-exit'], fakeEnv()).config.stopPodsOnExit, true);
    assert.equal(loadConfig(['--stop-pods-on-exit=false'], fakeEnv()).config.stopPodsOnExit, false);
    assert.equal(loadConfig([], fakeEnv()).config.stopPodsOnExit, false);
  });

  it('reads --allow-insecure-manifests and the allowInsecureManifests field, with their origins', () => {
    assert.equal(loadConfig([], fakeEnv()).config.allowInsecureManifests, false);
    const flag = loadConfig(['--allow-insecure-manifests'], fakeEnv());
    assert.equal(flag.config.allowInsecureManifests, true);
    assert.deepEqual(flag.origins.allowInsecureManifests, { source: 'flag', detail: '--allow-insecure-manifests' });
    const file = '/k.yaml';
    const fromFile = loadConfig([`--config=${file}`], fakeEnv({ [file]: `${HEADER}allowInsecureManifests: true\n` }));
    assert.deepEqual(fromFile.warnings, []);
    assert.equal(fromFile.config.allowInsecureManifests, true);
    assert.deepEqual(fromFile.origins.allowInsecureManifests, { source: 'config-file', detail: `${file}: allowInsecureManifests` });
    assert.match(describeConfig(fromFile), /allowInsecureManifests\s+true\s+config file \/k\.yaml: allowInsecureManifests/);
  });

  it('reads --process-isolation and the processIsolation field (auto by default), refusing other modes', () => {
    assert.equal(loadConfig([], fakeEnv()).config.processIsolation, 'auto');
    const flag = loadConfig(['--process-isolation=bwrap'], fakeEnv());
    assert.equal(flag.config.processIsolation, 'bwrap');
    assert.deepEqual(flag.origins.processIsolation, { source: 'flag', detail: '--process-isolation' });
    const file = '/k.yaml';
    const fromFile = loadConfig([`--config=${file}`], fakeEnv({ [file]: `${HEADER}processIsolation: none\n` }));
    assert.deepEqual(fromFile.warnings, []);
    assert.equal(fromFile.config.processIsolation, 'none');
    assert.throws(() => loadConfig(['--process-isolation=docker'], fakeEnv()), /must be auto, bwrap or none/);
  });

  it('reads --cgroup-root and --cpu-cfs-quota (the kubelet’s cgroupRoot and cpuCFSQuota), no longer ignored', () => {
    const flags = loadConfig(['--cgroup-root=/', '--cpu-cfs-quota=false'], fakeEnv());
    assert.deepEqual(flags.warnings, []);
    assert.equal(flags.config.cgroupRoot, '/');
    assert.equal(flags.config.cpuCFSQuota, false);
    const file = '/k.yaml';
    const fromFile = loadConfig([`--config=${file}`], fakeEnv({ [file]: `${HEADER}cgroupRoot: /pods//x\ncpuCFSQuota: false\n` }));
    assert.deepEqual(fromFile.warnings, []);
    assert.equal(fromFile.config.cgroupRoot, '/pods/x');
    assert.equal(fromFile.config.cpuCFSQuota, false);
    assert.deepEqual(toKubeletConfiguration(fromFile.config).cgroupRoot, '/pods/x');
    assert.throws(() => loadConfig(['--cgroup-root=pods'], fakeEnv()), /must be an absolute cgroup path/);
    assert.throws(() => loadConfig(['--cgroup-root=/a/../b'], fakeEnv()), /without \. or \.\./);
  });

  it('refuses a boolean flag followed by a separate value, saying how to write it', () => {
    assert.throws(() => loadConfig(['--stop-pods-on-exit', 'true'], fakeEnv()), /--stop-pods-on-exit=true/);
    assert.throws(() => loadConfig(['--stop-pods-on-exit=maybe'], fakeEnv()), /must be true or false/);
  });
});
