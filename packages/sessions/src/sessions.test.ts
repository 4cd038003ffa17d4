import { describe, expect, it } from 'vitest';
import { createHlsSessions } from './hls-sessions.js';
import { SessionCollector } from './session-collector.js';
import { SessionRegistry, type WebRtcSessionInfo } from './session-registry.js';

const request = (session: string | undefined, ip = '203.0.113.7') => ({
  path: '/memfs/cam1.m3u8',
  session,
  ip,
  userAgent: 'hls.js',
  referrer: 'https://example.org/page',
});

describe('SessionCollector', () => {
  it('counts an activated session, ends it after the timeout and keeps its totals', () => {
    const collector = new SessionCollector('rtmp', { sessionTimeoutSec: 5 });
    collector.registerAndActivate('a', 'cam1', 'play:/live/cam1', '203.0.113.7:5000');
    collector.egress('a', 3 * 1024 * 1024, 1_000);
    expect(collector.active()).toHaveLength(1);
    collector.expire(2_000);
    expect(collector.activeCount()).toBe(1);
    collector.expire(1_000 + 5_000);
    const summary = collector.summary();
    expect(summary.active.sessions).toBe(0);
    expect(summary.summary.sessions).toBe(1);
    expect(summary.summary.traffic_tx_mb).toBe(3);
    expect(summary.summary.reference.cam1?.sessions).toBe(1);
    expect(summary.summary.remote['203.0.113.7:5000']?.local['play:/live/cam1']?.sessions).toBe(1);
  });

  it('ignores clients in the ignore list', () => {
    const collector = new SessionCollector('hls', { ipIgnoreList: ['127.0.0.1/32', '10.0.0.0/8'] });
    expect(collector.isCollectableIp('127.0.0.1')).toBe(false);
    expect(collector.isCollectableIp('::ffff:10.1.2.3')).toBe(false);
    expect(collector.isCollectableIp('203.0.113.7')).toBe(true);
  });
});

describe('HLS sessions', () => {
  it('hands a sessionless player a master playlist, then counts the session it comes back with', () => {
    const egress = new SessionCollector('hls');
    const hls = createHlsSessions(egress, new SessionCollector('hlsingress', { ipIgnoreList: [] }));
    const media =
      '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\ncam1_0001.ts\n#EXTINF:2.0,\ncam1_0002.ts\n';

    const first = hls.playlist(request(undefined));
    if ('refuse' in first) throw new Error('refused');
    const master = first.rewrite(media);
    const session = /cam1\.m3u8\?session=([A-Za-z0-9]{22})/.exec(master)?.[1];
    expect(session).toBeDefined();

    const second = hls.playlist(request(session));
    if ('refuse' in second) throw new Error('refused');
    const rewritten = second.rewrite(media);
    expect(rewritten).toContain(`cam1_0001.ts?session=${session}`);
    second.served(rewritten.length);
    expect(egress.activeCount()).toBe(0);

    hls.segment({ ...request(session), path: '/memfs/cam1_0001.ts' }, 1000);
    expect(egress.active()).toMatchObject([{ id: session, reference: 'cam1', local: '/memfs/cam1.m3u8' }]);
    expect(egress.active()[0]?.extra).toBe('[203.0.113.0] hls.js');
  });

  it('leaves loopback readers untouched and refuses beyond max_sessions', () => {
    const egress = new SessionCollector('hls', { maxSessions: 1 });
    const hls = createHlsSessions(egress, new SessionCollector('hlsingress'));
    const local = hls.playlist(request(undefined, '127.0.0.1'));
    if ('refuse' in local) throw new Error('refused');
    expect(local.rewrite('#EXTM3U\na.ts\n')).toBe('#EXTM3U\na.ts\n');

    egress.registerAndActivate('x'.repeat(22), 'other', '/memfs/other.m3u8', '');
    expect(hls.playlist(request(undefined))).toEqual({ refuse: 'Number of sessions exceeded' });
  });

  it('counts what FFmpeg writes as ingress of the playlist', () => {
    const ingress = new SessionCollector('hlsingress', { ipIgnoreList: [] });
    const hls = createHlsSessions(new SessionCollector('hls'), ingress);
    hls.ingress('/memfs/cam1_0001.ts', 5000, undefined);
    hls.ingress('/memfs/cam1.m3u8', 100, '#EXTM3U\n#EXTINF:2.0,\ncam1_0001.ts\n');
    expect(ingress.active()).toMatchObject([{ id: '/memfs/cam1.m3u8', bytes_rx: 5100 }]);
  });
});

