// The end-to-end benchmark's results as Markdown tables (for latest.md and the console).

const f = (value, digits = 1) =>
  value === undefined || value === null || Number.isNaN(value) ? '–' : Number(value).toFixed(digits);
const range = (value) => (value ? `${f(value.min * 100)} / ${f(value.median * 100)}` : '–');
const cpu = (value) => (value ? `${f(value.total)} (${f(value.user)} + ${f(value.system)})` : '–');
const drops = (capture) =>
  capture?.socketDrops
    ? `${capture.socketDrops.serverInput} / ${capture.socketDrops.serverOther} / ${capture.socketDrops.viewers}${capture.captureDroppedByKernel ? ` (capture lost ${capture.captureDroppedByKernel})` : ''}`
    : '–';
/** `; 2 failed, 1 connected` for the viewers that never received video, by connection state. */
const silent = (states) => {
  if (!states?.length) return '';
  const counts = new Map();
  for (const state of states) counts.set(state, (counts.get(state) ?? 0) + 1);
  return `; silent: ${[...counts].map(([state, n]) => `${n} ${state}`).join(', ')}`;
};
const latency = (value) =>
  value?.samples ? `${f(value.p50, 2)} / ${f(value.p99, 2)} / ${f(value.max, 1)}` : '–';

/**
 * Dragon ÷ Janus per N: total CPU, and per viewer, (cpu(N) − cpu(0)) / viewers served, where served
 * viewers are those that received video (a viewer that never did costs a server little).
 */
export function cpuRatios(results) {
  const find = (server, viewers) => results.find((r) => r.server === server && r.viewers === viewers);
  const counts = [...new Set(results.map((r) => r.viewers))];
  const ratio = (a, b) => (a !== undefined && b ? a / b : undefined);
  return counts.map((count) => {
    const perViewer = (server) => {
      const [run, idle] = [find(server, count), find(server, 0)];
      return count > 0 && run?.receiving && idle
        ? (run.cpu.server.total - idle.cpu.server.total) / run.receiving
        : undefined;
    };
    return {
      viewers: count,
      dragonPerViewer: perViewer('dragon'),
      janusPerViewer: perViewer('janus'),
      whipPerViewer: perViewer('whip'),
      total: ratio(find('dragon', count)?.cpu.server.total, find('janus', count)?.cpu.server.total),
      perViewer: ratio(perViewer('dragon'), perViewer('janus')),
    };
  });
}

