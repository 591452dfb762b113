import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { ExecResult } from '../types.js';
import type { SpawnQueue } from './spawn-queue.js';

/** Output kept per stream: probes and hooks only need the start of it (the kubelet caps at 10 KiB). */
const MAX_OUTPUT_BYTES = 10 * 1024;

/**
 * Runs a command in its own process group and waits for it; at `timeoutMs` the whole group is killed
 * and the result says `timedOut`. A command that cannot be started resolves with exit code 126/127 and
 * the reason on stderr, as a shell would report it.
 */
export function runBounded(
  command: string[],
  opts: { cwd?: string; env: Record<string, string>; timeoutMs: number; spawns?: SpawnQueue },
): Promise<ExecResult> {
  const [file, ...args] = command;
  if (!file) return Promise.resolve({ exitCode: 126, stdout: '', stderr: 'empty command', timedOut: false });
  const start = () => spawn(file, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  return (opts.spawns ? opts.spawns.run(start) : Promise.resolve(start())).then(
    (child) =>
      new Promise<ExecResult>((resolve) => {
        let stdout = '';
        let stderr = '';
        let timedOut = false;
        const take = (acc: string, chunk: Buffer) => (acc.length < MAX_OUTPUT_BYTES ? acc + chunk.toString('utf8') : acc);
        child.stdout!.on('data', (d: Buffer) => (stdout = take(stdout, d)));
        child.stderr!.on('data', (d: Buffer) => (stderr = take(stderr, d)));
        const timer = setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
        }, Math.max(1, opts.timeoutMs));
        child.once('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          resolve({ exitCode: err.code === 'ENOENT' ? 127 : 126, stdout, stderr: `exec: "${file}": ${err.message}`, timedOut: false });
        });
        child.once('exit', () => {
          try {
            process.kill(-child.pid!, 'SIGKILL'); // nothing the command left behind outlives it (or holds its pipes)
          } catch {
            // the group is gone
          }
        });
        child.once('close', (code, signal) => {
          clearTimeout(timer);
          resolve({
            exitCode: code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0),
            stdout: stdout.slice(0, MAX_OUTPUT_BYTES),
            stderr: stderr.slice(0, MAX_OUTPUT_BYTES),
            timedOut,
          });
        });
      }),
  );
}
