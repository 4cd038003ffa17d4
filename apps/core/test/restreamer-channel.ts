/**
 * The processes the Restreamer UI (v1.14.0, restreamer-v2.12.0) creates for a channel, built as its
 * `src/utils/restreamer.js` builds them: `UpsertIngest` (the channel's FFmpeg writing HLS into
 * memfs with a master playlist), `UpsertIngestSnapshot` (a JPEG from that HLS) and
 * `CreateEgress`/`UpdateEgress` (a publication reading the channel's HLS), with the input options of
 * the wizard's "Network source" (`src/views/Edit/Sources/Network.js`, `createInputs`) and the HLS
 * defaults of `src/utils/metadata.js` (`defaultIngestMetadata.control`). Only the UI's defaults are
 * modelled; what a user changes is passed in.
 */

/** `control` of the ingest metadata, as `defaultIngestMetadata` has it (the fields the processes read). */
export interface ChannelControl {
  hls: { segmentDuration: number; listSize: number; version: 3 | 6 | 7; master_playlist: boolean };
  process: { autostart: boolean; reconnect: boolean; delay: number; staleTimeout: number };
  snapshot: { interval: number };
  limits: { cpu_usage: number; memory_mbytes: number; waitfor_seconds: number };
}

export const defaultControl: ChannelControl = {
  hls: { segmentDuration: 2, listSize: 6, version: 3, master_playlist: true },
  process: { autostart: true, reconnect: true, delay: 15, staleTimeout: 30 },
  snapshot: { interval: 60 },
  limits: { cpu_usage: 0, memory_mbytes: 0, waitfor_seconds: 5 },
};

/** The wizard's "Network source" input for an address that is neither HTTP, RTMP nor RTSP (UDP, SRT…). */
export function networkSourceInput(address: string): { address: string; options: string[] } {
  return {
    address,
    // general: fflags genpts, thread_queue_size 512, probesize 5 MB; then analyzeduration 5 s.
    options: [
      '-fflags',
      '+genpts',
      '-thread_queue_size',
      '512',
      '-probesize',
      '5000000',
      '-analyzeduration',
      '5000000',
    ],
  };
}

const limitsOf = (control: ChannelControl) => ({
  cpu_usage: control.limits.cpu_usage,
  memory_mbytes: control.limits.memory_mbytes,
  waitfor_seconds: control.limits.waitfor_seconds,
});

/**
 * `UpsertIngest` for memfs storage without RTMP/SRT re-publishing (no tee muxer): the output is the
 * variant playlist `{memfs}/<channel>_{outputid}.m3u8`, the master `<channel>.m3u8` beside it.
 * `outputOptions` are the profile's (`-map 0:0 -codec:v copy …`), `publicAddress` the UI's
 * `GetPublicHTTPAddress()` (it names the oEmbed link in the title metadata).
 */
