/**
 * What FFmpeg opens on an option's word, FFmpeg 4.4 to 7.1: the filter options, command-line options
 * and format, protocol and encoder options that name a file, a URL, a plugin or more options. Built
 * from FFmpeg's filter list (`ffmpeg -filters`, `ffmpeg -h filter=X`); the positions of positional
 * values are FFmpeg 5.1's and checked against the installed FFmpeg in `ffmpeg-access.slow.test.ts`.
 */

/**
 * - `input`: opened as an input is (any protocol; `ffmpeg.access.input` applies)
 * - `read`: a local file or directory read (a font, a LUT, a model)
 * - `write`: a file or URL written (only into the output directories)
 * - `library`: a plugin FFmpeg loads as code: a name from the system's plugin directories, never a path
 * - `format`: an input format (`concat` reads a list of files)
 * - `input-options`: demuxer options, `key=value:…`
 * - `commands`: filter commands, which may set file options later
 * - `graph`: a filter graph
 * - `refused`: what the policy cannot judge: a file whose content becomes options, commands or a list
 *   of files; a control socket through which anyone could send commands
 */
export type FileRole =
  | 'input'
  | 'read'
  | 'write'
  | 'library'
  | 'format'
  | 'input-options'
  | 'commands'
  | 'graph'
  | 'refused';

export interface FilterFileOption {
  names: readonly string[];
  role: FileRole;
  /** Its place among the filter's positional values (`movie=file.mp4`), when it has one. */
  position?: number;
  /** What FFmpeg uses when the option is not given, when that is a file. */
  fallback?: string;
  /** Why a `refused` option is refused. */
  reason?: string;
}

const option = (
  names: string | readonly string[],
  role: FileRole,
  position?: number,
  extra: Partial<FilterFileOption> = {},
): FilterFileOption => ({
  names: typeof names === 'string' ? [names] : names,
  role,
  ...(position === undefined ? {} : { position }),
  ...extra,
});

const movie = [
  option('filename', 'input', 0),
  option(['format_name', 'f'], 'format', 1),
  option('format_opts', 'input-options', 8),
];
const subtitles = [option(['filename', 'f'], 'input', 0), option('fontsdir', 'read', 2)];
const dnn = [option('model', 'read', 1), option('labels', 'read', 8)];
const commandFile = 'a file of filter commands is read while FFmpeg runs: the policy cannot judge it';
const sendcmd = [
  option(['commands', 'c'], 'commands', 0),
  option(['filename', 'f'], 'refused', 1, { reason: commandFile }),
];
const controlSocket =
  'it opens a socket through which anyone who reaches it can change filter options, files included';
const metadata = [option('file', 'write', 5)];

export const filterFileOptions: Readonly<Record<string, readonly FilterFileOption[]>> = {
  movie,
  amovie: movie,
  subtitles,
  ass: subtitles.slice(),
  drawtext: [option('fontfile', 'read', 0), option('textfile', 'read', 2)],
  lut3d: [option('file', 'read', 0)],
  lut1d: [option('file', 'read', 0)],
  curves: [option('psfile', 'read', 6), option('plot', 'write', 7)],
  selectivecolor: [option('psfile', 'read', 10)],
  fieldhint: [option('hint', 'read', 0)],
  cover_rect: [option('cover', 'input', 0)],
  find_rect: [option('object', 'input', 0)],
  removelogo: [option(['filename', 'f'], 'input', 0)],
  nnedi: [option('weights', 'read', 0)],
  cellauto: [option(['filename', 'f'], 'read', 0)],
  life: [option(['filename', 'f'], 'read', 0)],
  arnndn: [option(['model', 'm'], 'read', 0)],
  sofalizer: [option('sofa', 'read', 0)],
  dnn_processing: dnn,
  dnn_detect: dnn,
  dnn_classify: dnn,
  sr: [option('model', 'read', 2)],
  derain: [option('model', 'read', 2)],
  vidstabtransform: [option('input', 'read', 0)],
  vidstabdetect: [option('result', 'write', 0, { fallback: 'transforms.trf' })],
  asr: [
    option('hmm', 'read', 1),
    option('dict', 'read', 2),
    option('lm', 'read', 3),
    option('lmctl', 'read', 4),
    option('logfn', 'write', 6),
  ],
  showcqt: [option('fontfile', 'read', 19), option('axisfile', 'input', 22)],
  flite: [option('textfile', 'read', 3)],
  libplacebo: [option('custom_shader_path', 'read')],
  program_opencl: [option('source', 'read', 0)],
  openclsrc: [option('source', 'read', 0)],
  xfade_opencl: [option('source', 'read', 1)],
  ocr: [option('datapath', 'read', 0)],
  lensfun: [option('db_path', 'read')],
  libvmaf: [option(['model_path', 'model'], 'read'), option('log_path', 'write')],
  qrencode: [option('textfile', 'read')],
  qrencodesrc: [option('textfile', 'read')],
  metadata,
  ametadata: metadata,
  psnr: [option(['stats_file', 'f'], 'write', 0)],
  ssim: [option(['stats_file', 'f'], 'write', 0)],
  xpsnr: [option(['stats_file', 'f'], 'write', 0)],
  vmafmotion: [option('stats_file', 'write', 0)],
  firequalizer: [option('dumpfile', 'write', 9)],
  deshake: [option('filename', 'write', 10)],
  signature: [option('filename', 'write', 2)],
  paletteuse: [option('debug_kdtree', 'write', 6)],
  frei0r: [option('filter_name', 'library', 0)],
  frei0r_src: [option('filter_name', 'library', 2)],
  ladspa: [option(['file', 'f'], 'library', 0)],
  sendcmd,
  asendcmd: sendcmd,
};

