import { describe, expect, it } from 'vitest';
import { goBuildErrors, goBuildProgress, summariseGoBuild, summariseLastLine } from '../../scripts/tools/build-progress';

/** Shaped like `go install -v go.temporal.io/server/cmd/tools/cli@v1.13.1` on a cold cache. */
const downloading = [
  'go: downloading go.temporal.io/server v1.13.1',
  'go: downloading github.com/urfave/cli v1.22.5',
  'go: downloading cel.dev/expr v0.16.0',
].join('\n');
const compiling = [
  'internal/goarch',
  'runtime',
  'github.com/urfave/cli',
  'go.temporal.io/server/common/log',
  'go.temporal.io/server/cmd/tools/cli',
].join('\n');

describe('the Go build heartbeat says what go is doing, not its last line', () => {
  it('before any output, and while go resolves the module', () => {
    expect(summariseGoBuild('', 3)).toBe('3s: starting (0 modules downloaded, 0 packages compiled so far)');
    expect(goBuildProgress('go: finding module for package go.temporal.io/server\n').phase).toBe('resolving modules');
  });

  it('counts modules while they download', () => {
    expect(summariseGoBuild(downloading + '\n', 20.4)).toBe('20s: downloading modules (3 modules downloaded, 0 packages compiled so far)');
  });

  it('switches to compiling once -v prints package paths, keeping the download count', () => {
    expect(summariseGoBuild(`${downloading}\n${compiling}\n`, 140)).toBe('140s: compiling packages (3 modules downloaded, 5 packages compiled so far)');
  });

  it('a late download (a test-only or build-tagged dependency) is the current phase again', () => {
    expect(goBuildProgress(`${compiling}\ngo: downloading golang.org/x/sys v0.1.0\n`)).toEqual({ phase: 'downloading modules', modulesDownloaded: 1, packagesCompiled: 5 });
  });

  it('does not count diagnostics or error headers as compiled packages', () => {
    const failed = `${compiling}\n# go.temporal.io/server/common/log\ncommon/log/zap.go:12:2: undefined: foo\nexit status 1\n`;
    expect(goBuildProgress(failed).packagesCompiled).toBe(5);
    expect(goBuildErrors(`${downloading}\n${failed}`)).toBe('# go.temporal.io/server/common/log\ncommon/log/zap.go:12:2: undefined: foo\nexit status 1');
  });

  it('other commands (Maven) keep the last line', () => {
    expect(summariseLastLine('[INFO] one\n[INFO] two\n', 40)).toBe('40s: [INFO] two');
  });
});
