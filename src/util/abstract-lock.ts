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
    await new Promise<void>((resolve, reject) => {
      lock.once('error', reject);
      lock.listen(name, () => {
        lock.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return undefined;
    throw err;
  }
  lock.unref();
  return lock;
}
