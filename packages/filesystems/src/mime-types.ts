import { extname } from 'node:path';

/**
 * Content types by extension: datarhei's shipped `mime.types` (`.m3u8` is
 * `application/vnd.apple.mpegurl` and `.ts` is `video/MP2T` there), plus the types of the other files
 * FFmpeg writes for HLS/DASH (fMP4 segments, DASH manifests, WebVTT, audio-only renditions).
 */
const byExtension: Record<string, string> = {
  '.txt': 'text/plain',
  '.htm': 'text/html',
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.xml': 'application/xml',
  '.ts': 'video/MP2T',
  '.mp4': 'video/mp4',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.ico': 'image/vnd.microsoft.icon',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  // Beyond datarhei's file:
  '.m4s': 'video/iso.segment',
  '.m4v': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.mp3': 'audio/mpeg',
  '.mpd': 'application/dash+xml',
  '.vtt': 'text/vtt',
  '.webm': 'video/webm',
  '.webp': 'image/webp',
  '.flv': 'video/x-flv',
  // What a built web app (`router.ui_path`) ships besides the above:
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
};

/** The content type for a path; `fallback` when the extension is unknown (datarhei's per-mount default). */
export function contentTypeOf(path: string, fallback: string): string {
  return byExtension[extname(path).toLowerCase()] ?? fallback;
}
