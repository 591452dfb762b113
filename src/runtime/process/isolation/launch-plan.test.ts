// How a container is launched on the process runtime: the bwrap argv, the setpriv identity, and what
// is refused because it cannot be honoured. Pure: no process is started here (see isolation.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeletError } from '../../../errors.js';
import type { ContainerConfig, ContainerSecurity, Mount, PodSandboxConfig } from '../../types.js';
import { canonicalCapability, ownCapabilities } from './capabilities.js';
import { containerIdentity, hostPasswdGid } from './identity.js';
import { execArgv, planLaunch, type LaunchInput } from './launch-plan.js';
import { hostPathOf, hostProcessMountProblems, sortMounts } from './mounts.js';

const TOOLS = { bwrap: '/usr/bin/bwrap', setpriv: '/usr/bin/setpriv', nsenter: '/usr/bin/nsenter' };
const ALL_CAPS = ownCapabilities('CapEff:\t000001ffffffffff\n');

const sandbox = (over: Partial<PodSandboxConfig> = {}): PodSandboxConfig => ({
  uid: 'u1',
  name: 'web',
  namespace: 'default',
  attempt: 0,
  logDirectory: '/var/log/pods/x',
  hostname: 'web',
  hostNetwork: false,
  labels: {},
  annotations: {},
  ...over,
});

const security = (over: Partial<ContainerSecurity> = {}): ContainerSecurity => ({
  runAsNonRoot: false,
  supplementalGroups: [],
  readonlyRootfs: false,
  privileged: false,
  capabilities: { add: [], drop: [] },
  noNewPrivs: false,
  maskedPaths: [],
  readonlyPaths: [],
  ...over,
});

const mount = (containerPath: string, hostPath: string, readonly = false): Mount => ({ containerPath, hostPath, readonly, propagation: 'private' });

const config = (over: Partial<ContainerConfig> = {}): ContainerConfig => ({
  name: 'main',
  attempt: 0,
  image: 'busybox',
  command: ['sleep', '1000'],
  args: [],
  env: [],
  workingDir: '',
  logPath: 'main/0.log',
  labels: { 'io.kubernetes.pod.name': 'web' },
  annotations: {},
  ...over,
});

const input = (over: Partial<LaunchInput> = {}): LaunchInput => ({
  config: config(),
  sandbox: sandbox(),
  mode: 'bwrap',
  support: { available: true, detail: '/usr/bin/bwrap (bubblewrap 0.8.0)' },
  tools: TOOLS,
  self: { uid: 0, gid: 0 },
  ownCapabilities: ALL_CAPS,
  passwdGid: (uid) => (uid === 1000 ? 1000 : undefined),
  ...over,
});

const refusal = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof NodeletError && err.code === 'CreateContainerConfigError' && message.test(err.message));

