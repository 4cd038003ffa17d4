import { CodedHttpError, HttpError } from '@dragon/http-error';

/**
 * Filesystem failures. They are `HttpError`s (Hono `HTTPException`s), so the app's one `onError`
 * renders them (`{code, message, details: [code]}`); the message never carries a host path, and
 * an underlying I/O error stays in `cause`.
 */
export class FsPathInvalidError extends CodedHttpError<'FS_PATH_INVALID'> {
  override readonly name = 'FsPathInvalidError';
  constructor(readonly path: string) {
    super(400, 'FS_PATH_INVALID', 'Invalid path');
  }
}

export class FsFileNotFoundError extends CodedHttpError<'FS_FILE_NOT_FOUND'> {
  override readonly name = 'FsFileNotFoundError';
  constructor(readonly path: string) {
    super(404, 'FS_FILE_NOT_FOUND', 'File not found');
  }
}

export class FsUnknownFilesystemError extends CodedHttpError<'FS_UNKNOWN_FILESYSTEM'> {
  override readonly name = 'FsUnknownFilesystemError';
  constructor(readonly filesystem: string) {
    super(404, 'FS_UNKNOWN_FILESYSTEM', 'File not found');
  }
}

/** The file alone is larger than the filesystem (datarhei: "File is too big"). */
export class FsFileTooBigError extends CodedHttpError<'FS_FILE_TOO_BIG'> {
  override readonly name = 'FsFileTooBigError';
  constructor(
    readonly path: string,
    readonly sizeBytes: number,
    readonly maxBytes: number,
  ) {
    super(507, 'FS_FILE_TOO_BIG', 'File is too big');
  }
}

/** No room for the file and purging is off or freed too little (datarhei: "not enough space on device"). */
export class FsFullError extends CodedHttpError<'FS_FULL'> {
  override readonly name = 'FsFullError';
  constructor(
    readonly filesystem: string,
    readonly path: string,
  ) {
    super(507, 'FS_FULL', 'Not enough space on device');
  }
}

export class FsWriteFailedError extends CodedHttpError<'FS_WRITE_FAILED'> {
  override readonly name = 'FsWriteFailedError';
  constructor(
    readonly path: string,
    options: { cause: unknown },
  ) {
    super(500, 'FS_WRITE_FAILED', 'Write failed', { cause: options.cause });
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
