/**
 * Provisions the external tools the project runs, pinned, into .tools/
 * (git-ignored) and reuses them on the next run. A tool the machine already
 * has (env var or PATH) wins. Run alone with `npm run tools`.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../platform/config';
import { goBuildErrors, goBuildProgress, summariseGoBuild, summariseLastLine } from './build-progress';

const run = promisify(execFile);

export const TOOLS_DIR = path.join(ROOT, '.tools');
export const Versions = {
  /** newest tag whose go.mod has no replace directive, so `go install pkg@v` works */
  temporalCli: 'v1.5.1',
  /**
   * go.temporal.io/server/cmd/tools/cli: the tctl that shipped inside the server
   * module (github.com/temporalio/tctl is refused by the module proxy here)
   */
  tctl: 'v1.13.1',
  /** io.temporal:temporal-test-server on Maven Central */
  javaTestServer: '1.38.0',
  /**
   * go.temporal.io/server, the real server and its SQL schema tool, for the
   * production-like mode. The same version the CLI above embeds; pinned (with
   * every dependency) by scripts/prod-like/temporal-server/go.mod + go.sum.
   */
  temporalServer: 'v1.29.1',
  /** github.com/temporalio/ui-server/v2, the Web UI the CLI v1.5.1 embeds (and the temporalio/ui:2.42.1 image runs) */
  temporalUiServer: 'v2.42.1',
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
async function runWithProgress(
  what: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: Log,
  { heartbeat = summariseLastLine, errors = (o) => o, done = () => '' }: OutputReading = {},
): Promise<void> {
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  log(`${what} (first run only; this can take several minutes)...`);
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setInterval(() => log(`  ...${heartbeat(output, seconds())}`), 20_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${errors(output).slice(-4000)}`);
  } finally {
    clearInterval(timer);
  }
  log(`  done in ${Math.round(seconds())}s${done(output)}`);
}

interface OutputReading {
  heartbeat?: (output: string, elapsedSeconds: number) => string;
  /** what of a failed command's output the error quotes */
  errors?: (output: string) => string;
  done?: (output: string) => string;
}

const goOutput: OutputReading = {
  heartbeat: summariseGoBuild,
  errors: goBuildErrors,
  done: (output) => {
    const { modulesDownloaded, packagesCompiled } = goBuildProgress(output);
    return ` (${modulesDownloaded} modules downloaded, ${packagesCompiled} packages compiled)`;
  },
};

/** `go <args>`; args must include -v, so the heartbeat can count compiled packages. */
const runGo = (what: string, args: string[], env: NodeJS.ProcessEnv, log: Log) => runWithProgress(what, 'go', args, env, log, goOutput);

/**
 * `go install pkg@version` into .tools/bin/<name>, atomically, with a version
 * marker. `built` is the binary go names after the package's last element,
 * when that is not `name`.
 */
async function goInstall(name: string, pkg: string, version: string, log: Log, { built = name, envVar }: { built?: string; envVar?: string } = {}): Promise<string> {
  const binDir = path.join(TOOLS_DIR, 'bin');
  const target = path.join(binDir, name);
  const marker = `${target}.version`;
  if (existsSync(target) && (await readMarker(marker)) === version) return target;
  if (!(await which('go'))) {
    throw new ToolMissingError(
      `${name} is not installed and Go is not available to build it (from ${pkg}@${version}).\n` +
        `Install Go >= 1.24 (https://go.dev/dl or your package manager) and re-run, or put a ${name} binary on PATH` +
        `${envVar ? ` or set ${envVar} to one` : ''}.`,
    );
  }
  await mkdir(binDir, { recursive: true });
  const tmp = await mkdtemp(path.join(TOOLS_DIR, `${name}-build-`));
  try {
    await runGo(`building ${name} ${version} from Go modules (${pkg})`, ['install', '-v', `${pkg}@${version}`], { ...process.env, GOBIN: tmp, GOFLAGS: '-buildvcs=false' }, log);
    await rename(path.join(tmp, built), target);
    await writeFile(marker, version + '\n');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return target;
}

/**
 * A CLI built from Go modules: the binary `envVar` names (which must exist), else the pinned
 * build in .tools/bin, else one on PATH, else `go install pkg@version` (binary `built`, renamed).
 */
async function ensureGoCli(name: string, envVar: string, pkg: string, version: string, log: Log, built = name): Promise<string> {
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new ToolMissingError(`${envVar}=${fromEnv} does not exist`);
    return fromEnv;
  }
  const pinned = path.join(TOOLS_DIR, 'bin', name);
  if (existsSync(pinned) && (await readMarker(`${pinned}.version`)) === version) return pinned;
  const onPath = await which(name);
  if (onPath) return onPath;
  return goInstall(name, pkg, version, log, { built, envVar });
}