/** Filters refused whatever their options say (a default that opens a control socket). */
export const refusedFilters: Readonly<Record<string, string>> = {
  zmq: controlSocket,
  azmq: controlSocket,
};

/** Every option name that opens something, any filter: what a filter command may not set. */
export const fileOptionNames = new Set(
  Object.values(filterFileOptions).flatMap((options) =>
    options.filter((entry) => entry.role !== 'commands').flatMap((entry) => entry.names),
  ),
);

const fileOfOptions = 'its content becomes FFmpeg options: the policy cannot judge it';

/** FFmpeg's own command-line options that name something to open. */
export const commandLineFileOptions: Readonly<Record<string, { role: FileRole; reason?: string }>> = {
  filter: { role: 'graph' },
  vf: { role: 'graph' },
  af: { role: 'graph' },
  lavfi: { role: 'graph' },
  filter_complex: { role: 'graph' },
  filter_script: { role: 'refused', reason: 'a filter graph read from a file: the policy cannot judge it' },
  filter_complex_script: {
    role: 'refused',
    reason: 'a filter graph read from a file: the policy cannot judge it',
  },
  fpre: { role: 'refused', reason: `a preset file: ${fileOfOptions}` },
  attach: { role: 'input' },
  progress: { role: 'write' },
  sdp_file: { role: 'write' },
  vstats_file: { role: 'write' },
  stats_enc_pre: { role: 'write' },
  stats_enc_post: { role: 'write' },
  stats_mux_pre: { role: 'write' },
  print_graphs_file: { role: 'write' },
  report: { role: 'refused', reason: 'FFmpeg would write a report file into its working directory' },
  vstats: { role: 'refused', reason: 'FFmpeg would write a statistics file into its working directory' },
};

/** Presets are looked up by name in FFmpeg's data directories; a path would leave them. */
export const presetOptions = new Set(['pre', 'vpre', 'apre', 'spre']);

/**
 * Format, protocol and encoder options (AVOptions) that name a file, per option name. `beside`: the
 * muxer puts the name in the output's directory (`master_pl_name`, DASH segment names), else it is
 * used as given (relative to FFmpeg's working directory).
 */
export const formatFileOptions: Readonly<
  Record<string, { role: FileRole; reason?: string; beside?: boolean }>
> = {
  // Demuxers and devices.
  graph: { role: 'graph' },
  graph_file: { role: 'refused', reason: 'a filter graph read from a file: the policy cannot judge it' },
  assetmaps: { role: 'refused', reason: 'IMF asset maps name further files: the policy cannot see them' },
  // Protocols.
  ca_file: { role: 'read' },
  cafile: { role: 'read' },
  cert_file: { role: 'read' },
  key_file: { role: 'read' },
  rtmp_swfverify: { role: 'input' },
  // Muxers.
  hls_segment_filename: { role: 'write' },
  hls_fmp4_init_filename: { role: 'write', beside: true },
  hls_subtitle_path: { role: 'write' },
  master_pl_name: { role: 'write', beside: true },
  hls_key_info_file: {
    role: 'refused',
    reason: 'an HLS key info file names further files: the policy cannot see them',
  },
  segment_list: { role: 'write' },
  init_seg_name: { role: 'write', beside: true },
  media_seg_name: { role: 'write', beside: true },
  hls_master_name: { role: 'write', beside: true },
  single_file_name: { role: 'write', beside: true },
  header: { role: 'write' },
  // Encoders: libx264's two-pass statistics (read in pass 2).
  stats: { role: 'write' },
};

/** Options whose value is a `key=value:…` dictionary of further format options. */
export const formatOptionDictionaries = new Set([
  'format_opts',
  'fifo_options',
  'segment_format_options',
  'hls_ts_options',
]);

/** Encoder parameter strings (`-x264-params a=b:c=d`) and the parameters in them that name files. */
export const encoderParameterStrings = new Set(['x264-params', 'x264opts', 'x265-params', 'svtav1-params']);
export const encoderFileParameters: Readonly<Record<string, 'read' | 'write'>> = {
  stats: 'write',
  'dump-yuv': 'write',
  'tcfile-out': 'write',
  csv: 'write',
  'analysis-save': 'write',
  'analysis-reuse-file': 'write',
  recon: 'write',
  qpfile: 'read',
  cqmfile: 'read',
  'tcfile-in': 'read',
  'analysis-load': 'read',
  zonefile: 'read',
  'dhdr10-info': 'read',
  'scaling-list': 'read',
  'lambda-file': 'read',
};

/** Extensions FFmpeg's HLS demuxer allows for segments by default: a playlist may name only media. */
export const mediaExtensions = new Set(
  '3gp aac avi ac3 eac3 flac mkv m3u8 m4a m4s m4v mpg mov mp2 mp3 mp4 mpeg mpegts ogg ogv oga ts vob vtt wav webvtt cmfv cmfa'.split(
    ' ',
  ),
);
