import { type FeedTarget, type RtpSource, RtspFeed } from '@dragon/webrtc';

/**
 * The server's loopback RTSP feed (`@dragon/webrtc`'s `RtspFeed`): how an FFmpeg reads a source
 * that is already in the data plane. Two kinds of path:
 * - `/whip/<name>`: a WHIP publication, for a process input `{whip,name=…}`;
 * - `/process/<id>`: a process's own top picture, for its VP8 encode made on demand.
 * WHIP is assembled after the processes exist (restored ones start before it): its publications
 * are looked up through {@link LoopbackFeeds.publications}, set once WHIP is up; until then, and for
 * a name nobody publishes, the reader gets `404` and its FFmpeg exits with that in its log.
 */
export class LoopbackFeeds {
  /** The source of a WHIP publication by name; set when WHIP is assembled. */
  publications: ((name: string) => RtpSource | undefined) | undefined;
  readonly #feed: RtspFeed;

  private constructor(feed: RtspFeed) {
    this.#feed = feed;
  }

  /** Listens on 127.0.0.1 (any free port); `processSource` finds a process's source. */
  static async open(processSource: (processId: string) => RtpSource | undefined): Promise<LoopbackFeeds> {
    let publications: LoopbackFeeds['publications'];
    const feed = await RtspFeed.listen({
      resolve: (path) => resolveFeed(path, (name) => publications?.(name), processSource),
    });
    const feeds = new LoopbackFeeds(feed);
    // The feed looks publications up through this instance's field, however often it is set.
    publications = (name) => feeds.publications?.(name);
    return feeds;
  }

  /** What `{whip,name=…}` expands to: the feed's URL with `{name}` left for the placeholder. */
  whipUrlTemplate(): string {
    return this.#feed.url('/whip/{name}');
  }

  /** Where a process's top picture is read from. */
  processUrl(processId: string): string {
    return this.#feed.url(`/process/${encodeURIComponent(processId)}`);
  }

  close(): Promise<void> {
    return this.#feed.close();
  }
}

/** `/whip/<name>` and `/process/<id>` to their sources; anything else is not found. */
function resolveFeed(
  path: string,
  publication: (name: string) => RtpSource | undefined,
  processSource: (id: string) => RtpSource | undefined,
): FeedTarget | undefined {
  const match = /^\/(whip|process)\/([^/]+)\/?$/.exec(path);
  if (!match) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(match[2]!);
  } catch {
    return undefined;
  }
  const source = match[1] === 'whip' ? publication(name) : processSource(name);
  return source ? { source, rendition: 0 } : undefined;
}