describe('the bwrap command line', () => {
  it('gives a container its own pid, IPC, UTS and mount namespaces over the host root, with a fresh /dev and /proc', () => {
    const plan = planLaunch(input());
    assert.equal(plan.kind, 'bwrap');
    assert.deepEqual(plan.prefix, [
      '/usr/bin/bwrap',
      '--die-with-parent',
      '--new-session',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--hostname',
      'web',
      '--bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--json-status-fd',
      '3',
      '--',
    ]);
    assert.deepEqual(plan.namespaces, { pid: true, ipc: true, uts: true });
  });

  it('binds volumes where the spec says, parents first, read-only ones with --ro-bind, after a read-only root', () => {
    const plan = planLaunch(
      input({
        config: config({
          workingDir: '/data',
          mounts: [mount('/data/cache', '/host/cache'), mount('/data', '/host/data', true)],
          security: security({ readonlyRootfs: true }),
        }),
      }),
    );
    const args = plan.prefix.join(' ');
    assert.match(args, /--ro-bind \/ \/ --dev \/dev --proc \/proc --ro-bind \/host\/data \/data --bind \/host\/cache \/data\/cache --chdir \/data /);
  });

  it('shares the host UTS namespace with hostNetwork, and the host pid and IPC namespaces with hostPID and hostIPC', () => {
    const linux = { namespaces: { network: 'node', pid: 'node', ipc: 'node' } as const, supplementalGroups: [], privileged: false, sysctls: {} };
    const plan = planLaunch(input({ sandbox: sandbox({ hostNetwork: true, hostname: '', linux }) }));
    assert.deepEqual(plan.namespaces, { pid: false, ipc: false, uts: false });
    assert.ok(!plan.prefix.includes('--hostname'));
    assert.ok(!plan.prefix.includes('--unshare-pid'));
  });

  it('refuses shareProcessNamespace in a sandbox, naming the ways that honour it; a privileged or host process shares the host\'s', () => {
    const linux = { namespaces: { network: 'pod', pid: 'pod', ipc: 'pod' } as const, supplementalGroups: [], privileged: false, sysctls: {} };
    refusal(() => planLaunch(input({ sandbox: sandbox({ linux }) })), /^container main: shareProcessNamespace is not supported .*--process-isolation=none .*--container-runtime-endpoint/);
    assert.equal(planLaunch(input({ sandbox: sandbox({ linux }), mode: 'none' })).kind, 'host');
    assert.equal(planLaunch(input({ sandbox: sandbox({ linux }), config: config({ security: security({ privileged: true }) }) })).kind, 'host');
  });

  it('drops, then adds, the capabilities of a root container, in the CAP_ spelling bwrap wants', () => {
    const sec = security({ capabilities: { drop: ['ALL'], add: ['net_bind_service', 'CAP_CHOWN'] } });
    const args = planLaunch(input({ config: config({ security: sec }) })).prefix.join(' ');
    assert.match(args, /--cap-drop ALL --cap-add CAP_NET_BIND_SERVICE --cap-add CAP_CHOWN --json-status-fd/);
  });

  it('refuses an unknown capability, and one the runtime does not hold (bwrap would then keep them all)', () => {
    refusal(() => planLaunch(input({ config: config({ security: security({ capabilities: { drop: ['NET_RAWW'], add: [] } }) }) })), /unknown capability "NET_RAWW"/);
    const without = ownCapabilities('CapEff:\t000001fffeffffff\n'); // no SYS_RESOURCE
    refusal(
      () => planLaunch(input({ ownCapabilities: without, config: config({ security: security({ capabilities: { drop: ['ALL'], add: ['SYS_RESOURCE'] } }) }) })),
      /capability SYS_RESOURCE cannot be added/,
    );
  });

  it('runs a privileged container as a plain host process', () => {
    const plan = planLaunch(input({ config: config({ security: security({ privileged: true }) }) }));
    assert.equal(plan.kind, 'host');
    assert.deepEqual(plan.prefix, []);
  });
});

describe('identity', () => {
  it('runs as runAsUser through setpriv, with its passwd group, the supplemental groups, and the bounding set trimmed', () => {
    const sec = security({ runAsUser: 1000, supplementalGroups: [3000], capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] }, noNewPrivs: true });
    const plan = planLaunch(input({ config: config({ security: sec }) }));
    assert.deepEqual(plan.identity, ['/usr/bin/setpriv', '--reuid=1000', '--regid=1000', '--groups=1000,3000', '--bounding-set=-all', '--no-new-privs', '--']);
    // bwrap must leave setpriv the capabilities to change uid: no --cap-drop for a non-root command.
    assert.ok(!plan.prefix.includes('--cap-drop'));
    assert.deepEqual(plan.prefix.slice(plan.prefix.indexOf('--') + 1), plan.identity);
  });

  it('takes gid 0 for a runAsUser without a passwd entry (as containerd), and runAsGroup when given', () => {
    assert.deepEqual(containerIdentity(security({ runAsUser: 4242 }), { uid: 0, gid: 0 }, () => undefined), { uid: 4242, gid: 0, groups: [0] });
    assert.deepEqual(containerIdentity(security({ runAsUser: 4242, runAsGroup: 7 }), { uid: 0, gid: 0 }, () => undefined), { uid: 4242, gid: 7, groups: [7] });
    assert.deepEqual(containerIdentity(security({ supplementalGroups: [5] }), { uid: 0, gid: 0 }), { uid: undefined, gid: undefined, groups: [0, 5] });
    assert.equal(containerIdentity(security(), { uid: 0, gid: 0 }), undefined);
    assert.equal(hostPasswdGid(1000, 'root:x:0:0::/root:/bin/sh\nu:x:1000:1001::/home/u:/bin/sh\n'), 1001);
  });

  it('refuses runAsNonRoot for a container that would run as root', () => {
    refusal(() => planLaunch(input({ config: config({ security: security({ runAsNonRoot: true }) }) })), /runAsNonRoot and image will run as root/);
    refusal(() => planLaunch(input({ config: config({ security: security({ runAsNonRoot: true, runAsUser: 0 }) }) })), /runAsUser breaks non-root policy/);
    assert.equal(planLaunch(input({ config: config({ security: security({ runAsNonRoot: true, runAsUser: 1000 }) }) })).kind, 'bwrap');
    assert.equal(planLaunch(input({ self: { uid: 1000, gid: 1000 }, config: config({ security: security({ runAsNonRoot: true }) }) })).kind, 'bwrap');
  });

  it('refuses an identity without setpriv', () => {
    refusal(() => planLaunch(input({ tools: { bwrap: TOOLS.bwrap }, config: config({ security: security({ runAsUser: 1000 }) }) })), /need setpriv/);
  });
});