describe('SessionRegistry', () => {
  it('mirrors WebRTC viewers into the webrtc collector and closes the ones that left', () => {
    let viewers: WebRtcSessionInfo[] = [
      { processId: 'cam1', remote: '203.0.113.9:4000', createdAt: new Date(1_000), bytesSent: 10_000 },
    ];
    const registry = new SessionRegistry({ webrtcSessions: () => viewers, tickMs: 3_600_000 });
    try {
      registry.tick();
      viewers = [{ ...viewers[0]!, bytesSent: 25_000 }];
      registry.tick();
      expect(registry.active('webrtc')).toMatchObject([
        { reference: 'cam1', remote: '203.0.113.9:4000', local: 'whep:cam1', bytes_tx: 25_000 },
      ]);
      viewers = [];
      registry.tick();
      expect(registry.active('webrtc')).toEqual([]);
      expect(registry.summary('webrtc').summary.reference.cam1?.sessions).toBe(1);
      expect(registry.summary('nonexistent').active.sessions).toBe(0);
    } finally {
      registry.close();
    }
  });
});

describe('an adaptive WebRTC viewer in the listing', () => {
  it("shows its rendition, link estimate, loss and switches in the session's extra", () => {
    let viewers: WebRtcSessionInfo[] = [
      {
        id: 's1',
        processId: 'cam1',
        remote: '203.0.113.9:4000',
        createdAt: new Date(1_000),
        bytesSent: 10_000,
        rendition: '360p',
        estimateBps: 551_000,
        loss: 0.004,
        switches: 3,
      },
      { id: 's2', processId: 'cam1', remote: '203.0.113.10:4000', createdAt: new Date(1_000), bytesSent: 0 },
    ];
    const registry = new SessionRegistry({ webrtcSessions: () => viewers, tickMs: 3_600_000 });
    try {
      registry.tick();
      expect(registry.active('webrtc').map((session) => session.extra)).toEqual([
        '360p · link ~551 kbit/s · loss 0.4 % · 3 switches',
        '',
      ]);
      viewers = [{ ...viewers[0]!, rendition: 'audio', estimateBps: 120_000, loss: 0, switches: 1 }];
      registry.tick();
      expect(registry.active('webrtc')[0]?.extra).toBe('audio only · link ~120 kbit/s · loss 0 % · 1 switch');
    } finally {
      registry.close();
    }
  });
});

describe('SessionCollector options', () => {
  it('refuses an ignore-list entry that is no CIDR, naming the collector, instead of ignoring it', () => {
    for (const entry of ['localhost', '10.0.0.0/33', '::1/129', '10.0.0.0/8/8', '10.0.0.0/x']) {
      const attempt = () => new SessionCollector('rtmp', { ipIgnoreList: [entry] });

      expect(attempt).toThrow(
        expect.objectContaining({ name: 'SessionOptionsError', code: 'SESSION_OPTIONS', collector: 'rtmp' }),
      );
    }
  });

  it('ignores addresses and networks of either family, with or without a prefix length', () => {
    const collector = new SessionCollector('srt', { ipIgnoreList: ['192.0.2.1', '10.0.0.0/8', 'fd00::/8'] });

    expect(
      ['192.0.2.1', '10.1.2.3', '::ffff:10.9.9.9', 'fd12::1'].map((ip) => collector.isCollectableIp(ip)),
    ).toEqual([false, false, false, false]);
    expect(collector.isCollectableIp('203.0.113.7')).toBe(true);
  });
});