/** The Temporal CLI: dev server + Web UI, and `temporal workflow signal|query|describe`. */
export const ensureTemporalCli = (log: Log = console.log): Promise<string> =>
  ensureGoCli('temporal', 'TEMPORAL_CLI_PATH', 'github.com/temporalio/cli/cmd/temporal', Versions.temporalCli, log);

/**
 * tctl, the legacy CLI operators still use (`tctl workflow signal|query|describe|list`,
 * old-style flags: --workflow_id, --ns, --query_type), built as the binary `cli`
 * of go.temporal.io/server/cmd/tools/cli and renamed.
 */
export async function ensureTctl(log: Log = console.log): Promise<string> {
  const tctl = await ensureGoCli('tctl', 'TCTL_PATH', 'go.temporal.io/server/cmd/tools/cli', Versions.tctl, log, 'cli');
  // left by the earlier provisioning, which could not build tctl here
  await rm(path.join(TOOLS_DIR, 'tctl.unavailable'), { force: true });
  return tctl;
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(p);
    else await chmod(p, 0o644);
  }
}

/** The Go module that pins the real Temporal server build (go.mod, go.sum). */
export const TEMPORAL_SERVER_MODULE = path.join(ROOT, 'scripts', 'prod-like', 'temporal-server');

/** binary name in .tools/temporal-server/ → the package (pinned by the module's go.mod) */
const TEMPORAL_SERVER_BINARIES = [
  ['temporal-server', 'go.temporal.io/server/cmd/server'],
  ['temporal-sql-tool', 'go.temporal.io/server/cmd/tools/sql'],
  ['temporal-ui-server', 'github.com/temporalio/ui-server/v2/cmd/server'],
] as const;

export interface TemporalServerTools {
  /** `temporal-server --root <dir> --config <dir> --env <name> start` */
  server: string;
  /** temporal-sql-tool: create-database, setup-schema, update-schema */
  sqlTool: string;
  /** Temporal's Web UI server (github.com/temporalio/ui-server, what the temporalio/ui image runs); '' = none */
  uiServer: string;
  /** the server's versioned PostgreSQL schemas: `<dir>/temporal/versioned`, `<dir>/visibility/versioned` */
  postgresSchemaDir: string;
  version: string;
}

