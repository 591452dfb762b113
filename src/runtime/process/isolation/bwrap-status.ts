import type { Readable } from 'node:stream';
import { jsonLines } from '../supervisor/protocol.js';

/** What bwrap reported on its `--json-status-fd`. */
export interface BwrapStatus {
  /**
   * Resolves with the host pid of the sandbox's first process (bwrap's init, pid 1 inside, leader of
   * the sandbox's process group), or undefined when bwrap ended before creating it.
   */
  childPid: Promise<number | undefined>;
  /**
   * Resolves once the stream has ended: with the command's exit status when it ran, or undefined when
   * the sandbox failed before the command was exec'd (bwrap writes `exit-code` only after a successful
   * set-up, so its absence tells a bwrap error from a command exiting 1).
   */
  exitCode: Promise<number | undefined>;
}

/** Reads bwrap's JSON status lines from `stream`; unknown members and lines are ignored, as its manual asks. */
export function readBwrapStatus(stream: Readable): BwrapStatus {
  let resolvePid!: (pid: number | undefined) => void;
  let resolveExit!: (code: number | undefined) => void;
  const childPid = new Promise<number | undefined>((r) => (resolvePid = r));
  const exitCode = new Promise<number | undefined>((r) => (resolveExit = r));
  let exit: number | undefined;
  stream.on(
    'data',
    jsonLines(
      (msg) => {
        const m = msg as Record<string, unknown>;
        if (typeof m['child-pid'] === 'number') resolvePid(m['child-pid']);
        if (typeof m['exit-code'] === 'number') exit = m['exit-code'];
      },
      () => undefined,
    ),
  );
  const end = () => {
    resolvePid(undefined);
    resolveExit(exit);
  };
  stream.once('end', end);
  stream.once('close', end);
  stream.once('error', end);
  return { childPid, exitCode };
}
