/** One file as the filesystems report it; `name` is the full path inside the filesystem (`/a/b.ts`). */
export interface FileInfo {
  name: string;
  size: number;
  /** Milliseconds since the epoch. */
  lastModified: number;
}

export interface FsUsage {
  sizeBytes: number;
  /** 0 means unlimited. */
  maxBytes: number;
  files: number;
}

/** A file's content: memfs hands out its Buffer, diskfs a stream of the file. */
export interface FileContent {
  info: FileInfo;
  body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>;
}

/** A compiled file glob: whether a full name (`/a/b.ts`) matches. */
export type FileMatcher = (name: string) => boolean;

export type FileBody = Uint8Array | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/** A body's chunks in order, whatever form it came in. */
export async function* chunksOf(body: FileBody): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) {
    yield body;
    return;
  }
  if (body instanceof ReadableStream) {
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      // Stops the upload when the consumer gave up early (a file over the size limit).
      await reader.cancel().catch(() => undefined);
    }
  }
  yield* body as AsyncIterable<Uint8Array>;
}

/**
 * datarhei's two filesystems behind one interface: `disk` (rooted in `storage.disk.dir`) and `mem`
 * (in process memory). Paths are normalised by `normalizeFsPath` before they reach an implementation.
 */
export interface Filesystem {
  /** datarhei's names: `disk` and `mem`. */
  readonly name: string;
  readonly type: 'disk' | 'mem';
  usage(): Promise<FsUsage>;
  /**
   * Every file (not directories), optionally filtered by a glob over the full name, or by a glob
   * compiled once with `compileFileGlob` (a rule that lists every second keeps its matcher's cache).
   */
  list(pattern?: string | FileMatcher): Promise<FileInfo[]>;
  stat(path: string): Promise<(FileInfo & { isDirectory: boolean }) | undefined>;
  read(path: string): Promise<FileContent | undefined>;
  /** Stores the whole body, replacing a file; `created` is false when one was replaced. */
  write(path: string, body: FileBody): Promise<{ created: boolean; size: number }>;
  /** The removed file's size, or -1 when there was none. */
  remove(path: string): Promise<number>;
}