async function goVersion(): Promise<[number, number] | undefined> {
  try {
    const { stdout } = await run('go', ['env', 'GOVERSION']);
    const m = /go(\d+)\.(\d+)/.exec(stdout);
    return m ? [Number(m[1]), Number(m[2])] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The production-like mode's binaries: the real Temporal server
 * (go.temporal.io/server/cmd/server), its SQL schema tool (cmd/tools/sql) and
 * the Web UI server (github.com/temporalio/ui-server), built with `go build` inside the small module
 * in scripts/prod-like/temporal-server, whose go.mod/go.sum pin the server
 * and every dependency (the same versions the CLI build resolves, so a Go
 * cache warmed by the CLI build needs no download). Cached in
 * .tools/temporal-server/ with a marker of the version and the go.mod/go.sum
 * hash; rebuilt when either changes. With TEMPORAL_SERVER_PATH,
 * TEMPORAL_SQL_TOOL_PATH and TEMPORAL_SCHEMA_DIR all set, those are used as is
 * (and TEMPORAL_UI_SERVER_PATH for the Web UI, optional then).
 */
export async function ensureTemporalServer(log: Log = console.log): Promise<TemporalServerTools> {
  const { TEMPORAL_SERVER_PATH, TEMPORAL_SQL_TOOL_PATH, TEMPORAL_SCHEMA_DIR } = process.env;
  if (TEMPORAL_SERVER_PATH || TEMPORAL_SQL_TOOL_PATH || TEMPORAL_SCHEMA_DIR) {
    const given = { TEMPORAL_SERVER_PATH, TEMPORAL_SQL_TOOL_PATH, TEMPORAL_SCHEMA_DIR };
    for (const [name, value] of Object.entries(given)) {
      if (!value) throw new ToolMissingError(`set all of TEMPORAL_SERVER_PATH, TEMPORAL_SQL_TOOL_PATH and TEMPORAL_SCHEMA_DIR, or none (${name} is missing)`);
      if (!existsSync(value)) throw new ToolMissingError(`${name}=${value} does not exist`);
    }
    const uiServer = process.env.TEMPORAL_UI_SERVER_PATH ?? '';
    return { server: TEMPORAL_SERVER_PATH!, sqlTool: TEMPORAL_SQL_TOOL_PATH!, uiServer, postgresSchemaDir: TEMPORAL_SCHEMA_DIR!, version: 'external' };
  }

  const dir = path.join(TOOLS_DIR, 'temporal-server');
  const tools: TemporalServerTools = {
    server: path.join(dir, 'temporal-server'),
    sqlTool: path.join(dir, 'temporal-sql-tool'),
    uiServer: path.join(dir, 'temporal-ui-server'),
    postgresSchemaDir: path.join(dir, 'schema', 'postgresql', 'v12'),
    version: Versions.temporalServer,
  };
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum']) hash.update(await readFile(path.join(TEMPORAL_SERVER_MODULE, f)));
  const wanted = `${Versions.temporalServer} ${Versions.temporalUiServer} ${hash.digest('hex').slice(0, 16)}`;
  const marker = path.join(dir, 'version');
  if ([tools.server, tools.sqlTool, tools.uiServer].every((f) => existsSync(f)) && (await readMarker(marker)) === wanted) return tools;

  const go = await goVersion();
  if (!go) {
    throw new ToolMissingError(
      `the Temporal server ${Versions.temporalServer} is not built yet and Go is not available to build it.\n` +
        `Install Go >= 1.25 (https://go.dev/dl, or your package manager: Debian/Ubuntu golang-1.25 or newer) and re-run, ` +
        `or set TEMPORAL_SERVER_PATH, TEMPORAL_SQL_TOOL_PATH and TEMPORAL_SCHEMA_DIR (schema/postgresql/v12 of go.temporal.io/server).`,
    );
  }
  if (go[0] === 1 && go[1] < 25) {
    log(`Go ${go.join('.')} is older than the 1.25 go.temporal.io/server asks for: Go will try to fetch a newer toolchain from the module proxy`);
  }
  await mkdir(TOOLS_DIR, { recursive: true });
  const tmp = await mkdtemp(path.join(TOOLS_DIR, 'temporal-server-build-'));
  try {
    // -mod=readonly: go.mod/go.sum are the pin; a build never rewrites them.
    const env = { ...process.env, GOFLAGS: '-buildvcs=false -mod=readonly', GOWORK: 'off' };
    const opts = { cwd: TEMPORAL_SERVER_MODULE, env };
    const started = Date.now();
    for (const [name, pkg] of TEMPORAL_SERVER_BINARIES) {
      await runGo(
        `building ${name} ${name === 'temporal-ui-server' ? Versions.temporalUiServer : Versions.temporalServer} from Go modules`,
        ['-C', TEMPORAL_SERVER_MODULE, 'build', '-v', '-o', path.join(tmp, name), pkg],
        env,
        log,
      );
    }
    const { stdout } = await run('go', ['list', '-m', '-f', '{{.Dir}}', 'go.temporal.io/server'], opts);
    await cp(path.join(stdout.trim(), 'schema', 'postgresql', 'v12'), path.join(tmp, 'schema', 'postgresql', 'v12'), { recursive: true });
    await makeWritable(path.join(tmp, 'schema')); // the module cache is read-only; .tools/ must stay removable
    await writeFile(path.join(tmp, 'version'), `${wanted}\n`);
    await writeFile(path.join(tmp, 'build-seconds'), `${Math.round((Date.now() - started) / 1000)}\n`);
    await chmod(tmp, 0o755);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return tools;
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
    const server = await ensureTemporalServer(log);
    log(`temporal server (production-like mode): ${server.server}, ${server.sqlTool}, ${server.uiServer || 'no UI server'}`);
    log(`tctl: ${await ensureTctl(log)}`);
  } catch (err) {
    console.error(`[tools] ${(err as Error).message}`);
    process.exit(1);
  }
}

/** The benchmark's SQLite commit probe (scripts/bench/sqlite-commits), built from its pinned Go module. */
export const SQLITE_COMMITS_MODULE = path.join(ROOT, 'scripts', 'bench', 'sqlite-commits');

export async function ensureSqliteCommits(log: Log = console.log): Promise<string> {
  const target = path.join(TOOLS_DIR, 'bin', 'sqlite-commits');
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(await readFile(path.join(SQLITE_COMMITS_MODULE, f)));
  const wanted = hash.digest('hex').slice(0, 16);
  if (existsSync(target) && (await readMarker(`${target}.version`)) === wanted) return target;
  if (!(await which('go'))) {
    throw new ToolMissingError(
      'the benchmark measures the Temporal dev server\'s SQLite commit rate with a small Go program, and Go is not on PATH.\n' +
        'Install Go >= 1.24 (https://go.dev/dl or your package manager) and re-run `npm run bench`.',
    );
  }
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.build-${process.pid}`;
  const env = { ...process.env, GOFLAGS: '-buildvcs=false -mod=readonly', GOWORK: 'off' };
  await runGo('building sqlite-commits (modernc.org/sqlite, the dev server\'s driver)', ['-C', SQLITE_COMMITS_MODULE, 'build', '-v', '-o', tmp, '.'], env, log);
  await rename(tmp, target);
  await writeFile(`${target}.version`, `${wanted}\n`);
  return target;
}
