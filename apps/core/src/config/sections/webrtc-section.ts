import { vp8ModeSchema } from '@dragon/ffmpeg-args';
import { z } from 'zod';
import { count, port } from './shared-fields.js';

const iceServerSchema = z.object({
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

/** Dragon's `webrtc` section: viewers over WHEP, the media plan's defaults, the data plane. */
export const webrtcSection = z
  .object({
    enable: z.boolean().default(true),
    public_ip: z.string().default(''),
    nat_1_to_1_ips: z.array(z.string().min(1)).default([]),
    /** One UDP port for every viewer's ICE/DTLS/SRTP; 0 gives each viewer its own ephemeral port. */
    udp_mux_port: port.default(0),
    /** Passive ICE-TCP on this port for networks that block UDP; 0 disables ICE-TCP. */
    tcp_mux_port: port.default(0),
    /** Bearer token viewers must present for WHEP; empty means open. */
    token: z.string().default(''),
    ice_servers: z.array(iceServerSchema).default([]),
    /** Interfaces ICE gathers host candidates on; empty means all. */
    interfaces: z.array(z.string().min(1)).default([]),
    ice_port_min: port.default(0),
    ice_port_max: port.default(0),
    /** Loopback UDP range for FFmpeg's RTP legs; 0/0 lets the OS choose. */
    rtp_port_min: port.default(0),
    rtp_port_max: port.default(0),
    /**
     * Viewers over all processes; 0 means no limit. 100 viewers of a 2 Mbit/s stream are 200 Mbit/s of
     * upload and about 60 % of one desktop core (docs/performance.md) — already more than a NAS or a
     * home uplink carries.
     */
    max_viewers: count.default(100),
    /** 0 means only `max_viewers` applies. */
    max_viewers_per_process: count.default(0),
    /** Offers one client address may make per minute; 0 means no limit. */
    max_offers_per_minute: count.default(120),
    /** How long a disconnected viewer is kept before it is dropped (RFC 7675 consent expiry is 30 s). */
    disconnect_timeout_seconds: z.number().int().min(8).max(30).default(15),
    /**
     * The nice value the media data plane's threads ask for, where the process may set it
     * (CAP_SYS_NICE, or RLIMIT_NICE: systemd `LimitNICE=`, docker `--ulimit nice=`): negative puts a
     * frame's fan-out ahead of FFmpeg, the API and every other program at nice 0. Where it may not,
     * the data plane runs at the server's own value; the log says which at start, and why. Nothing
     * else is lowered for it. 0 leaves it alone. Read at start.
     */
    data_plane_nice: z.number().int().min(-20).max(0).default(-10),
    /**
     * Opt-in: the nice value of everything but the media data plane's threads (API, signalling,
     * V8's helpers, and the FFmpeg processes they start). They then yield to every other program
     * on the machine too, the stream with them. 0 leaves priorities alone. Read at start.
     */
    control_plane_nice: z.number().int().min(0).max(19).default(0),
    /**
     * Opt-in, for a machine that runs nothing else: everything but the media data plane's threads
     * under SCHED_IDLE, the FFmpeg processes they start included, so the data plane preempts them
     * the moment a packet arrives. Where other programs keep the cores busy, FFmpeg and the API then
     * get almost no CPU: the stream stops and the API takes seconds (docs/performance.md).
     * `control_plane_nice` applies where the kernel refuses, and to V8's helper threads. Read at start.
     */
    control_plane_idle: z.boolean().default(false),
    /**
     * Renditions for processes whose `webrtc` block does not say (`renditions`): `auto` gives each
     * one a ladder below its top video (720p: 480p, 360p, 240p) within `renditions_cpu_budget`;
     * `off` sends the top only. Off by default: a ladder costs about a third of a core per 720p
     * process (docs/media-plan.md), which a NAS with a few cameras does not have to spare unasked.
     */
    renditions: z.enum(['off', 'auto']).default('off'),
    /**
     * The share of the machine's cores (the cgroup's CPU quota where one is set: docker `--cpus`)
     * that the renditions of all processes may take together, by the media plan's estimates; a
     * rendition that does not fit is not made and the plan says why.
     */
    renditions_cpu_budget: z.number().min(0.1).max(1).default(0.5),
    /**
     * VP8 for processes whose `webrtc` block does not say (`vp8`), for viewers whose browser has no
     * H.264: `always` encodes a VP8 rendition with the ladder, `on-demand` only while such a viewer
     * watches, `off` never.
     */
    vp8: vp8ModeSchema.default('on-demand'),
    /**
     * WebRTC for processes whose config has no `webrtc` block (an explicit one, even
     * `{"enabled": false}`, wins). By default the Restreamer UI's channel ingests, so a user who
     * points the UI at Dragon gets `/player/<id>` and WHEP for every channel.
     */
    auto_enable: z
      .object({
        /**
         * Process id globs (`*`, `?`, as `idpattern`); empty for none. The default is the UI's ingest
         * id `restreamer-ui:ingest:<uuid>` exactly: not its `…_snapshot` and `…_probe` processes.
         */
        processes: z
          .array(z.string().min(1))
          .default(['restreamer-ui:ingest:????????-????-????-????-????????????']),
        /** Reference globs; a process matching either list is covered. */
        references: z.array(z.string().min(1)).default([]),
        /**
         * CPU cores the transcodes of these processes may take together, by the media plan's
         * estimates; a transcode that does not fit, or that the machine has no idle cores for, is
         * left off and the plan says why. 0: copy only.
         */
        transcode_cores: z.number().min(0).max(1024).default(1),
      })
      .prefault({}),
  })
  .prefault({});
