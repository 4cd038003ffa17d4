// Runs the whole vitest suite once and closes with a plain "N passed, N failed, N skipped" line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const reportDir = mkdtempSync(join(tmpdir(), 'dragon-tests-'));
const reportFile = join(reportDir, 'report.json');
const result = spawnSync(
  'pnpm',
  [
    'exec',
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${reportFile}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
let summary = 'no test report was written';
try {
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  const skipped = report.numPendingTests + report.numTodoTests;
  summary = `${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`;
} catch {
  // vitest crashed before writing its report; its exit code below says so.
}
rmSync(reportDir, { recursive: true, force: true });
process.stdout.write(`\nTests: ${summary}\n`);
process.exit(result.status ?? 1);
