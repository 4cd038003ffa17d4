import { HTTPException } from 'hono/http-exception';

/**
 * Filesystem failures. They extend Hono's `HTTPException`, so the app's one `onError` renders them
 * (`{code, message, details}`); the message never carries a host path.
 */
export class FsPathInvalidError extends HTTPException {
  override readonly name = 'FsPathInvalidError';
  readonly code = 'FS_PATH_INVALID' as const;
  constructor(readonly path: string) {
    super(400, { message: 'Invalid path' });
  }
}

export class FsFileNotFoundError extends HTTPException {
  override readonly name = 'FsFileNotFoundError';
  readonly code = 'FS_FILE_NOT_FOUND' as const;
  constructor(readonly path: string) {
    super(404, { message: 'File not found' });
  }
}

export class FsUnknownFilesystemError extends HTTPException {
  override readonly name = 'FsUnknownFilesystemError';
  readonly code = 'FS_UNKNOWN_FILESYSTEM' as const;
  constructor(readonly filesystem: string) {
    super(404, { message: 'File not found' });
  }
}

/** The file alone is larger than the filesystem (datarhei: "File is too big"). */
export class FsFileTooBigError extends HTTPException {
  override readonly name = 'FsFileTooBigError';
  readonly code = 'FS_FILE_TOO_BIG' as const;
  constructor(
    readonly path: string,
    readonly sizeBytes: number,
    readonly maxBytes: number,
  ) {
    super(507, { message: 'File is too big' });
  }
}

/** No room for the file and purging is off or freed too little (datarhei: "not enough space on device"). */
export class FsFullError extends HTTPException {
  override readonly name = 'FsFullError';
  readonly code = 'FS_FULL' as const;
  constructor(
    readonly filesystem: string,
    readonly path: string,
  ) {
    super(507, { message: 'Not enough space on device' });
  }
}

export class FsWriteFailedError extends HTTPException {
  override readonly name = 'FsWriteFailedError';
  readonly code = 'FS_WRITE_FAILED' as const;
  constructor(
    readonly path: string,
    options: { cause: unknown },
  ) {
    super(500, { message: 'Write failed', cause: options.cause });
  }
}
