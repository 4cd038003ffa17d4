import { InvalidSdpError, InvalidSdpFragmentError } from './errors.js';

// What is HTTP about SDP bodies: decoding them, reading the ICE credentials WHEP's PATCH compares
// against, and the trickle-ice-sdpfrag format of PATCH bodies. Whether an offer is acceptable SDP
// is the engine's decision alone (`createPeer` rejects with `INVALID_SDP`), made before it
// allocates anything for the viewer.

// Control characters other than TAB, LF and CR never occur in SDP text (RFC 8866 §5).
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point of this pattern
const controlCharacter = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// RFC 8866 §5: every line is `<type>=<value>` with a one-letter type.
const sdpLine = /^[a-z]=/;

function splitLines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.length > 0);
}

/** Decodes a body as UTF-8 (RFC 8866 §5: SDP text is UTF-8); `undefined` when it is not. */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Decodes a body as UTF-8 text; `undefined` when it is binary. */
export function decodeText(bytes: Uint8Array): string | undefined {
  const text = decodeUtf8(bytes);
  return text === undefined || controlCharacter.test(text) ? undefined : text;
}

/** The ICE credentials an SDP (offer) declares: the first `a=ice-ufrag`/`a=ice-pwd`, session or media level. */
export interface SdpIceCredentials {
  ufrag: string | undefined;
  pwd: string | undefined;
}

function attribute(lines: readonly string[], name: string): string | undefined {
  const prefix = `a=${name}:`;
  const line = lines.find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : line.slice(prefix.length).trim();
}

/**
 * Reads an offer body: its text, handed to the engine as is, and the ICE credentials it declares.
 * @throws InvalidSdpError when the body is not UTF-8 text
 */
export function readOffer(body: Uint8Array): { sdp: string; ice: SdpIceCredentials } {
  const sdp = decodeUtf8(body);
  if (sdp === undefined) throw new InvalidSdpError('the body is not UTF-8 text');
  const lines = splitLines(sdp);
  return { sdp, ice: { ufrag: attribute(lines, 'ice-ufrag'), pwd: attribute(lines, 'ice-pwd') } };
}

/** A parsed `application/trickle-ice-sdpfrag` body (RFC 8840 §9). */
export interface SdpFragment {
  /** `a=ice-ufrag` / `a=ice-pwd`, from the session level or the first media section that has them. */
  ufrag: string | undefined;
  pwd: string | undefined;
  /** Candidate lines without the `a=` prefix. */
  candidates: string[];
  endOfCandidates: boolean;
}

/**
 * Parses a trickle-ice-sdpfrag body. Unknown attributes are ignored (RFC 8840 §4.4 lets fragments
 * carry more than ICE lines); anything that is not an SDP line is refused.
 * @throws InvalidSdpFragmentError
 */
export function parseSdpFragment(body: Uint8Array): SdpFragment {
  const text = decodeText(body);
  if (text === undefined) throw new InvalidSdpFragmentError('the body is not text');
  const fragment: SdpFragment = {
    ufrag: undefined,
    pwd: undefined,
    candidates: [],
    endOfCandidates: false,
  };
  const lines = splitLines(text);
  for (const [index, line] of lines.entries()) {
    if (!sdpLine.test(line)) {
      throw new InvalidSdpFragmentError(`line ${index + 1} is not of the form "<type>=<value>"`);
    }
    if (line.startsWith('a=ice-ufrag:')) {
      fragment.ufrag ??= line.slice('a=ice-ufrag:'.length).trim();
    } else if (line.startsWith('a=ice-pwd:')) {
      fragment.pwd ??= line.slice('a=ice-pwd:'.length).trim();
    } else if (line.startsWith('a=candidate:')) {
      fragment.candidates.push(line.slice(2));
    } else if (line === 'a=end-of-candidates') {
      fragment.endOfCandidates = true;
    }
  }
  if ((fragment.ufrag === undefined) !== (fragment.pwd === undefined)) {
    throw new InvalidSdpFragmentError('a=ice-ufrag and a=ice-pwd must come together');
  }
  return fragment;
}
