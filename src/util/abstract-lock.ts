import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import path from 'node:path';

/**
 * Takes a node-wide lock named after `key` (a path): a Linux abstract-namespace socket. Binding it is
 * atomic and the kernel releases it when the holder dies, however it dies, so there is no stale lock
 * to clean up and two processes started at once cannot both win (a lock file promises neither).
 * Resolves with the lock (close it to release), or with undefined when another process holds it.
 */
export async function tryAbstractLock(kind: string, key: string): Promise<Server | undefined> {
  const name = `\0nodelet-${kind}:${createHash('sha256').update(path.resolve(key)).digest('hex').slice(0, 32)}`;
  const lock = createServer();
  try {
    await listen(lock, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return undefined;
    throw err;
  }
  lock.unref();
  return lock;
}

/** `server.listen(where)` as a promise: rejects with the listen error (EADDRINUSE…) instead of emitting it. */
export function listen(server: Server, where: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
