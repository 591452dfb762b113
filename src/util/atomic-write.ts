import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';

/**
 * Replaces `path` with `data` so that a reader (or a restart after kill -9) sees either the old content
 * or the new, never half of it: write a temp file beside it, rename over. With `durable` the temp file
 * is fsynced first, so a power loss cannot leave an empty file either; without it a crash of the
 * process is still safe (the page cache outlives it) and the write costs no disk flush.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: { durable?: boolean } = { durable: true }): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(data);
      if (opts.durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
