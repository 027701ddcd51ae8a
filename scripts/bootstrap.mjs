// Runs before `npm start` and `npm test` with nothing but Node: installs the
// npm dependencies when they are missing or stale, and generates the Prisma
// client when the schema changed. Plain JS because tsx may not be installed yet.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
const say = (m) => console.log(`[bootstrap] ${m}`);

const installedMarker = path.join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installedMarker) || mtime(path.join(root, 'package-lock.json')) > mtime(installedMarker)) {
  say('installing npm dependencies (npm install)...');
  execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

const generated = path.join(root, 'prisma', 'generated', 'client.ts');
if (mtime(path.join(root, 'prisma', 'schema.prisma')) > mtime(generated)) {
  say('generating the Prisma client...');
  execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'prisma-generate.ts')], { cwd: root, stdio: 'inherit' });
}

// The storefront and console (web/): typed from the API's OpenAPI document and bundled with
// esbuild into web/dist, which the API serves at /. Quick (well under a second's bundling), so always.
execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'build-web.ts')], { cwd: root, stdio: 'inherit' });
