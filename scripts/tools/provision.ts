/**
 * Provisions the external tools the project runs, pinned, into .tools/
 * (git-ignored) and reuses them on the next run. A tool the machine already
 * has (env var or PATH) wins. Run alone with `npm run tools`.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../platform/config';

const run = promisify(execFile);

export const TOOLS_DIR = path.join(ROOT, '.tools');
export const Versions = {
  /** newest tag whose go.mod has no replace directive, so `go install pkg@v` works */
  temporalCli: 'v1.5.1',
  tctl: 'v1.18.4',
  /** io.temporal:temporal-test-server on Maven Central */
  javaTestServer: '1.38.0',
} as const;

export class ToolMissingError extends Error {
  override name = 'ToolMissingError';
}

type Log = (msg: string) => void;

async function which(cmd: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('sh', ['-c', `command -v ${cmd}`]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

async function readMarker(file: string): Promise<string | undefined> {
  return existsSync(file) ? (await readFile(file, 'utf8')).trim() : undefined;
}

/** Runs a long command, printing a heartbeat so a cold first run never looks hung. */
async function runWithProgress(what: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, log: Log): Promise<void> {
  const started = Date.now();
  log(`${what} (first run only; this can take several minutes)...`);
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setInterval(() => {
    const lines = output.trim().split('\n');
    log(`  ...${Math.round((Date.now() - started) / 1000)}s: ${lines[lines.length - 1]?.slice(0, 120) ?? ''}`);
  }, 20_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${output.slice(-4000)}`);
  } finally {
    clearInterval(timer);
  }
  log(`  done in ${Math.round((Date.now() - started) / 1000)}s`);
}

/** `go install module@version` into .tools/bin, atomically, with a version marker. */
async function goInstall(name: string, pkg: string, version: string, log: Log): Promise<string> {
  const binDir = path.join(TOOLS_DIR, 'bin');
  const target = path.join(binDir, name);
  const marker = `${target}.version`;
  if (existsSync(target) && (await readMarker(marker)) === version) return target;
  if (!(await which('go'))) {
    throw new ToolMissingError(
      `${name} is not installed and Go is not available to build it.\n` +
        `Install Go >= 1.24 (https://go.dev/dl or your package manager) and re-run, or put a ${name} binary on PATH.`,
    );
  }
  await mkdir(binDir, { recursive: true });
  const tmp = await mkdtemp(path.join(TOOLS_DIR, `${name}-build-`));
  try {
    await runWithProgress(`building ${name} ${version} from Go modules`, 'go', ['install', `${pkg}@${version}`], { ...process.env, GOBIN: tmp, GOFLAGS: '-buildvcs=false' }, log);
    await rename(path.join(tmp, name), target);
    await writeFile(marker, version + '\n');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return target;
}

/** The Temporal CLI: dev server + Web UI, and `temporal workflow signal|query|describe`. */
export async function ensureTemporalCli(log: Log = console.log): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new ToolMissingError(`TEMPORAL_CLI_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  const pinned = path.join(TOOLS_DIR, 'bin', 'temporal');
  if (existsSync(pinned) && (await readMarker(`${pinned}.version`)) === Versions.temporalCli) return pinned;
  const onPath = await which('temporal');
  if (onPath) return onPath;
  return goInstall('temporal', 'github.com/temporalio/cli/cmd/temporal', Versions.temporalCli, log);
}

/** tctl, the legacy CLI. Optional: answers undefined with the reason when it cannot be had. */
export async function ensureTctl(log: Log = console.log): Promise<{ path?: string; reason?: string }> {
  const fromEnv = process.env.TCTL_PATH;
  if (fromEnv && existsSync(fromEnv)) return { path: fromEnv };
  const onPath = await which('tctl');
  if (onPath) return { path: onPath };
  const failedMarker = path.join(TOOLS_DIR, 'tctl.unavailable');
  const failed = await readMarker(failedMarker);
  if (failed && !process.env.TCTL_RETRY) return { reason: failed };
  try {
    return { path: await goInstall('tctl', 'github.com/temporalio/tctl/cmd/tctl', Versions.tctl, log) };
  } catch (err) {
    const reason = `tctl ${Versions.tctl} could not be built: ${(err as Error).message.split('\n').slice(-3).join(' ').trim()}`;
    await mkdir(TOOLS_DIR, { recursive: true });
    await writeFile(failedMarker, reason + '\n');
    return { reason };
  }
}

/**
 * Temporal's Java time-skipping test server, resolved from Maven Central, with
 * a launcher the TS SDK can exec (`existing-path`): `<launcher> <port> --enable-time-skipping`.
 */
export async function ensureTestServer(log: Log = console.log): Promise<string> {
  const fromEnv = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new ToolMissingError(`TEMPORAL_TEST_SERVER_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  const dir = path.join(TOOLS_DIR, 'test-server');
  const launcher = path.join(dir, 'temporal-test-server');
  const marker = path.join(dir, 'version');
  if (existsSync(launcher) && (await readMarker(marker)) === Versions.javaTestServer) return launcher;

  const java = await which('java');
  const mvn = await which('mvn');
  if (!java || !mvn) {
    throw new ToolMissingError(
      `the Java time-skipping test server needs ${!java ? 'java (JDK/JRE >= 11)' : ''}${!java && !mvn ? ' and ' : ''}${!mvn ? 'Maven (mvn)' : ''} on PATH ` +
        `to fetch io.temporal:temporal-test-server:${Versions.javaTestServer} from Maven Central ` +
        `(Debian: apt-get install openjdk-17-jre-headless maven), or set TEMPORAL_TEST_SERVER_PATH to a launcher.`,
    );
  }
  const lib = path.join(dir, 'lib');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await runWithProgress(
    `fetching the Java test server ${Versions.javaTestServer} with Maven`,
    mvn,
    [
      '-q', '-B',
      '-f', path.join(ROOT, 'scripts', 'tools', 'test-server-pom.xml'),
      `-Dtemporal.test-server.version=${Versions.javaTestServer}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${lib}`,
      '-DincludeScope=runtime',
    ],
    process.env,
    log,
  );
  await writeFile(
    launcher,
    `#!/bin/sh\n# generated by scripts/tools/provision.ts\nexec java -Xss2m -cp "${lib}/*" io.temporal.testserver.TestServer "$@"\n`,
  );
  await chmod(launcher, 0o755);
  await writeFile(marker, Versions.javaTestServer + '\n');
  return launcher;
}

// `npm run tools`: provision everything and say what we have.
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const log = (m: string) => console.log(`[tools] ${m}`);
  try {
    log(`temporal CLI: ${await ensureTemporalCli(log)}`);
    log(`java test server: ${await ensureTestServer(log)}`);
    const tctl = await ensureTctl(log);
    log(tctl.path ? `tctl: ${tctl.path}` : `tctl: unavailable (${tctl.reason})`);
  } catch (err) {
    console.error(`[tools] ${(err as Error).message}`);
    process.exit(1);
  }
}
