// Long-lived responses (watches, followed logs) are counted against one cap per node: each holds a
// poller task or an open file and a connection for as long as the client likes, so without a cap a
// client could open them until the agent runs out of file descriptors.

import type { IncomingMessage, ServerResponse } from 'node:http';

/** Slots for long-lived responses. */
export interface StreamLimiter {
  /**
   * Takes a slot for `res`, given back when the response closes (ended, or the client went); false
   * when every slot is taken. A streaming connection is exempt from the idle timeout: a watch with
   * nothing to report sends nothing, for as long as the client waits.
   */
  acquire(req: IncomingMessage, res: ServerResponse): boolean;
  /** Slots taken. */
  readonly open: number;
  /** Slots in all. */
  readonly max: number;
}

/** Creates a limiter of `max` slots. */
export function createStreamLimiter(max: number): StreamLimiter {
  let open = 0;
  return {
    acquire(req, res) {
      if (open >= max) return false;
      open++;
      let released = false;
      res.once('close', () => {
        if (released) return;
        released = true;
        open--;
      });
      // node restores the idle timeout for the next request on this connection (keep-alive).
      req.socket.setTimeout(0);
      return true;
    },
    get open() {
      return open;
    },
    max,
  };
}
