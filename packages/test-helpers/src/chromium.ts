import { type Browser, chromium, type LaunchOptions } from 'playwright-core';

/**
 * What headless Chromium needs here: Debian's build run as root in a closed network (no sandbox,
 * no GPU, no background connections that the network refuses), media that plays without a click,
 * and WebRTC on loopback (Chromium hides loopback candidates and uses mDNS names by default; neither
 * works without multicast).
 */
export const chromiumArgs: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

/**
 * Launches Debian's Chromium (`/usr/bin/chromium`, or `CHROMIUM_PATH`) headless through
 * playwright-core, which downloads no browser of its own.
 * @example const browser = await launchChromium(); const page = await browser.newPage();
 */
export function launchChromium(
  extraArgs: readonly string[] = [],
  options: LaunchOptions = {},
): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    ...options,
    args: [...chromiumArgs, ...extraArgs],
  });
}
