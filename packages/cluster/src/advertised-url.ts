import { isIPv4 } from 'node:net';
import { hostname } from 'node:os';
import type { ClusterConfig } from './cluster-config.js';

/**
 * This node's base URL as others reach it: `cluster.advertise_url`, else the HTTP server's address
 * (a wildcard bind named by `host.name`, a WebRTC interface or the host name); undefined until the
 * server listens (`address` has port 0 until then).
 */
export function advertisedUrl(config: ClusterConfig, address: string): string | undefined {
  if (config.cluster.advertise_url !== '') return config.cluster.advertise_url;
  const separator = address.lastIndexOf(':');
  const port = Number(address.slice(separator + 1));
  if (!Number.isInteger(port) || port <= 0) return undefined;
  const bound = address.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  const wildcard = bound === '' || bound === '0.0.0.0' || bound === '::';
  const host = wildcard
    ? (config.host.name[0] ?? config.webrtc.interfaces.find((ip) => isIPv4(ip)) ?? hostname())
    : bound;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
