import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, NodeletError } from '../errors.js';

/**
 * Checks (or creates) a hostPath volume according to its type (pkg/volume/hostpath/host_path.go
 * checkType). An empty type checks nothing: the path is mounted as it is, or created by the runtime.
 */
export async function checkHostPath(volume: string, hostPath: string, type: string): Promise<void> {
  const fail = (what: string) =>
    new NodeletError('FailedMount', `MountVolume.SetUp failed for volume "${volume}" : hostPath type check failed: ${hostPath} ${what}`);
  switch (type) {
    case '':
      return;
    case 'DirectoryOrCreate':
      try {
        await mkdir(hostPath, { recursive: true, mode: 0o755 });
      } catch (err) {
        throw fail(`could not be created: ${errorMessage(err)}`);
      }
      break;
    case 'FileOrCreate':
      try {
        await mkdir(path.dirname(hostPath), { recursive: true, mode: 0o755 });
        await (await open(hostPath, 'a', 0o644)).close();
      } catch (err) {
        throw fail(`could not be created: ${errorMessage(err)}`);
      }
      break;
  }
  const st = await stat(hostPath).catch(() => undefined);
  if (!st) throw fail('does not exist');
  const ok: Record<string, [boolean, string]> = {
    DirectoryOrCreate: [st.isDirectory(), 'is not a directory'],
    Directory: [st.isDirectory(), 'is not a directory'],
    FileOrCreate: [st.isFile(), 'is not a file'],
    File: [st.isFile(), 'is not a file'],
    Socket: [st.isSocket(), 'is not a socket file'],
    CharDevice: [st.isCharacterDevice(), 'is not a character device'],
    BlockDevice: [st.isBlockDevice(), 'is not a block device'],
  };
  const [good, what] = ok[type] ?? [true, ''];
  if (!good) throw fail(what);
}
