import { HttpError } from '@dragon/http-error';

/**
 * Filesystem failures. They are `HttpError`s (Hono `HTTPException`s), so the app's one `onError`
 * renders them (`{code, message, details: [code]}`); the message never carries a host path, and
 * an underlying I/O error stays in `cause`.
 */
export class FsPathInvalidError extends HttpError {
  override readonly name = 'FsPathInvalidError';
  declare readonly code: 'FS_PATH_INVALID';
  constructor(readonly path: string) {
    super(400, 'Invalid path', [], { code: 'FS_PATH_INVALID' });
  }
}

export class FsFileNotFoundError extends HttpError {
  override readonly name = 'FsFileNotFoundError';
  declare readonly code: 'FS_FILE_NOT_FOUND';
  constructor(readonly path: string) {
    super(404, 'File not found', [], { code: 'FS_FILE_NOT_FOUND' });
  }
}

export class FsUnknownFilesystemError extends HttpError {
  override readonly name = 'FsUnknownFilesystemError';
  declare readonly code: 'FS_UNKNOWN_FILESYSTEM';
  constructor(readonly filesystem: string) {
    super(404, 'File not found', [], { code: 'FS_UNKNOWN_FILESYSTEM' });
  }
}

/** The file alone is larger than the filesystem (datarhei: "File is too big"). */
export class FsFileTooBigError extends HttpError {
  override readonly name = 'FsFileTooBigError';
  declare readonly code: 'FS_FILE_TOO_BIG';
  constructor(
    readonly path: string,
    readonly sizeBytes: number,
    readonly maxBytes: number,
  ) {
    super(507, 'File is too big', [], { code: 'FS_FILE_TOO_BIG' });
  }
}

/** No room for the file and purging is off or freed too little (datarhei: "not enough space on device"). */
export class FsFullError extends HttpError {
  override readonly name = 'FsFullError';
  declare readonly code: 'FS_FULL';
  constructor(
    readonly filesystem: string,
    readonly path: string,
  ) {
    super(507, 'Not enough space on device', [], { code: 'FS_FULL' });
  }
}

export class FsWriteFailedError extends HttpError {
  override readonly name = 'FsWriteFailedError';
  declare readonly code: 'FS_WRITE_FAILED';
  constructor(
    readonly path: string,
    options: { cause: unknown },
  ) {
    super(500, 'Write failed', [], { code: 'FS_WRITE_FAILED', cause: options.cause });
  }
}

/** The memfs write credentials were missing or wrong: 401 with the challenge FFmpeg waits for. */
export class FsWriteUnauthorizedError extends HttpError {
  override readonly name = 'FsWriteUnauthorizedError';
  constructor() {
    // No code in the body: datarhei answers `details: []`. FFmpeg sends credentials only after a
    // challenge, so the header makes it retry with them.
    super(401, 'Unauthorized', [], { headers: { 'WWW-Authenticate': 'Basic realm="Restricted"' } });
  }
}

/** The HLS session limits refuse another viewer: datarhei's 509 "Bandwidth Limit Exceeded". */
export class FsSessionRefusedError extends HttpError {
  override readonly name = 'FsSessionRefusedError';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    // 509 is not in RFC 9110, so not in Hono's status union.
    super(509 as 500, reason);
  }
}
