const userInfo = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;
const secretParam =
  /([?&;](?:passphrase|password|passwd|pass|pwd|pw|token|access_token|secret|auth|key|sig|signature)=)[^&\s'"]*/gi;
const authorization = /\b(authorization:\s*)[^\r\n'"]+/gi;

/**
 * Removes credentials from text that may quote an input address or its options (ffprobe's and
 * FFmpeg's messages do): `user:pass@` in URLs (RTSP cameras carry passwords there), secret-looking
 * query parameters (SRT `passphrase`, `token`…) and `Authorization:` header values.
 *
 * @example redactCredentials('rtsp://admin:hunter2@cam/stream: 401') // 'rtsp://***@cam/stream: 401'
 */
export function redactCredentials(text: string): string {
  return text.replace(userInfo, '$1***@').replace(secretParam, '$1***').replace(authorization, '$1***');
}
