/**
 * The eight 16-bit groups of an IPv6 address: `::` expanded, an embedded IPv4 address
 * (`::ffff:192.0.2.1`) read as the last two groups, a zone (`%eth0`) dropped. The address is taken
 * as valid (`net.isIPv6`).
 */
export function ipv6Groups(address: string): number[] {
  const [head = '', tail] = (address.split('%')[0] ?? '').split('::');
  const parse = (part: string) =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const start = parse(head);
  const end = tail === undefined ? [] : parse(tail);
  return [...start, ...new Array<number>(Math.max(0, 8 - start.length - end.length)).fill(0), ...end];
}
