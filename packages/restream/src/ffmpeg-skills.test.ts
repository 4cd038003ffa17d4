import { describe, expect, it } from 'vitest';
import { parseAlsaDevices, parseV4l2Devices } from './ffmpeg-devices.js';
import {
  parseCodecs,
  parseFilters,
  parseFormats,
  parseHwaccels,
  parseProtocols,
  parseVersion,
} from './ffmpeg-skills.js';

// Excerpts of FFmpeg 5.1's answers, legends included.
const codecs = `Codecs:
 D..... = Decoding supported
 .E.... = Encoding supported
 ..V... = Video codec
 ..A... = Audio codec
 ..S... = Subtitle codec
 ..D... = Data codec
 ...I.. = Intra frame-only codec
 -------
 D.VI.S 012v                 Uncompressed 4:2:2 10-bit
 DEV.LS h264                 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (decoders: h264 h264_v4l2m2m h264_cuvid ) (encoders: libx264 libx264rgb h264_vaapi )
 DEA.L. aac                  AAC (Advanced Audio Coding) (decoders: aac aac_fixed )
 DES... ass                  ASS (Advanced SSA) subtitle (decoders: ssa ass ) (encoders: ssa ass )
 D.D... bin_data             binary data
`;

describe('parseCodecs', () => {
  it('reads codecs with their encoders and decoders and skips the legend and data codecs', () => {
    const parsed = parseCodecs(codecs);
    expect(parsed.video).toEqual([
      { id: '012v', name: 'Uncompressed 4:2:2 10-bit', encoders: [], decoders: ['012v'] },
      {
        id: 'h264',
        name: 'H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10',
        encoders: ['libx264', 'libx264rgb', 'h264_vaapi'],
        decoders: ['h264', 'h264_v4l2m2m', 'h264_cuvid'],
      },
    ]);
    expect(parsed.audio).toEqual([
      { id: 'aac', name: 'AAC (Advanced Audio Coding)', encoders: ['aac'], decoders: ['aac', 'aac_fixed'] },
    ]);
    expect(parsed.subtitle.map((codec) => codec.id)).toEqual(['ass']);
  });
});

describe('parseFormats', () => {
  it('reads demuxers and muxers by their first name, skipping the legend', () => {
    const parsed = parseFormats(`File formats:
 D. = Demuxing supported
 .E = Muxing supported
 --
 D  3dostr          3DO STR
  E 3g2             3GP2 (3GPP2 file format)
 DE mov,mp4,m4a,3gp,3g2,mj2 QuickTime / MOV
 D  libcdio          
`);
    expect(parsed.demuxers).toEqual([
      { id: '3dostr', name: '3DO STR' },
      { id: 'mov', name: 'QuickTime / MOV' },
      { id: 'libcdio', name: '' },
    ]);
    expect(parsed.muxers).toEqual([
      { id: '3g2', name: '3GP2 (3GPP2 file format)' },
      { id: 'mov', name: 'QuickTime / MOV' },
    ]);
  });
});

describe('the other skills', () => {
  it('reads filters, protocols, hwaccels and the version block', () => {
    expect(
      parseFilters(`Filters:
  T.. = Timeline support
  A = Audio input/output
  | = Source or sink filter
 ..C acompressor       A->A       Audio compressor.
 ... abuffer           |->A       Buffer audio frames, and make them accessible to the filterchain.
`),
    ).toEqual([
      { id: 'acompressor', name: 'Audio compressor.' },
      { id: 'abuffer', name: 'Buffer audio frames, and make them accessible to the filterchain.' },
    ]);
    expect(parseProtocols('Supported file protocols:\nInput:\n  file\n  rtmp\nOutput:\n  file\n')).toEqual({
      input: [
        { id: 'file', name: 'file' },
        { id: 'rtmp', name: 'rtmp' },
      ],
      output: [{ id: 'file', name: 'file' }],
    });
    expect(parseHwaccels('Hardware acceleration methods:\nvdpau\ncuda\n\n')).toEqual([
      { id: 'vdpau', name: 'vdpau' },
      { id: 'cuda', name: 'cuda' },
    ]);
    expect(
      parseVersion(
        `ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers
built with gcc 12 (Debian 12.2.0-14+deb12u1)
configuration: --prefix=/usr --enable-gpl
libavutil      57. 28.100 / 57. 28.100
libavfilter     8. 44.100 /  8. 44.100
`,
        '5.1.9',
      ),
    ).toEqual({
      version: '5.1.9',
      compiler: 'gcc 12 (Debian 12.2.0-14+deb12u1)',
      configuration: '--prefix=/usr --enable-gpl',
      libraries: [
        { name: 'libavutil', compiled: '57. 28.100', linked: '57. 28.100' },
        { name: 'libavfilter', compiled: '8. 44.100', linked: '8. 44.100' },
      ],
    });
  });
});

describe('device lists', () => {
  it('reads V4L2 devices from v4l2-ctl --list-devices', () => {
    expect(
      parseV4l2Devices(`mmal service 16.1 (platform:bcm2835-v4l2):
\t/dev/video0

Webcam C170: Webcam C170 (usb-3f980000.usb-1.3):
\t/dev/video1

`),
    ).toEqual([
      { id: '/dev/video0', name: 'mmal service 16.1', extra: 'platform:bcm2835-v4l2', media: 'video' },
      { id: '/dev/video1', name: 'Webcam C170: Webcam C170', extra: 'usb-3f980000.usb-1.3', media: 'video' },
    ]);
    expect(parseV4l2Devices('')).toEqual([]);
  });

  it('reads ALSA capture devices from /proc/asound', () => {
    const cards = ` 0 [ALSA           ]: bcm2835_alsa - bcm2835 ALSA
                      bcm2835 ALSA
 1 [C170           ]: USB-Audio - Webcam C170
                      Webcam C170 at usb-3f980000.usb-1.3, high speed`;
    const devices = `  0: [ 0]   : control
 16: [ 0- 0]: digital audio playback
 32: [ 1]   : control
 56: [ 1- 0]: digital audio capture`;
    expect(parseAlsaDevices(cards, devices)).toEqual([
      { id: 'hw:1,0', name: 'USB-Audio - Webcam C170', extra: '', media: 'audio' },
    ]);
  });
});
