import { describe, expect, it } from 'vitest';
import { transportCcExtensionId, withoutTransportCc } from './transport-cc-offer.js';

const twcc = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

function offer(videoLines: string[]): string {
  return [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    `a=extmap:3 ${twcc}`,
    'a=rtpmap:111 opus/48000/2',
    'a=rtcp-fb:111 transport-cc',
    'm=video 9 UDP/TLS/RTP/SAVPF 102',
    ...videoLines,
    '',
  ].join('\r\n');
}

describe('transport-cc in a publisher offer', () => {
  it("reads the video section's transport-wide extension id when its video asks for transport-cc", () => {
    const sdp = offer([`a=extmap:4 ${twcc}`, 'a=rtpmap:102 H264/90000', 'a=rtcp-fb:102 transport-cc']);
    expect(transportCcExtensionId(sdp)).toBe(4);
  });

  it('reads none without the feedback line or without the extension in the video section', () => {
    expect(transportCcExtensionId(offer([`a=extmap:4 ${twcc}`, 'a=rtpmap:102 H264/90000']))).toBeUndefined();
    expect(
      transportCcExtensionId(offer(['a=rtpmap:102 H264/90000', 'a=rtcp-fb:102 transport-cc'])),
    ).toBeUndefined();
  });

  it('gives werift the offer without any transport-cc feedback line, everything else kept', () => {
    const sdp = offer([`a=extmap:4 ${twcc}`, 'a=rtpmap:102 H264/90000', 'a=rtcp-fb:102 transport-cc']);
    const stripped = withoutTransportCc(sdp);
    expect(stripped).not.toMatch(/transport-cc/);
    expect(stripped.split('\r\n').length).toBe(sdp.split('\r\n').length - 2);
    expect(stripped).toContain(`a=extmap:4 ${twcc}`);
  });
});