/** Lines of Markdown for the `e2e` section of bench/results/latest.json. */
export function e2eMarkdown(e2e) {
  const find = (server, viewers) => e2e.results.find((r) => r.server === server && r.viewers === viewers);
  const counts = [...new Set(e2e.results.map((r) => r.viewers))];
  const lines = [
    `Commit \`${e2e.versions.commit}\` · Node ${e2e.versions.node} · ${e2e.versions.ffmpeg} · Janus ${e2e.versions.janus ?? 'not run'} · Linux ${e2e.versions.kernel} · ${e2e.machine.cores} cores (${e2e.machine.cpu})${e2e.quick ? ' · quick run' : ''}`,
    '',
    `Feed: ${e2e.method.feed}. Server on core ${e2e.method.serverCore}; encoder, viewers and capture on core ${e2e.method.loadCore}. CPU: median of ${e2e.method.repeats} × ${e2e.method.secondsPerWindow} s windows.`,
    '',
    '| viewers | Dragon, % of a core (user + sys) | Janus, % of a core (user + sys) | Dragon ÷ Janus | per viewer served, Dragon / Janus (% of a core) | per viewer, Dragon ÷ Janus |',
    '| --- | --- | --- | --- | --- | --- |',
    ...counts.map((viewers) => {
      const ratio = cpuRatios(e2e.results).find((r) => r.viewers === viewers);
      return `| ${viewers} | ${cpu(find('dragon', viewers)?.cpu.server)} | ${cpu(find('janus', viewers)?.cpu.server)} | ${ratio?.total ? `${f(ratio.total, 2)}×` : '–'} | ${f(ratio?.dragonPerViewer, 2)} / ${f(ratio?.janusPerViewer, 2)} | ${ratio?.perViewer ? `${f(ratio.perViewer, 2)}×` : '–'} |`;
    }),
    '',
    "| server | viewers (receiving) | server CPU % min–max | RSS MiB | packets/s in (video; AUD/SEI-only share) | video packets/s to each viewer | forwarded ÷ in, min / median % | received ÷ sent, min / median % | forwarding p50 / p99 / max ms | first copy p99 / one packet to all p99, ms | socket drops: server input / server other / viewers | FFmpeg % | viewers' process % | encoder % |",
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...e2e.results.map((r) => {
      const c = r.capture;
      return `| ${r.server} | ${r.viewers} (${r.receiving}${silent(r.silentViewerStates)}) | ${f(r.cpu.server.min)}–${f(r.cpu.server.max)} | ${f(r.rssMiB, 0)} | ${c ? `${f(c.packetsInPerSecond, 0)} (${f(c.videoPacketsInPerSecond, 0)}; ${f(c.auxiliaryShare * 100, 0)} %)` : '–'} | ${f(c?.videoPacketsOutPerViewerPerSecond, 0)} | ${range(c?.serverForwarded)} | ${range(c?.viewersReceived)} | ${latency(c?.forwardingMs)} | ${c?.firstCopyMs ? `${f(c.firstCopyMs.p99, 2)} / ${f(c.spreadMs.p99, 2)}` : '–'} | ${drops(c)} | ${f(r.cpu.ffmpeg?.total)} | ${f(r.cpu.viewers?.total)} | ${f(r.cpu.encoder?.total)} |`;
    }),
    '',
  ];
  if (e2e.results.some((r) => r.server === 'whip'))
    lines.push(
      "The same stream as a WHIP publication (the `whip` rows: a werift publisher sends the copy-mode FFmpeg's RTP; viewers on `/api/v3/whip/{name}/whep`), per viewer served beside the FFmpeg source, % of a core:",
      '',
      '| viewers | FFmpeg source | WHIP source | WHIP ÷ FFmpeg | server with no viewer: FFmpeg source / WHIP source |',
      '| --- | --- | --- | --- | --- |',
      ...counts
        .filter((viewers) => viewers > 0)
        .map((viewers) => {
          const ratio = cpuRatios(e2e.results).find((r) => r.viewers === viewers);
          const quotient =
            ratio?.whipPerViewer !== undefined && ratio?.dragonPerViewer
              ? `${f(ratio.whipPerViewer / ratio.dragonPerViewer, 2)}×`
              : '–';
          return `| ${viewers} | ${f(ratio?.dragonPerViewer, 2)} | ${f(ratio?.whipPerViewer, 2)} | ${quotient} | ${f(find('dragon', 0)?.cpu.server.total)} / ${f(find('whip', 0)?.cpu.server.total)} |`;
        }),
      '',
    );
  const largest = Math.max(...e2e.results.map((r) => r.viewers));
  for (const r of e2e.results.filter((result) => result.viewers === largest && result.threads)) {
    const threads = Object.entries(r.threads)
      .sort(([, a], [, b]) => b.user + b.system - (a.user + a.system))
      .map(([name, t]) => `${name} ${f(t.user)} + ${f(t.system)}`)
      .join(', ');
    lines.push(
      `Where ${r.server}'s CPU went at ${r.viewers} viewers, per thread (user + system, % of a core): ${threads}.`,
      '',
    );
  }
  for (const r of e2e.results.filter((result) => result.hammered)) {
    const h = r.hammered;
    lines.push(
      `API hammered (Dragon, ${r.viewers} viewers, ${e2e.method.hammerSeconds} s; \`GET /api/v3/process\`, state, \`?filter=state\` and \`/metrics\` in 4 loops): ${h.api.requests} requests, ${h.api.failed} failed, p50 ${f(h.api.p50Ms)} ms, p99 ${f(h.api.p99Ms)} ms; server ${cpu(h.cpu)} % of a core; forwarded ÷ in ${range(h.serverForwarded)} %, received ÷ sent ${range(h.viewersReceived)} %, forwarding p50 / p99 / max ${latency(h.forwardingMs)} ms, socket drops ${drops(h)} (without: ${range(r.capture?.viewersReceived)} % received, ${latency(r.capture?.forwardingMs)} ms).`,
      '',
    );
  }
  const figures = e2e.results.find((r) => r.server === 'dragon' && r.serverFigures)?.serverFigures;
  if (figures && Object.keys(figures).length === 0)
    lines.push('The server exposes no event-loop or forwarding figure in `/metrics`; none is reported.', '');
  else if (figures)
    lines.push(
      '| server figure (`/metrics`, after the window) | ' +
        counts.map((n) => `${n} viewers`).join(' | ') +
        ' |',
      `| --- | ${counts.map(() => '---').join(' | ')} |`,
      ...Object.keys(figures).map(
        (name) =>
          `| \`${name}\` | ${counts.map((n) => f(find('dragon', n)?.serverFigures?.[name], 4)).join(' | ')} |`,
      ),
      '',
    );
  return lines;
}

