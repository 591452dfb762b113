/**
 * The life of one pod worker as an explicit state machine (in the manner of krustlet's pod states):
 * one discriminated union and one table of allowed transitions.
 */
export type WorkerState =
  /** Admitted, but an older pod with the same full name is still terminating. */
  | { kind: 'waiting'; predecessor: Promise<void> }
  /** Converging the pod's containers towards its spec. */
  | { kind: 'syncing' }
  /** Refused at admission (OutOfpods): never started. */
  | { kind: 'rejected'; reason: string; message: string }
  /** Stopping every container with grace. */
  | { kind: 'terminating'; gracePeriodSeconds: number | undefined }
  /** Everything stopped and released; the worker is done. */
  | { kind: 'terminated' };

export type WorkerStateKind = WorkerState['kind'];

/** The allowed transitions: anything else is a bug and throws. */
export const transitions: Readonly<Record<WorkerStateKind, readonly WorkerStateKind[]>> = {
  waiting: ['syncing', 'terminated'],
  syncing: ['terminating'],
  rejected: ['terminated'],
  terminating: ['terminated'],
  terminated: [],
};

/** Compile-time exhaustiveness check for switches over a union. */
export function assertNever(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}
