/**
 * Re-renders results.md and chart.svg from a run's results.json (after a
 * change to the report, or to pick the series the targets are judged on):
 *   node --import tsx scripts/bench/render.ts bench-results/<time> [variant]
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chart, markdown, sagaSeries, verdicts, type BenchResults } from './report';
import { JUDGED_VARIANT } from './variants';

const dir = process.argv[2];
if (!dir) {
  console.error(`usage: scripts/bench/render.ts <results folder> [variant the targets are judged on, default ${JUDGED_VARIANT}]`);
  process.exit(2);
}
const variant = process.argv[3] ?? JUDGED_VARIANT;
const results = JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8')) as BenchResults;
const judged = sagaSeries(results, variant) ?? results.series.find((s) => s.kind === 'saga');
const at32 = judged?.levels.find((l) => l.concurrency === 32);
if (results.limitB && at32?.commitsPerOrder) {
  results.limitB = { ...results.limitB, commitsPerOrder: at32.commitsPerOrder, ordersPerSecond: results.limitB.fsyncCommitsPerSecond / at32.commitsPerOrder, variant: judged!.variant };
}
results.verdicts = verdicts(results, judged?.variant ?? variant);
await writeFile(path.join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
await writeFile(path.join(dir, 'results.md'), markdown(results));
await writeFile(path.join(dir, 'chart.svg'), chart(results));
console.log(markdown(results));
