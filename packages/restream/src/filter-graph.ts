import { getToken, type KeyValue, keyValues } from './ffmpeg-token.js';

/** One filter of a graph, as FFmpeg's graph parser hands it to the filter. */
export interface GraphFilter {
  /** The filter's name, without an `@instance` suffix. */
  name: string;
  /** Its argument string after graph-level unquoting, or undefined when there was no `=`. */
  args: string | undefined;
  /** The arguments as the filter reads them (second level of unquoting). */
  options: KeyValue[];
}

/** Text FFmpeg's graph parser refuses: FFmpeg would start nothing, so neither do we. */
export class FilterGraphSyntaxError extends Error {
  override readonly name = 'FilterGraphSyntaxError';
  constructor(
    readonly graph: string,
    readonly reason: string,
  ) {
    super(`${reason} in the filter graph`);
  }
}

const whitespace = ' \n\t\r';

/**
 * Parses a filter graph (`-vf`, `-filter_complex`, a `lavfi` input) the way libavfilter's graph parser
 * does: chains split on `;`, filters on `,`, `[label]`s around each, the filter name and its arguments
 * as `av_get_token` tokens (`"=,;["` and `"[],;"`), then the arguments as `key=value:value` items.
 * A leading `sws_flags=…;` is scaler flags, not a filter.
 */
export function parseFilterGraph(graph: string): GraphFilter[] {
  const filters: GraphFilter[] = [];
  let position = skipWhitespace(graph, 0);
  if (graph.startsWith('sws_flags=', position)) {
    const end = graph.indexOf(';', position);
    if (end < 0) throw new FilterGraphSyntaxError(graph, 'sws_flags not terminated with ";"');
    position = end + 1;
  }
  for (;;) {
    position = skipWhitespace(graph, position);
    position = skipLabels(graph, position);
    const name = getToken(graph, position, '=,;[');
    position = name.end;
    let args: string | undefined;
    if (graph[position] === '=') {
      const token = getToken(graph, position + 1, '[],;');
      args = token.token;
      position = token.end;
    }
    // FFmpeg 5+: `name@instance` names the instance; the class is what comes before.
    const at = name.token.indexOf('@');
    const className = at > 0 && at < name.token.length - 1 ? name.token.slice(0, at) : name.token;
    if (className === '') throw new FilterGraphSyntaxError(graph, 'a filter without a name');
    filters.push({ name: className, args, options: args === undefined ? [] : keyValues(args) });
    position = skipLabels(graph, position);
    position = skipWhitespace(graph, position);
    const separator = graph[position++];
    if (separator === undefined) return filters;
    if (separator !== ',' && separator !== ';') {
      throw new FilterGraphSyntaxError(graph, `unexpected "${separator}"`);
    }
  }
}

function skipWhitespace(text: string, position: number): number {
  let at = position;
  while (at < text.length && whitespace.includes(text[at] as string)) at++;
  return at;
}

function skipLabels(graph: string, position: number): number {
  let at = position;
  while (graph[at] === '[') {
    const label = getToken(graph, at + 1, ']');
    if (label.token === '') throw new FilterGraphSyntaxError(graph, 'an empty label');
    if (graph[label.end] !== ']') throw new FilterGraphSyntaxError(graph, 'a "[" without its "]"');
    at = skipWhitespace(graph, label.end + 1);
  }
  return at;
}