export function ingestProcess(options: {
  channelid: string;
  input: { address: string; options: string[] };
  outputOptions: string[];
  publicAddress: string;
  control?: ChannelControl;
}) {
  const control = options.control ?? defaultControl;
  const { channelid } = options;
  const hls = control.hls;
  const segmentPlaylistPath = `${channelid}${hls.master_playlist ? '_{outputid}' : ''}`;
  const segmentFilePath = `${channelid}${hls.master_playlist ? '_{outputid}_%04d' : '_%04d'}`;
  const segmentExtension = hls.version === 7 ? 'mp4' : 'ts';
  const flags =
    hls.version === 3
      ? 'append_list+delete_segments+program_date_time+temp_file'
      : 'append_list+delete_segments+program_date_time+independent_segments+temp_file';
  const hlsParams: [string, string][] = [
    ['f', 'hls'],
    ['start_number', '0'],
    ['hls_time', String(hls.segmentDuration)],
    ['hls_list_size', String(hls.listSize)],
    ['hls_flags', flags],
    ['hls_delete_threshold', '4'],
    ...(hls.version === 7
      ? ([
          ['hls_segment_type', 'fmp4'],
          ['hls_fmp4_init_filename', `${channelid}.mp4`],
          ['hls_fmp4_init_resend', '1'],
        ] as [string, string][])
      : []),
    ['hls_segment_filename', `{memfs}/${segmentFilePath}.${segmentExtension}`],
    ...(hls.master_playlist
      ? ([
          ['master_pl_name', `${channelid}.m3u8`],
          ['master_pl_publish_rate', String(hls.segmentDuration)],
        ] as [string, string][])
      : []),
    ['method', 'PUT'],
  ];
  const keep = hls.segmentDuration * (hls.listSize + 6);
  return {
    type: 'ffmpeg',
    id: `restreamer-ui:ingest:${channelid}`,
    reference: channelid,
    input: [{ id: 'input_0', address: options.input.address, options: options.input.options }],
    output: [
      {
        id: 'output_0',
        address: `{memfs}/${segmentPlaylistPath}.m3u8`,
        options: [
          '-dn',
          '-sn',
          ...options.outputOptions,
          '-metadata',
          `title=${options.publicAddress}/${channelid}/oembed.json`,
          '-metadata',
          'service_provider=datarhei-Restreamer',
          ...hlsParams.flatMap(([name, value]) => [`-${name}`, value]),
        ],
        cleanup: [
          { pattern: `memfs:/${channelid}**`, purge_on_delete: true },
          {
            pattern: `memfs:/${segmentPlaylistPath}.m3u8`,
            max_file_age_seconds: keep,
            purge_on_delete: true,
          },
          {
            pattern: `memfs:/${channelid}${hls.master_playlist ? '_{outputid}_**' : '_**'}.${segmentExtension}`,
            max_files: hls.listSize + 6,
            max_file_age_seconds: keep,
            purge_on_delete: true,
          },
          ...(hls.master_playlist
            ? [{ pattern: `memfs:/${channelid}.m3u8`, max_file_age_seconds: keep, purge_on_delete: true }]
            : []),
        ],
      },
    ],
    options: ['-loglevel', 'level+info', '-err_detect', 'ignore_err', '-y'],
    autostart: control.process.autostart,
    reconnect: control.process.reconnect,
    reconnect_delay_seconds: control.process.delay,
    stale_timeout_seconds: control.process.staleTimeout,
    limits: limitsOf(control),
  };
}

/** `UpsertIngestSnapshot`: one JPEG from the channel's HLS every `control.snapshot.interval` seconds. */
export function snapshotProcess(channelid: string, control: ChannelControl = defaultControl) {
  return {
    type: 'ffmpeg',
    id: `restreamer-ui:ingest:${channelid}_snapshot`,
    reference: channelid,
    input: [{ id: 'input_0', address: `{memfs}/${channelid}.m3u8`, options: [] }],
    output: [
      {
        id: 'output_0',
        address: `{memfs}/${channelid}.jpg`,
        options: ['-vframes', '1', '-f', 'image2', '-update', '1'],
        cleanup: [{ pattern: `memfs:/${channelid}.jpg`, purge_on_delete: true }],
      },
    ],
    options: ['-err_detect', 'ignore_err'],
    autostart: control.process.autostart,
    reconnect: true,
    reconnect_delay_seconds: control.snapshot.interval,
    stale_timeout_seconds: 30,
  };
}

/**
 * `UpdateEgress` of a publication whose source is the channel's `hls+memfs`: the HLS read in real
 * time (`-re`), one output per service output with the profile's options before the service's.
 * The RTMP service's output is `-f flv` to the address (FFmpeg < 6 gets no enhanced-RTMP codecs).
 */
export function egressProcess(options: {
  channelid: string;
  service: string;
  index: string;
  profileOptions: string[];
  outputs: { address: string; options: string[] }[];
  autostart: boolean;
}) {
  const control = defaultControl;
  return {
    type: 'ffmpeg',
    id: `restreamer-ui:egress:${options.service}:${options.index}`,
    reference: options.channelid,
    input: [{ id: 'input_0', address: `{memfs}/${options.channelid}.m3u8`, options: ['-re'] }],
    output: options.outputs.map((output, index) => ({
      id: `output_${index}`,
      address: output.address,
      options: [...options.profileOptions, ...output.options],
    })),
    options: ['-loglevel', 'level+info', '-err_detect', 'ignore_err'],
    autostart: options.autostart,
    reconnect: control.process.reconnect,
    reconnect_delay_seconds: control.process.delay,
    stale_timeout_seconds: control.process.staleTimeout,
    limits: limitsOf(control),
  };
}
