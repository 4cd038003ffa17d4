/** One input of a process: its address and the options placed before its `-i`. */
export interface ProcessInput {
  address: string;
  options?: readonly string[];
}

/**
 * Whether FFmpeg is the server for this input: it waits for a publisher to connect (RTMP/RTSP/HTTP/
 * TCP `listen`, SRT `listener`, a RIST `@` bind). Such an input must not be probed: the probe would
 * take the publisher's one connection, and the publisher would meet a closed port afterwards.
 *
 * @example isListeningInput({ address: 'rtmp://0.0.0.0:1935/live/cam', options: ['-listen', '1'] }) // true
 */
export function isListeningInput(input: ProcessInput): boolean {
  const options = input.options ?? [];
  for (let i = 0; i < options.length; i++) {
    const name = options[i]!;
    const value = options[i + 1] ?? '';
    // `-listen 1` (tcp, http, rtmp, tls, unix), `-listen 2` (http, many clients); `-rtmp_listen 1`.
    if ((name === '-listen' || name === '-rtmp_listen') && isOn(value)) return true;
    // RTSP: `-rtsp_flags listen`, also in combination (`filter_src+listen`).
    if (name === '-rtsp_flags' && flagSet(value, 'listen')) return true;
    // SRT: `-mode listener`.
    if (name === '-mode' && value === 'listener') return true;
  }
  const address = input.address.trim();
  // RIST binds and waits when the host is `@` (`rist://@0.0.0.0:5000`).
  if (/^rist:\/\/@/i.test(address)) return true;
  const query = address.indexOf('?');
  if (query < 0) return false;
  const params = new URLSearchParams(address.slice(query + 1));
  const listen = params.get('listen');
  if (listen !== null && (listen === '' || isOn(listen))) return true;
  return params.get('mode') === 'listener';
}

function isOn(value: string): boolean {
  return value !== '' && value !== '0' && value !== 'false';
}

/** AVOption flags syntax: `a+b`, `+a`, `-a` (removes). */
function flagSet(value: string, flag: string): boolean {
  let set = false;
  for (const match of value.matchAll(/([+-]?)([A-Za-z0-9_]+)/g)) {
    if (match[2] === flag) set = match[1] !== '-';
  }
  return set;
}

/**
 * Whether FFmpeg reads this input in a loop (`-stream_loop` other than 0). FFmpeg 5.1 flushes a
 * copied stream's bitstream filters when the input loops and then refuses every packet ("A non-NULL
 * packet sent after an EOF"): a copied video leg stops at the end of the first pass.
 */
export function isLoopingInput(input: ProcessInput): boolean {
  const options = input.options ?? [];
  let loops = false;
  for (let i = 0; i < options.length - 1; i++) {
    if (options[i] === '-stream_loop') loops = Number(options[i + 1]) !== 0;
  }
  return loops;
}
