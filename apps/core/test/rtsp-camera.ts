import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { waitFor } from '@dragon/test-helpers';
import { type FFmpegChild, runFFmpeg } from './ffmpeg-child.js';

/**
 * A stand-in for an IP camera: an RTSP server (RFC 2326, just what FFmpeg's client uses —
 * OPTIONS, DESCRIBE, SETUP over TCP-interleaved transport, PLAY, TEARDOWN) serving live H.264 + AAC
 * that FFmpeg encodes. Like many cameras, the H.264 parameter sets are only in the SDP
 * (`sprop-parameter-sets`), never in-band: the case that made copied camera video undecodable.
 */
export class RtspCamera {
  readonly #server: Server;
  readonly #encoder: FFmpegChild;
  readonly #rtp: UdpSocket[];
  readonly #clients = new Set<Socket>();
  readonly #playing = new Set<Socket>();
  readonly #sdp: string;

  private constructor(server: Server, encoder: FFmpegChild, rtp: UdpSocket[], sdp: string) {
    this.#server = server;
    this.#encoder = encoder;
    this.#rtp = rtp;
    this.#sdp = sdp;
    for (const [channel, socket] of rtp.entries()) {
      // RFC 2326 §10.12: `$`, the interleaved channel (FFmpeg asks for 0-1 and 2-3), the length.
      socket.on('message', (packet: Buffer) => {
        const frame = Buffer.alloc(4);
        frame[0] = 0x24;
        frame[1] = channel * 2;
        frame.writeUInt16BE(packet.length, 2);
        for (const client of this.#playing) client.write(Buffer.concat([frame, packet]));
      });
    }
    server.on('connection', (client) => this.#serve(client));
  }

  /** Starts the encoder and the RTSP server on a free loopback port. */
  static async start(dir: string): Promise<RtspCamera> {
    const rtp = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<UdpSocket>((resolve) => {
            const socket = createSocket('udp4');
            socket.bind(0, '127.0.0.1', () => resolve(socket));
          }),
      ),
    );
    const sdpFile = join(dir, 'camera.sdp');
    const [video, audio] = rtp.map((socket) => socket.address().port);
    const encoder = runFFmpeg([
      ...['-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
      ...['-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25'],
      // A global header: SPS/PPS go into the SDP only, as many cameras send them.
      ...['-flags:v', '+global_header', '-payload_type', '96', '-f', 'rtp', `rtp://127.0.0.1:${video}`],
      ...['-map', '1:a', '-c:a', 'aac', '-b:a', '64k', '-payload_type', '97', '-f', 'rtp'],
      ...[`rtp://127.0.0.1:${audio}`, '-sdp_file', sdpFile],
    ]);
    const sdp = await waitFor(
      'the camera SDP',
      () => {
        try {
          const text = readFileSync(sdpFile, 'utf8');
          return text.includes('m=audio') ? text : undefined;
        } catch {
          return undefined;
        }
      },
      30_000,
    );
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new RtspCamera(server, encoder, rtp, describe(sdp));
  }

  /** What a user types into the process config: `rtsp://127.0.0.1:<port>/stream1`. */
  get url(): string {
    return `rtsp://127.0.0.1:${(this.#server.address() as { port: number }).port}/stream1`;
  }

  /** The SDP the camera answers DESCRIBE with. */
  get sdp(): string {
    return this.#sdp;
  }

  async close(): Promise<void> {
    for (const client of this.#clients) client.destroy();
    for (const socket of this.#rtp) socket.close();
    this.#encoder.child.kill('SIGKILL');
    await this.#encoder.exited;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #serve(client: Socket): void {
    this.#clients.add(client);
    let buffered = '';
    client.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const request = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        // Interleaved RTCP from the client ($-framed) may precede a request: skip to the method.
        const start = request.search(/[A-Z_]+ rtsp:\/\//);
        if (start >= 0) this.#answer(client, request.slice(start));
      }
    });
    const drop = () => {
      this.#clients.delete(client);
      this.#playing.delete(client);
    };
    client.on('close', drop);
    client.on('error', drop);
  }

  #answer(client: Socket, request: string): void {
    const [requestLine = '', ...headerLines] = request.split('\r\n');
    const method = requestLine.split(' ')[0];
    const header = (name: string) =>
      headerLines
        .find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
        ?.slice(name.length + 1)
        .trim();
    const reply = (status: string, headers: Record<string, string> = {}, body = '') => {
      const lines = [`RTSP/1.0 ${status}`, `CSeq: ${header('CSeq') ?? '0'}`];
      for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
      if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
      client.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
    };
    switch (method) {
      case 'OPTIONS':
        reply('200 OK', { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER' });
        break;
      case 'DESCRIBE':
        reply('200 OK', { 'Content-Type': 'application/sdp', 'Content-Base': `${this.url}/` }, this.#sdp);
        break;
      case 'SETUP': {
        const transport = header('Transport') ?? '';
        if (transport.includes('TCP'))
          reply('200 OK', { Transport: transport, Session: '12345678;timeout=60' });
        else reply('461 Unsupported Transport');
        break;
      }
      case 'PLAY':
        this.#playing.add(client);
        reply('200 OK', { Session: '12345678', Range: 'npt=0.000-' });
        break;
      case 'GET_PARAMETER':
        reply('200 OK', { Session: '12345678' });
        break;
      case 'TEARDOWN':
        this.#playing.delete(client);
        reply('200 OK', { Session: '12345678' });
        break;
      default:
        reply('405 Method Not Allowed');
    }
  }
}

/** FFmpeg's RTP SDP made into a camera's DESCRIBE answer: no addresses, a control URL per track. */
function describe(sdp: string): string {
  let track = 0;
  const lines = sdp
    .split(/\r?\n/)
    .filter((line) => line !== '' && !line.startsWith('c=') && !line.startsWith('a=tool'))
    .flatMap((line) => {
      if (!line.startsWith('m=')) return [line];
      const [kind, , proto, format] = line.split(' ');
      return [`${kind} 0 ${proto} ${format}`, 'c=IN IP4 0.0.0.0', `a=control:track${track++}`];
    });
  const media = lines.findIndex((line) => line.startsWith('m='));
  lines.splice(media, 0, 'a=control:*');
  return `${lines.join('\r\n')}\r\n`;
}
