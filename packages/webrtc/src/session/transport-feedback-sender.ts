import type { RTCDtlsTransport } from 'werift';
import type { TransportFeedbackWriter } from '../rtcp/twcc-feedback-writer.js';
import { sendRawRtcp } from '../werift/raw-rtcp.js';

/** libwebrtc's receiver reports arrivals about every 50 ms at a publisher's rates. */
const feedbackIntervalMs = 50;
const ignore = () => undefined;

/**
 * Sends a publisher the transport-wide feedback its send-side estimator (Chromium's GCC) runs on:
 * every 50 ms, what the {@link TransportFeedbackWriter} recorded since the last time, naming one of
 * the publisher's media SSRCs (Chromium routes feedback by it and ignores feedback naming none).
 * Without it Chromium stays near its start rate (300 kbit/s) and sends only its lowest simulcast layer.
 */
export class TransportFeedbackSender {
  readonly #transport: RTCDtlsTransport;
  readonly #writer: TransportFeedbackWriter;
  readonly #mediaSsrc: () => number | undefined;
  readonly #timer: NodeJS.Timeout;
  #sent = 0;
  #closed = false;

  constructor(
    transport: RTCDtlsTransport,
    writer: TransportFeedbackWriter,
    mediaSsrc: () => number | undefined,
  ) {
    this.#transport = transport;
    this.#writer = writer;
    this.#mediaSsrc = mediaSsrc;
    this.#timer = setInterval(() => this.#send(), feedbackIntervalMs);
    this.#timer.unref();
  }

  /** Feedback packets sent so far. */
  get sent(): number {
    return this.#sent;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
  }

  #send(): void {
    const ssrc = this.#mediaSsrc();
    if (ssrc === undefined || this.#transport.state !== 'connected') return;
    for (let packet = this.#writer.build(ssrc); packet; packet = this.#writer.build(ssrc)) {
      this.#sent += 1;
      void sendRawRtcp(this.#transport, packet).catch(ignore);
    }
  }
}
