/**
 * What a long `go build -v` / `go install -v` is doing, from what it has printed:
 * `go: downloading <module> <version>` per module fetched, then (with -v) one
 * import path per package compiled. A heartbeat that repeated the last line
 * showed a stale `go: downloading ...` for minutes while go was compiling.
 */

/** an import path as `go -v` prints it: no spaces, no `#` (error header), no `:` (diagnostics) */
const PACKAGE_LINE = /^[A-Za-z0-9_.~+-]+(\/[A-Za-z0-9_.~+-]+)*$/;
const DOWNLOAD_LINE = /^go: downloading \S+/;

export interface GoBuildProgress {
  phase: 'starting' | 'resolving modules' | 'downloading modules' | 'compiling packages';
  modulesDownloaded: number;
  packagesCompiled: number;
}

export function goBuildProgress(output: string): GoBuildProgress {
  const progress: GoBuildProgress = { phase: 'starting', modulesDownloaded: 0, packagesCompiled: 0 };
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (DOWNLOAD_LINE.test(line)) {
      progress.modulesDownloaded++;
      progress.phase = 'downloading modules';
    } else if (line.startsWith('go: ')) {
      if (progress.phase === 'starting') progress.phase = 'resolving modules';
    } else if (PACKAGE_LINE.test(line)) {
      progress.packagesCompiled++;
      progress.phase = 'compiling packages';
    }
  }
  return progress;
}

/** One short heartbeat line, e.g. `140s: compiling packages (212 modules downloaded, 815 packages compiled so far)`. */
export function summariseGoBuild(output: string, elapsedSeconds: number): string {
  const p = goBuildProgress(output);
  return `${Math.round(elapsedSeconds)}s: ${p.phase} (${p.modulesDownloaded} modules downloaded, ${p.packagesCompiled} packages compiled so far)`;
}

/** A failed build's output without the progress lines, so the error is what is left. */
export function goBuildErrors(output: string): string {
  return output
    .split('\n')
    .filter((raw) => {
      const line = raw.trim();
      return line && !DOWNLOAD_LINE.test(line) && !PACKAGE_LINE.test(line);
    })
    .join('\n');
}

/** For any other command: its last line of output. */
export function summariseLastLine(output: string, elapsedSeconds: number): string {
  const lines = output.trim().split('\n');
  return `${Math.round(elapsedSeconds)}s: ${lines[lines.length - 1]?.slice(0, 120) ?? ''}`;
}
