import { runAsNonRootViolation } from '../../../container/security-context.js';
import { NodeletError } from '../../../errors.js';
import type { ContainerConfig, PodSandboxConfig } from '../../types.js';
import { bwrapArgs, type SandboxNamespaces } from './bwrap-args.js';
import { canonicalCapability } from './capabilities.js';
import { containerIdentity, runsAsRoot, setprivArgs, type Self } from './identity.js';
import { hostProcessMountProblems, sortMounts } from './mounts.js';
import type { IsolationMode, IsolationSupport, IsolationTools } from './tools.js';

/** The descriptor of the bwrap child that carries its JSON status lines. */
export const STATUS_FD = 3;

/** How one container is run, decided when it is created. */
export interface LaunchPlan {
  /** `bwrap`: in a sandbox of its own; `host`: a plain host process (isolation off, or privileged). */
  kind: 'bwrap' | 'host';
  /** What comes before the command and its args: [] for a bare host process. */
  prefix: string[];
  /** The setpriv part of the prefix, which an exec in the container goes through too. */
  identity: string[];
  /** The namespaces the sandbox has of its own (for an exec to enter); all false on the host. */
  namespaces: SandboxNamespaces;
}

/** What {@link planLaunch} decides from. */
export interface LaunchInput {
  config: ContainerConfig;
  sandbox: PodSandboxConfig;
  mode: IsolationMode;
  /** What the runtime found of bwrap (for the message when it is not used). */
  support: IsolationSupport | undefined;
  tools: IsolationTools;
  self: Self;
  /** The capabilities the runtime itself holds: a sandbox can be given no other. */
  ownCapabilities: ReadonlySet<string>;
  passwdGid?: (uid: number) => number | undefined;
}

/**
 * Decides how a container runs and checks that it can run that way. Throws CreateContainerConfigError
 * for what the spec asks and this runtime cannot honour: runAsNonRoot with uid 0, volumes that a host
 * process would not see where the spec says (without a sandbox), a PID namespace shared by the pod's
 * containers (in a sandbox), an identity without setpriv, capabilities unknown or not ours to give.
 */
export function planLaunch(input: LaunchInput): LaunchPlan {
  const { config, sandbox, self } = input;
  const sec = config.security;
  const fail = (msg: string) => new NodeletError('CreateContainerConfigError', msg);
  const pod = config.labels['io.kubernetes.pod.name'] ?? sandbox.name;

  // The process runtime's "image user" is the user it runs as itself.
  const violation = sec && runAsNonRootViolation(sec, String(self.uid), pod, config.name);
  if (violation) throw fail(violation);

  const kind = input.mode === 'bwrap' && input.tools.bwrap && !sec?.privileged ? 'bwrap' : 'host';
  const mounts = config.mounts ?? [];
  if (kind === 'host') {
    const problems = hostProcessMountProblems(mounts);
    if (problems.length > 0) throw fail(`container ${config.name}: ${problems.join('; ')}: ${whyHost(input)}`);
  } else if (sandbox.linux?.namespaces?.pid === 'pod') {
    // Each sandbox is its own PID namespace; silently giving one per container would break what the pod relies on.
    throw fail(
      `container ${config.name}: shareProcessNamespace is not supported in the process runtime's sandboxes (each container has a PID namespace of its own); ` +
        'run the pod with --process-isolation=none (its containers then share the host\'s PID namespace) or on a CRI runtime (--container-runtime-endpoint)',
    );
  }

  const identity = containerIdentity(sec, self, input.passwdGid);
  const root = runsAsRoot(identity, self);
  const caps = root && kind === 'bwrap' ? checkedCapabilities(sec?.capabilities, input.ownCapabilities, config.name) : { drop: [], add: [] };
  // A non-root command holds no capability once setpriv has changed its uid: only the bounding set is left to trim.
  const boundingDrop = root ? [] : checkedCapabilities({ drop: sec?.capabilities.drop ?? [], add: [] }, input.ownCapabilities, config.name).drop;
  let setpriv: string[] = [];
  if (identity || boundingDrop.length > 0 || sec?.noNewPrivs) {
    if (input.tools.setpriv) {
      setpriv = setprivArgs(input.tools.setpriv, { identity, boundingDrop, noNewPrivs: sec?.noNewPrivs ?? false });
    } else if (identity) {
      throw fail(`container ${config.name}: runAsUser, runAsGroup and supplementalGroups need setpriv (util-linux), which was not found in PATH`);
    }
    // Without setpriv (and with no identity to apply), no_new_privs and the bounding set are not enforced.
  }

  if (kind === 'host') return { kind, prefix: setpriv, identity: setpriv, namespaces: { pid: false, ipc: false, uts: false } };

  const ns = sandbox.linux?.namespaces;
  const namespaces = { pid: ns?.pid !== 'node', ipc: ns?.ipc !== 'node', uts: sandbox.hostname !== '' && !sandbox.hostNetwork };
  const bwrap = bwrapArgs({
    bwrap: input.tools.bwrap!,
    namespaces,
    hostname: sandbox.hostname,
    readonlyRoot: sec?.readonlyRootfs ?? false,
    mounts: sortMounts(mounts),
    workingDir: config.workingDir,
    capDrop: caps.drop,
    capAdd: caps.add,
    statusFd: STATUS_FD,
  });
  return { kind, prefix: [...bwrap, ...setpriv], identity: setpriv, namespaces };
}

