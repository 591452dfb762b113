// A container's OOM score on the process runtime. The value is the kubelet's (container/linux-resources.ts
// containerOomScoreAdj, on ContainerConfig.resources as CRI's LinuxContainerResources.oom_score_adj);
// the join wrapper (cgroups/join-argv.ts) writes it before the command runs. This file decides whether
// there is anything to write.

/** What to do about a container's OOM score: write `write`, or nothing; `refused` when the kernel would refuse it. */
export interface OomScorePlan {
  write?: number;
  /** The score is below the inherited one and lowering it needs CAP_SYS_RESOURCE, which we lack. */
  refused?: true;
}

/**
 * Whether a container that should get `wanted` needs it written, given the score its process would
 * inherit (`inherited`, the runtime's own) and whether this process may lower a score (it holds
 * CAP_SYS_RESOURCE).
 *
 * - Nothing wanted, or the inherited score already: nothing to write. With a cgroup the wrapper runs
 *   anyway and the write is one shell builtin, so skipping it saves little; without a cgroup it saves
 *   the wrapper's whole `/bin/sh` exec, the one cost a plain spawn does not pay. Checking costs one
 *   read of /proc/self. (Scores by QoS seldom equal the runtime's 0 or -999, so most containers are
 *   written: the check is there for the ones that do, and for the refused case below.)
 * - Higher than inherited: anyone may raise their own score.
 * - Lower: only with CAP_SYS_RESOURCE (without it the kernel says EACCES, unless the score is no lower
 *   than one a privileged process once set for us, which /proc does not show). Without it the write is
 *   not attempted and the container runs with the inherited score: `refused` says so, for one log line
 *   per pod. runc would fail the container instead; a node that cannot protect a pod still runs it.
 *
 * Unknown `inherited` (no /proc): written, and the wrapper copes with a refusal.
 */
export function oomScorePlan(wanted: number | undefined, inherited: number | undefined, mayLower: boolean): OomScorePlan {
  if (wanted === undefined || wanted === inherited) return {};
  if (inherited === undefined || wanted > inherited || mayLower) return { write: wanted };
  return { refused: true };
}
