import { Counter, Gauge, type Registry } from 'prom-client';

/** What the WHIP metrics read of each publication: a subset of the listing's fields. */
export interface WhipPublicationFigures {
  name: string;
  state: string;
  reconnects: number;
  forwarded: { packets: number; bytes: number };
  video: { bitrate_kbit: number; layers: readonly { rid: string; bitrate_kbit: number }[] };
  audio: { bitrate_kbit: number };
}

/**
 * The WHIP publications' figures, read from the listing when scraped: a count by state among the
 * totals, and per publication (labelled by stream name, so only for clients allowed to learn the
 * names) the RTP forwarded, the bitrate per track and simulcast layer, and the reconnects.
 */
export function registerWhipMetrics(
  list: () => readonly WhipPublicationFigures[],
  registers: { totals: Registry; perName: Registry },
): void {
  const perName = [registers.perName];
  const packets = new Counter({
    name: 'dragon_whip_publication_packets_received_total',
    help: 'RTP packets received from WHIP publishers per publication (all its publishers together).',
    labelNames: ['name'],
    registers: perName,
  });
  const bytes = new Counter({
    name: 'dragon_whip_publication_bytes_received_total',
    help: 'RTP bytes received from WHIP publishers per publication (all its publishers together).',
    labelNames: ['name'],
    registers: perName,
  });
  const bitrate = new Gauge({
    name: 'dragon_whip_publication_bitrate_bps',
    help: 'Bitrate received over the last second per WHIP publication, track and simulcast layer (rid; empty without simulcast).',
    labelNames: ['name', 'track', 'layer'],
    registers: perName,
  });
  const reconnects = new Counter({
    name: 'dragon_whip_publisher_reconnects_total',
    help: 'Publishers of a WHIP publication after its first (reconnects and takeovers).',
    labelNames: ['name'],
    registers: perName,
  });
  // Registered among the totals, which prom-client collects first: one scrape reads the listing once.
  new Gauge({
    name: 'dragon_whip_publications',
    help: 'WHIP publications by state: live (a publisher feeds it) or lingering (waiting for its publisher to come back).',
    labelNames: ['state'],
    registers: [registers.totals],
    collect() {
      const counts = new Map([
        ['live', 0],
        ['lingering', 0],
      ]);
      for (const metric of [packets, bytes, bitrate, reconnects]) metric.reset();
      for (const publication of list()) {
        const { name } = publication;
        counts.set(publication.state, (counts.get(publication.state) ?? 0) + 1);
        packets.inc({ name }, publication.forwarded.packets);
        bytes.inc({ name }, publication.forwarded.bytes);
        reconnects.inc({ name }, publication.reconnects);
        const { layers } = publication.video;
        if (layers.length === 0)
          bitrate.set({ name, track: 'video', layer: '' }, publication.video.bitrate_kbit * 1000);
        for (const layer of layers)
          bitrate.set({ name, track: 'video', layer: layer.rid }, layer.bitrate_kbit * 1000);
        bitrate.set({ name, track: 'audio', layer: '' }, publication.audio.bitrate_kbit * 1000);
      }
      this.reset();
      for (const [state, count] of counts) this.set({ state }, count);
    },
  });
}
