/** What a caller asks for in its SRT streamid. */
export interface SrtStreamInfo {
  /** The stream's name (datarhei's resource). */
  resource: string;
  /** `publish` or `request` (play); datarhei assumes `request` when absent. */
  mode: string;
  token: string;
}

const keyedValue = /,(token|mode):/g;

/**
 * Parses a streamid as datarhei does: its own `name[,mode:publish|request][,token:…]` (percent-decoded
 * first; a key's value runs to the next `,token:`/`,mode:`, so tokens may contain commas) or the SRT
 * access-control form `#!:m=publish,r=name,token=…` (SRT's `docs/features/access-control.md`).
 */
export function parseStreamId(raw: string): SrtStreamInfo {
  let streamId = raw;
  try {
    streamId = decodeURIComponent(raw);
  } catch {
    // datarhei keeps the raw value when it is not valid percent-encoding.
  }
  if (streamId.startsWith('#!:')) return parseAccessControl(streamId.slice(3));
  const info: SrtStreamInfo = { resource: streamId, mode: 'request', token: '' };
  const matches = [...streamId.matchAll(keyedValue)];
  if (matches.length === 0) return info;
  info.resource = streamId.slice(0, matches[0]!.index);
  matches.forEach((match, index) => {
    const end = matches[index + 1]?.index ?? streamId.length;
    const value = streamId.slice(match.index + match[0].length, end);
    if (match[1] === 'token') info.token = value;
    else info.mode = value;
  });
  return info;
}

function parseAccessControl(body: string): SrtStreamInfo {
  const info: SrtStreamInfo = { resource: '', mode: 'request', token: '' };
  for (const pair of body.split(',')) {
    const at = pair.indexOf('=');
    if (at < 0) continue;
    const value = pair.slice(at + 1);
    switch (pair.slice(0, at)) {
      case 'm':
        info.mode = value;
        break;
      case 'r':
        info.resource = value;
        break;
      case 'token':
        info.token = value;
        break;
    }
  }
  return info;
}
