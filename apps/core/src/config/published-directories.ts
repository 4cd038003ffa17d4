import { unpublishableReason } from '@dragon/filesystems';
import type { Config } from './config-schema.js';

/**
 * What the directories a config publishes would expose: `storage.disk.dir` is served anonymously over
 * HTTP, `ffmpeg.access.output.directories` are written by any process. One line per problem, empty
 * when none. Checked at boot and before a `PUT /api/v3/config` is saved.
 */
export function publishedDirectoryProblems(config: Config, configFile: string): string[] {
  const data = [
    { name: 'db.dir', path: config.db.dir },
    { name: 'the config file', path: configFile },
  ];
  // Served files must not include the TLS key; written ones may (the FFmpeg policy guards the key).
  const served = [
    ...data,
    ...(config.tls.key_file ? [{ name: 'tls.key_file', path: config.tls.key_file }] : []),
  ];
  return [
    unpublishableReason('storage.disk.dir', config.storage.disk.dir, served),
    ...config.ffmpeg.access.output.directories.map((directory, index) =>
      unpublishableReason(`ffmpeg.access.output.directories[${index}]`, directory, data),
    ),
  ].flatMap((problem) => problem ?? []);
}
