import { type ChildProcess, spawn } from 'node:child_process';

const children = new Set<ChildProcess>();

export interface FFmpegChild {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Runs FFmpeg quietly with `args`; `stopFFmpegs()` ends every one still running. */
export function runFFmpeg(args: string[]): FFmpegChild {
  const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'info', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, stderr: () => stderr, exited };
}

/**
 * A publisher that connects again whenever it ends, 0.5 s later — as cameras and OBS do — until
 * `stop()`: it may start before the server's FFmpeg listens, and survives that FFmpeg's restarts.
 */
export function publishInLoop(args: string[]): { stop(): Promise<void>; attempts(): number } {
  let stopped = false;
  let attempts = 0;
  let current: FFmpegChild | undefined;
  let timer: NodeJS.Timeout | undefined;
  const next = () => {
    if (stopped) return;
    attempts++;
    current = runFFmpeg(args);
    void current.exited.then(() => {
      if (!stopped) timer = setTimeout(next, 500);
    });
  };
  next();
  return {
    attempts: () => attempts,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      const running = current;
      if (running && running.child.exitCode === null && running.child.signalCode === null) {
        running.child.kill('SIGKILL');
        await running.exited;
      }
    },
  };
}

/** A 320×240 test pattern with a tone, real time, as a live encoder would send it. */
export function testPatternInput(): string[] {
  return [
    '-re',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=25',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-g',
    '25',
    '-c:a',
    'aac',
    '-b:a',
    '64k',
  ];
}

export async function stopFFmpegs(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
