/**
 * `npm start` as a process supervisor, `kill <pid>`, a CI runner or a terminal multiplexer
 * sees it: the signal goes to the npm process alone, not to its process group. Whatever npm
 * does with it (it passes SIGTERM and SIGINT on, and dies of SIGHUP), every process of the
 * stack must stop and free its port.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../platform/config';
import { descendants, isAlive, listeningPorts, processesMentioning } from '../support/processes';
import { testStackConfig } from '../support/stack-config';
import { until } from '../support/until';

const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = net.createServer().once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

describe('a signal to the npm start process', () => {
  it.each([
    // npm passes SIGTERM and SIGINT to the script and exits with its code: 0 after a clean stop
    ['SIGTERM', { code: 0, signal: null }],
    ['SIGINT', { code: 0, signal: null }],
    // npm dies of SIGHUP at once; the platform notices its parent has gone and stops itself
    ['SIGHUP', { code: null, signal: 'SIGHUP' }],
  ] as const)('%s stops every process the stack started and frees every port', async (signal, expectedExit) => {
    const { dir, config } = await testStackConfig('orders-npm-signal-');
    const env = {
      ...process.env,
      PORT: String(config.PORT),
      PG_PORT: String(config.PG_PORT),
      PG_DATA_DIR: config.PG_DATA_DIR,
      TEMPORAL_PORT: String(config.TEMPORAL_PORT),
      TEMPORAL_UI_PORT: String(config.TEMPORAL_UI_PORT),
      CODEC_PORT: String(config.CODEC_PORT),
      TEMPORAL_DB_FILE: config.TEMPORAL_DB_FILE,
      TEMPORAL_CLI_PATH: config.TEMPORAL_CLI_PATH,
      LOG_LEVEL: 'warn',
    };
    const npm = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout.on('data', (d: Buffer) => (output += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.once('exit', (code, signal) => resolve({ code, signal })));
    try {
      await until('npm start to come up', async () => output.includes('Order platform is up') || npm.exitCode !== null, 180_000, 200);
      expect(npm.exitCode, `npm start exited early:\n${output.slice(-3000)}`).toBeNull();
      const stack = descendants(npm.pid!);
      const ports = listeningPorts(stack);
      // API, the API's and each worker's metrics, PostgreSQL, Temporal's gRPC, UI and metrics
      expect(ports).toEqual(expect.arrayContaining([config.PORT, config.PG_PORT, config.TEMPORAL_PORT, config.TEMPORAL_UI_PORT]));
      expect(stack.length).toBeGreaterThanOrEqual(8);

      const sent = Date.now();
      process.kill(npm.pid!, signal);
      expect(await exited).toEqual(expectedExit);
      await until(`every process of the stack to stop after ${signal}`, async () => stack.every((pid) => !isAlive(pid)), 60_000, 100);
      const stoppedInMs = Date.now() - sent;
      console.log(`[${signal}] ${stack.length} processes and ports ${ports.join(', ')} gone ${stoppedInMs} ms after the signal`);

      expect(processesMentioning(dir)).toEqual([]);
      for (const port of ports) expect(await portIsFree(port), `port ${port} is free`).toBe(true);
      expect(output).toMatch(/\[start\] stopped\n/);
      expect(output).not.toMatch(/had to kill/);
    } finally {
      if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
      for (const pid of processesMentioning(dir)) process.kill(pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
