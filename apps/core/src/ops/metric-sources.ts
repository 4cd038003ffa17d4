import { statfs } from 'node:fs/promises';
import { cpus, freemem, totalmem } from 'node:os';
import type { DiskFilesystem, Filesystem } from '@dragon/filesystems';
import type { ProcessManager } from '@dragon/restream';
import { collectorNames, type SessionRegistry } from '@dragon/sessions';
import type { MetricSource, MetricValue } from './metrics-history.js';

/** datarhei's `uptime_*`, `cpu_*` and `mem_*` metrics of the machine and the server. */
export function systemMetrics(startedAt: Date): MetricSource {
  let previous = cpuTimes();
  return {
    describe: [
      { name: 'uptime_uptime', description: 'Current uptime in seconds', labels: [] },
      { name: 'cpu_ncpu', description: 'Number of logical CPUs in the system', labels: [] },
      { name: 'cpu_system', description: 'Percentage of CPU used for the system', labels: [] },
      { name: 'cpu_user', description: 'Percentage of CPU used for the user', labels: [] },
      { name: 'cpu_idle', description: 'Percentage of idle CPU', labels: [] },
      { name: 'cpu_other', description: 'Percentage of CPU used for other subsystems', labels: [] },
      { name: 'mem_total', description: 'Total available memory in bytes', labels: [] },
      { name: 'mem_free', description: 'Free memory in bytes', labels: [] },
    ],
    collect() {
      const current = cpuTimes();
      const delta = {
        user: current.user - previous.user,
        system: current.system - previous.system,
        idle: current.idle - previous.idle,
        other: current.other - previous.other,
      };
      previous = current;
      const total = delta.user + delta.system + delta.idle + delta.other || 1;
      const percent = (part: number) => (part / total) * 100;
      const value = (name: string, number: number): MetricValue => ({ name, labels: {}, value: number });
      return [
        value('uptime_uptime', Math.floor((Date.now() - startedAt.getTime()) / 1000)),
        value('cpu_ncpu', cpus().length),
        value('cpu_system', percent(delta.system)),
        value('cpu_user', percent(delta.user)),
        value('cpu_idle', percent(delta.idle)),
        value('cpu_other', percent(delta.other)),
        value('mem_total', totalmem()),
        value('mem_free', freemem()),
      ];
    },
  };
}

function cpuTimes() {
  const sum = { user: 0, system: 0, idle: 0, other: 0 };
  for (const cpu of cpus()) {
    sum.user += cpu.times.user + cpu.times.nice;
    sum.system += cpu.times.sys;
    sum.idle += cpu.times.idle;
    sum.other += cpu.times.irq;
  }
  return sum;
}

/** datarhei's `filesystem_*` per filesystem and `disk_*` for the disk holding `storage.disk.dir`. */
export function filesystemMetrics(filesystems: Filesystem[], disk: DiskFilesystem): MetricSource {
  return {
    describe: [
      {
        name: 'filesystem_limit',
        description: 'Total size of the filesystem in bytes, negative if unlimited',
        labels: ['name'],
      },
      { name: 'filesystem_usage', description: 'Number of used bytes on the filesystem', labels: ['name'] },
      {
        name: 'filesystem_files',
        description: 'Number of files on the filesystem (excluding directories)',
        labels: ['name'],
      },
      { name: 'disk_total', description: 'Total size of the disk in bytes', labels: ['path'] },
      { name: 'disk_usage', description: 'Number of used bytes on the disk', labels: ['path'] },
    ],
    async collect() {
      const values: MetricValue[] = [];
      for (const filesystem of filesystems) {
        const usage = await filesystem.usage();
        const labels = { name: filesystem.name };
        values.push(
          { name: 'filesystem_limit', labels, value: usage.maxBytes > 0 ? usage.maxBytes : -1 },
          { name: 'filesystem_usage', labels, value: usage.sizeBytes },
          { name: 'filesystem_files', labels, value: usage.files },
        );
      }
      const stats = await statfs(disk.root);
      const labels = { path: disk.root };
      values.push(
        { name: 'disk_total', labels, value: stats.blocks * stats.bsize },
        { name: 'disk_usage', labels, value: (stats.blocks - stats.bfree) * stats.bsize },
      );
      return values;
    },
  };
}

const execStates = ['failed', 'finished', 'finishing', 'killed', 'running', 'starting'] as const;

/** datarhei's `restream_process` values per process and `restream_state` totals. */
export function restreamMetrics(manager: ProcessManager): MetricSource {
  return {
    describe: [
      {
        name: 'restream_process',
        description: 'Current process values by name',
        labels: ['processid', 'state', 'order', 'name'],
      },
      { name: 'restream_state', description: 'Summarized current process states', labels: ['state'] },
    ],
    collect() {
      const values: MetricValue[] = [];
      const states = new Map<string, number>(execStates.map((state) => [state, 0]));
      for (const id of manager.list()) {
        const state = manager.getState(id);
        states.set(state.exec, (states.get(state.exec) ?? 0) + 1);
        const labels = (name: string) => ({ processid: id, state: state.exec, order: state.order, name });
        const named: Array<[string, number]> = [
          ['frame', state.progress.frame],
          ['fps', state.progress.fps],
          ['speed', state.progress.speed],
          ['q', state.progress.q],
          ['size', state.progress.size_kb * 1024],
          ['time', state.progress.time],
          ['drop', state.progress.drop],
          ['dup', state.progress.dup],
          ['packet', state.progress.packet],
          ['bitrate', state.progress.bitrate_kbit * 1024],
          ['cpu', state.cpu_usage],
          ['memory', state.memory_bytes],
          ['uptime', state.runtime_seconds],
        ];
        for (const [name, value] of named)
          values.push({ name: 'restream_process', labels: labels(name), value });
      }
      for (const [state, value] of states) values.push({ name: 'restream_state', labels: { state }, value });
      return values;
    },
  };
}

/** datarhei's `session_*` values per collector. */
export function sessionMetrics(registry: SessionRegistry): MetricSource {
  const described = [
    ['session_total', 'Total sessions'],
    ['session_limit', 'Max. number of concurrent sessions'],
    ['session_active', 'Number of current sessions'],
    ['session_rxbytes', 'Number of received bytes'],
    ['session_txbytes', 'Number of transmitted bytes'],
    ['session_rxbitrate', 'Current receiving bitrate in bit per second'],
    ['session_txbitrate', 'Current transmitting bitrate in bit per second'],
    ['session_maxtxbitrate', 'Max. allowed transmitting bitrate in bit per second'],
  ] as const;
  return {
    describe: described.map(([name, description]) => ({ name, description, labels: ['collector'] })),
    collect() {
      const values: MetricValue[] = [];
      for (const collector of collectorNames) {
        const summary = registry.summary(collector);
        const totals = registry.collector(collector).totals();
        const labels = { collector };
        const mebibit = 1024 * 1024;
        values.push(
          { name: 'session_total', labels, value: summary.summary.sessions + summary.active.sessions },
          { name: 'session_limit', labels, value: summary.active.max_sessions },
          { name: 'session_active', labels, value: summary.active.sessions },
          { name: 'session_rxbytes', labels, value: totals.rxBytes },
          { name: 'session_txbytes', labels, value: totals.txBytes },
          { name: 'session_rxbitrate', labels, value: summary.active.bandwidth_rx_mbit * mebibit },
          { name: 'session_txbitrate', labels, value: summary.active.bandwidth_tx_mbit * mebibit },
          { name: 'session_maxtxbitrate', labels, value: summary.active.max_bandwidth_tx_mbit * mebibit },
        );
      }
      return values;
    },
  };
}
