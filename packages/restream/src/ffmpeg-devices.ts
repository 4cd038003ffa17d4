import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { z } from 'zod';

const run = promisify(execFile);

/** A capture or playback device FFmpeg can open, in datarhei's `SkillsHWDevice` shape. */
export const hardwareDeviceSchema = z.object({
  /** What goes into `-i` (`/dev/video0`, `hw:1,0`, `/dev/fb0`). */
  id: z.string(),
  name: z.string(),
  /** The bus (`usb-…`, `platform:bcm2835-v4l2`) for V4L2 devices; empty otherwise. */
  extra: z.string(),
  media: z.enum(['audio', 'video']),
});
export type HardwareDevice = z.infer<typeof hardwareDeviceSchema>;

/**
 * The devices behind one of FFmpeg's device formats, found as datarhei Core finds them: V4L2 through
 * `v4l2-ctl --list-devices`, ALSA capture devices from `/proc/asound`, framebuffers `/dev/fbN`. A
 * format Dragon does not enumerate, or a missing tool, gives an empty list.
 */
export async function listDevices(format: string): Promise<HardwareDevice[]> {
  switch (format) {
    case 'video4linux2':
      return parseV4l2Devices(await outputOf('v4l2-ctl', ['--list-devices']));
    case 'alsa': {
      const [cards, devices] = await Promise.all([
        readFile('/proc/asound/cards', 'utf8').catch(() => ''),
        readFile('/proc/asound/devices', 'utf8').catch(() => ''),
      ]);
      return parseAlsaDevices(cards, devices);
    }
    case 'fbdev':
      return listFramebuffers();
    default:
      return [];
  }
}

async function outputOf(binary: string, args: string[]): Promise<string> {
  try {
    return (await run(binary, args, { timeout: 5000, maxBuffer: 1024 * 1024 })).stdout;
  } catch (error) {
    // v4l2-ctl lists what it found and still exits non-zero when one device cannot be opened.
    return (error as { stdout?: string }).stdout ?? '';
  }
}

/** `Name (bus):` followed by indented `/dev/videoN` lines. */
export function parseV4l2Devices(text: string): HardwareDevice[] {
  const devices: HardwareDevice[] = [];
  let name = '';
  let extra = '';
  for (const line of text.split('\n')) {
    const path = /\/dev\/video\d+/.exec(line);
    if (path) {
      if (name) devices.push({ id: path[0], name, extra, media: 'video' });
      continue;
    }
    const header = /^(.*)\(([^()]*)\):$/.exec(line);
    if (header) {
      name = header[1]!.trim();
      extra = header[2]!;
    }
  }
  return devices;
}

/** Capture devices of `/proc/asound/devices`, named after their card in `/proc/asound/cards`. */
export function parseAlsaDevices(cardsText: string, devicesText: string): HardwareDevice[] {
  const cards = new Map<string, string>();
  for (const line of cardsText.split('\n')) {
    const card = /^\s*(\d+) \[[^\]]+\]: (.*)$/.exec(line);
    if (card) cards.set(card[1]!, card[2]!);
  }
  const devices: HardwareDevice[] = [];
  for (const line of devicesText.split('\n')) {
    const device = /^\s*\d+: \[\s?(\d+)-\s?(\d+)\]: (.*)$/.exec(line);
    if (device?.[3] !== 'digital audio capture') continue;
    const name = cards.get(device[1]!);
    if (name !== undefined)
      devices.push({ id: `hw:${device[1]},${device[2]}`, name, extra: '', media: 'audio' });
  }
  return devices;
}

function listFramebuffers(): HardwareDevice[] {
  const devices: HardwareDevice[] = [];
  for (let index = 0; index < 32; index++) {
    const path = `/dev/fb${index}`;
    if (!existsSync(path)) break;
    devices.push({ id: path, name: path, extra: '', media: 'video' });
  }
  return devices;
}
