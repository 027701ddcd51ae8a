// Runs the project's `prisma generate` offline; the client lands in prisma/generated.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'node_modules', 'prisma', 'build', 'index.js');

// The CLI only checks that a schema engine exists (it would otherwise try to download one);
// generate never runs it.
const fakeEngine = existsSync('/bin/true') ? '/bin/true' : process.execPath;

const result = spawnSync(process.execPath, [cli, 'generate', ...process.argv.slice(2)], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: fakeEngine, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
});

if (result.error || result.status !== 0) {
  process.stderr.write(result.stdout ?? '');
  process.stderr.write(result.stderr ?? '');
  console.error(`prisma generate failed (${result.error?.message ?? `exit code ${result.status}`})`);
  process.exit(result.status || 1);
}
process.stdout.write(result.stdout);