/** Why a container runs as a plain host process, and what would change that. */
function whyHost(input: LaunchInput): string {
  if (input.config.security?.privileged) {
    return 'a privileged container runs as a plain host process, which sees volumes only where they are on the host, read-write';
  }
  const how = 'the process runtime runs it as a plain host process, which sees volumes only where they are on the host, read-write';
  if (input.support?.available) return `${how} (process isolation is off: --process-isolation=none; with bwrap it would be mounted as asked)`;
  const why = input.support ? `bwrap is not usable here: ${input.support.detail}` : 'bwrap is not in use';
  return `${how} (${why}); bubblewrap would mount it as asked: apt-get install bubblewrap`;
}

function checkedCapabilities(
  caps: { add: string[]; drop: string[] } | undefined,
  own: ReadonlySet<string>,
  container: string,
): { add: string[]; drop: string[] } {
  const canon = (names: string[]) =>
    names.map((n) => {
      const c = canonicalCapability(n);
      if (!c) throw new NodeletError('CreateContainerConfigError', `container ${container}: unknown capability "${n}"`);
      return c;
    });
  const drop = canon(caps?.drop ?? []);
  const add = canon(caps?.add ?? []);
  for (const c of add) {
    if (c !== 'ALL' && !own.has(c)) {
      throw new NodeletError('CreateContainerConfigError', `container ${container}: capability ${c} cannot be added: the runtime supervisor does not hold it`);
    }
  }
  return { drop: [...new Set(drop)], add: [...new Set(add)] };
}

/**
 * The argv of an exec (probe, hook) in a container: through nsenter into its sandbox's namespaces and
 * working directory, then the same setpriv as its command. Throws ExecError without nsenter.
 */
export function execArgv(plan: LaunchPlan, sandboxPid: number, workingDir: string, command: string[], nsenter: string | undefined): string[] {
  if (plan.kind === 'host') return [...plan.identity, ...command];
  if (!nsenter) throw new NodeletError('ExecError', 'cannot exec in a sandboxed container: nsenter (util-linux) was not found in PATH');
  const ns = plan.namespaces;
  return [
    nsenter,
    `--target=${sandboxPid}`,
    '--mount',
    ...(ns.uts ? ['--uts'] : []),
    ...(ns.ipc ? ['--ipc'] : []),
    ...(ns.pid ? ['--pid'] : []),
    // Without a directory: the target's own working directory (the container's default one).
    workingDir ? `--wd=${workingDir}` : '--wd',
    '--',
    ...plan.identity,
    ...command,
  ];
}