describe('without a sandbox', () => {
  it('refuses volumes a host process would not see at their mountPath, saying bwrap would', () => {
    const c = config({ mounts: [mount('/data', '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/data')] });
    refusal(
      () => planLaunch(input({ mode: 'none', support: { available: false, detail: 'bwrap was not found in PATH (apt-get install bubblewrap)' }, config: c })),
      /a volume mounted at \/data is \/var\/lib\/kubelet\/pods\/u1\/volumes\/kubernetes.io~empty-dir\/data on this host.*bubblewrap would mount it as asked: apt-get install bubblewrap/,
    );
    refusal(() => planLaunch(input({ mode: 'none', config: c })), /process isolation is off: --process-isolation=none/);
    refusal(() => planLaunch(input({ mode: 'none', config: config({ mounts: [mount('/etc/app', '/etc/app', true)] }) })), /read-only mount at \/etc\/app cannot be made read-only/);
    refusal(() => planLaunch(input({ config: config({ mounts: c.mounts, security: security({ privileged: true }) }) })), /a privileged container runs as a plain host process/);
  });

  it('runs a host process whose volumes are where the spec says, read-write, as before', () => {
    const plan = planLaunch(input({ mode: 'none', config: config({ mounts: [mount('/var/log/app', '/var/log/app/')] }) }));
    assert.deepEqual(plan, { kind: 'host', prefix: [], identity: [], namespaces: { pid: false, ipc: false, uts: false } });
  });

  it('still applies runAsUser through setpriv', () => {
    const plan = planLaunch(input({ mode: 'none', config: config({ security: security({ runAsUser: 1000, runAsGroup: 1000 }) }) }));
    assert.deepEqual(plan.prefix, ['/usr/bin/setpriv', '--reuid=1000', '--regid=1000', '--groups=1000', '--']);
  });
});

describe('exec in a container', () => {
  it('enters the sandbox namespaces and working directory with nsenter, as the container user', () => {
    const plan = planLaunch(input({ config: config({ security: security({ runAsUser: 1000 }) }) }));
    assert.deepEqual(execArgv(plan, 4242, '/work', ['cat', '/tmp/ready'], TOOLS.nsenter), [
      '/usr/bin/nsenter',
      '--target=4242',
      '--mount',
      '--uts',
      '--ipc',
      '--pid',
      '--wd=/work',
      '--',
      '/usr/bin/setpriv',
      '--reuid=1000',
      '--regid=1000',
      '--groups=1000',
      '--',
      'cat',
      '/tmp/ready',
    ]);
    assert.equal(execArgv(plan, 4242, '', ['true'], TOOLS.nsenter)[6], '--wd');
    assert.deepEqual(execArgv(planLaunch(input({ mode: 'none' })), 1, '', ['true'], undefined), ['true']);
  });
});

describe('mount paths', () => {
  it('orders mounts parents first and sees a path through the deepest mount holding it', () => {
    const mounts = [mount('/a/b', '/h/ab'), mount('/a', '/h/a')];
    assert.deepEqual(
      sortMounts(mounts).map((m) => m.containerPath),
      ['/a', '/a/b'],
    );
    assert.equal(hostPathOf('/a/b/c', mounts), '/h/ab/c');
    assert.equal(hostPathOf('/a/x', mounts), '/h/a/x');
    assert.equal(hostPathOf('/ab', mounts), '/ab');
    assert.equal(hostPathOf('/dev/shm', mounts), undefined);
    assert.deepEqual(hostProcessMountProblems([mount('/x/', '/x'), mount('/y', '/z')]), ['a volume mounted at /y is /z on this host']);
  });

  it('knows capabilities by either spelling', () => {
    assert.equal(canonicalCapability('cap_net_raw'), 'NET_RAW');
    assert.equal(canonicalCapability('all'), 'ALL');
    assert.equal(canonicalCapability('NOPE'), undefined);
    assert.ok(ownCapabilities('CapEff:\t0000000000002001\n').has('NET_RAW'));
  });
});
