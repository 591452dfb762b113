#!/usr/bin/env -S node --max-semi-space-size=1
// The V8 flag keeps the young generation at 2 MB instead of 32: at 1,000 pods that cuts nodelet's
// peak RSS by ~20 MB (bench scenario 3) at no measurable cost in start-up bursts. It only takes effect
// on the command line, hence here; `npm start` and the bench pass it too (nodeFlagsOf in bench/agent.ts).
import { Command, Option } from 'commander';
import { describeConfig, runFlagHelp } from '../config/index.js';
import { errorMessage } from '../errors.js';
import { nodeletVersion as version } from '../server/kubeapi/version.js';
import { DEFAULT_ROOT_DIR } from './agent-client.js';
import { outputFormat } from './format.js';
import { inspectCommand } from './inspect.js';
import { logsCommand } from './logs.js';
import { noPodsMessage, podsCommand } from './pods.js';
import { psCommand } from './ps.js';
import { loadRunConfig, runCommand } from './run.js';
import { processAuditPolicy } from '../sources/manifest-audit.js';
import { validateCommand } from './validate.js';
import { versionCommand } from './version.js';

/**
 * The nodelet command line. `nodelet run` takes the kubelet's own flags and is parsed by config/ (so a
 * kubelet.service ExecStart line works unchanged, also without the word `run`); the read-only
 * commands use commander.
 */
async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'run' || (first?.startsWith('-') && !['-h', '--help', '-V', '--version'].includes(first))) {
    const args = first === 'run' ? rest : argv;
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(`Usage: nodelet run [flags]\n\nRuns the node agent: static pods from --pod-manifest-path.\n\n${runFlagHelp}\n`);
      return 0;
    }
    return runCommand(args);
  }

  const program = new Command('nodelet')
    .description('A standalone, kubelet-compatible node agent: static pods without a control plane.')
    .version(version)
    .showSuggestionAfterError(true)
    .exitOverride();
  const rootDir = () => new Option('--root-dir <dir>', 'the running agent\'s --root-dir').default(DEFAULT_ROOT_DIR);
  program.command('run').description('run the node agent (takes the kubelet\'s flags; see nodelet run --help)');
  program
    .command('ps')
    .description('list running containers, like docker ps (-a: all of them)')
    .addOption(rootDir())
    .option('-a, --all', 'also containers that are not running (exited, waiting)')
    .option('-n, --namespace <ns>', 'only this namespace')
    .option('-q, --quiet', 'only container ids')
    .option('-o, --output <format>', 'json or yaml')
    .action(async (o: { rootDir: string; all?: boolean; namespace?: string; quiet?: boolean; output?: string }) => {
      process.stdout.write(await psCommand({ ...o, output: outputFormat(o.output, ['json', 'yaml'] as const) }));
    });
  program
    .command('pods')
    .description('list pods, like kubectl get pods -A -o wide')
    .addOption(rootDir())
    .option('-n, --namespace <ns>', 'only this namespace (default: every namespace)')
    .option('-l, --selector <selector>', 'label selector, as kubectl (app=web, tier in (a,b), !canary)')
    .option('--field-selector <selector>', 'field selector, as kubectl (status.phase=Running, metadata.name=web-node1)')
    .option('-o, --output <format>', 'wide (default; -o wide adds CPU and MEMORY usage), name, json or yaml')
    .action(async (o: { rootDir: string; namespace?: string; selector?: string; fieldSelector?: string; output?: string }) => {
      const out = await podsCommand({ ...o, output: outputFormat(o.output, ['wide', 'name', 'json', 'yaml'] as const) });
      if (out) process.stdout.write(out);
      else process.stderr.write(noPodsMessage(o.namespace));
    });
  program
    .command('inspect')
    .description("print a pod's YAML with its live status and its events")
    .argument('<pod>', 'pod name (web-node1) or manifest name (web)')
    .addOption(rootDir())
    .option('-n, --namespace <ns>', 'namespace')
    .option('-o, --output <format>', 'json or yaml: a v1 List of the pod and its events')
    .action(async (pod: string, o: { rootDir: string; namespace?: string; output?: string }) => {
      process.stdout.write(await inspectCommand(pod, { ...o, output: outputFormat(o.output, ['json', 'yaml'] as const) }));
    });
  program
    .command('version')
    .description("print nodelet's version and the running agent's")
    .addOption(rootDir())
    .option('--client', 'only this program, without asking the agent')
    .option('-o, --output <format>', 'json or yaml')
    .action(async (o: { rootDir: string; client?: boolean; output?: string }) => {
      const { output, ok } = await versionCommand({ ...o, output: outputFormat(o.output, ['json', 'yaml'] as const) });
      process.stdout.write(output);
      if (!ok) process.exitCode = 1;
    });
  program
    .command('logs')
    .description('print a container\'s log, like kubectl logs')
    .argument('<pod>', 'pod name (web-node1) or manifest name (web)')
    .addOption(rootDir())
    .option('-c, --container <name>', 'container name (default: the only one)')
    .option('-n, --namespace <ns>', 'namespace')
    .option('-f, --follow', 'stream new lines until the container stops')
    .option('-p, --previous', 'the previous, terminated instance of the container')
    .option('--tail <lines>', 'only the last N lines', (v) => Number.parseInt(v, 10))
    .option('--since <duration>', 'only lines newer than this (30s, 5m, 1h)')
    .option('--timestamps', 'prefix each line with its RFC3339Nano time')
    .action(async (pod: string, o: Parameters<typeof logsCommand>[1]) => {
      await logsCommand(pod, o, process.stdout);
    });
  program
    .command('config')
    .description('print the effective configuration and where each value came from')
    .allowUnknownOption()
    .helpOption(false)
    .argument('[flags...]', 'the flags nodelet run is (or would be) started with')
    .action((flags: string[]) => {
      if (flags.includes('--help') || flags.includes('-h')) {
        process.stdout.write(`Usage: nodelet config [run flags]\n\nPrints the configuration nodelet run would use with these flags, and where each value came from.\n\n${runFlagHelp}\n`);
        return;
      }
      const loaded = loadRunConfig(flags);
      for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(describeConfig(loaded));
    });
  program
    .command('validate')
    .description('check manifests as nodelet would load them; exit 1 if any is invalid')
    .argument('<paths...>', 'manifest files or directories')
    .option('--hostname-override <name>', 'node name used for defaulting')
    .option('--allow-insecure-manifests', 'skip the audit of owners and modes (as nodelet run --allow-insecure-manifests)')
    .action(async (paths: string[], o: { hostnameOverride?: string; allowInsecureManifests?: boolean }) => {
      const { output, ok } = await validateCommand(paths, o.hostnameOverride, processAuditPolicy(o.allowInsecureManifests === true));
      process.stdout.write(output);
      if (!ok) process.exitCode = 1;
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return 0;
    if (code?.startsWith('commander.')) return 2;
    process.stderr.write(`nodelet: ${errorMessage(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`nodelet: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