/** The end-to-end memory benchmark's runs as a Markdown table (KiB per viewer, MiB of RSS). */
export function e2eMemoryMarkdown(output) {
  const settings = [
    output.settings.serverNodeArgs,
    ...Object.entries(output.settings.environment).map(([k, v]) => `${k}=${v}`),
  ]
    .filter(Boolean)
    .join(' ');
  const rss = (run, label, kind = 'asIs') => {
    const reading = run.readings.find((entry) => entry.label === label);
    return reading?.[kind] ? f(reading[kind].rss / 1024) : '–';
  };
  const lines = [
    `Built server, WHEP viewers of a playing process (media flowing), ${output.method.cycles} join/leave cycles; per viewer from the reading after a warm-up; "as is": RSS from /proc with no collection forced, "collected": after full collections through the inspector.${settings ? ` Extra server settings: \`${settings}\`.` : ''}`,
    '',
    '| run | per viewer, KiB: as is / collected, at each count | next viewers only (as is / collected) | RSS MiB as is: warmed up → all left → after the cycles → later | collected after that |',
    '| --- | --- | --- | --- | --- |',
  ];
  output.runs.forEach((run, index) => {
    const perCount = run.perViewerKiB
      .map((entry) => `${entry.viewers}: ${f(entry.asIs.rss, 0)} / ${f(entry.collected.rss, 0)}`)
      .join('; ');
    const marginal = run.marginalPerViewerKiB
      .map((entry) => `${entry.from}→${entry.to}: ${f(entry.asIs.rss, 0)} / ${f(entry.collected.rss, 0)}`)
      .join('; ');
    const lingering = run.readings.filter((entry) => entry.label.endsWith(' s later'));
    lines.push(
      `| ${index + 1} | ${perCount} | ${marginal || '–'} | ${rss(run, 'warmed up')} → ${rss(run, 'all left')} → ${rss(run, `after ${run.cycles} cycles`)} → ${lingering.map((entry) => `${f(entry.asIs.rss / 1024)} (${entry.label})`).join(' → ')} | ${lingering.at(-1)?.collected ? f(lingering.at(-1).collected.rss / 1024) : '–'} |`,
    );
  });
  return lines;
}

/** The scale benchmark's table (bench/e2e-scale.mjs): one row per stream rate and viewer count. */
export function scaleMarkdown(scale) {
  const f = (value, digits = 1) =>
    value === undefined || value === null || Number.isNaN(value) ? '–' : Number(value).toFixed(digits);
  return [
    `Load average ${scale.started.loadavg.map((l) => l.toFixed(1)).join(' ')} at the start, ${scale.ended.loadavg.map((l) => l.toFixed(1)).join(' ')} at the end; ${scale.seconds} s per window; the server idle with its process running: ${f(scale.idle.cpuPct)} % CPU, ${f(scale.idle.rssMiB, 0)} MiB.`,
    '',
    '| stream | viewers (receiving) | server CPU % (per viewer) | generator CPU % (per viewer; receiver thread; socket drops) | delivery % (lost) | of source × viewers % | SRTP tags checked (failed) | RSS per viewer KiB | load average |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...scale.rows.map(
      (r) =>
        `| ${r.bitrateKbps} kbit/s | ${r.viewers} (${r.receiving}) | ${f(r.serverCpuPct.total)} (${f(r.cpuPerViewerPct, 3)}) | ${f(r.generator.cpuPct.total)} (${f(r.generator.cpuPerViewerPct, 3)}; ${f(r.generator.receiverThreadPct)}; ${r.generator.socketDrops}) | ${f(r.deliveryPct, 3)} (${r.lostPackets}) | ${f(r.sourceDeliveryPct, 2)} | ${r.authChecked} (${r.authFailed}) | ${f(r.rssPerViewerKiB, 0)} | ${r.loadavg[0].toFixed(1)} |`,
    ),
  ];
}
