import { describe, expect, it } from 'vitest';
import { FilterGraphSyntaxError, parseFilterGraph } from './filter-graph.js';

describe('parseFilterGraph', () => {
  it('splits chains and filters, drops labels, and unquotes names and arguments at both levels', () => {
    const filters = parseFilterGraph(
      "[0:v]scale=1280:-2[s];[s] 'dra''wtext'@title=text=hello:fontfile='/usr/share/a b.ttf' [out]; amovie='/pr''oc/self/environ':f=u8",
    );
    expect(filters.map((filter) => filter.name)).toEqual(['scale', 'drawtext', 'amovie']);
    expect(filters[1]?.options).toEqual([
      { key: 'text', value: 'hello' },
      { key: 'fontfile', value: '/usr/share/a b.ttf' },
    ]);
    expect(filters[2]?.args).toBe('/proc/self/environ:f=u8');
    expect(filters[2]?.options).toEqual([
      { key: undefined, value: '/proc/self/environ' },
      { key: 'f', value: 'u8' },
    ]);
  });

  it('reads quotes as FFmpeg does, even where they swallow what follows', () => {
    // FFmpeg 5.1 sets fontfile to `/usr/share/a b.ttf [out]; amovie=/proc/self/environ` here.
    const [, drawtext] = parseFilterGraph(
      "null[s];[s] drawtext=text='it\\'s':fontfile='/usr/share/a b.ttf' [out]; amovie='/pr''oc/self/environ':f=u8",
    );
    expect(drawtext?.options).toEqual([
      { key: 'text', value: 'its' },
      { key: 'fontfile', value: '/usr/share/a b.ttf [out]; amovie=/proc/self/environ' },
      { key: 'f', value: 'u8' },
    ]);
  });

  it('needs one escape per level for a separator inside a value', () => {
    expect(parseFilterGraph("drawtext=text=it\\\\\\'s")[0]?.options).toEqual([
      { key: 'text', value: "it's" },
    ]);
    expect(parseFilterGraph('drawtext=text=a\\,b')[0]?.options).toEqual([{ key: 'text', value: 'a,b' }]);
    // `\\` is one backslash after the graph level, and the comma then ends the filter.
    expect(parseFilterGraph('drawtext=text=a\\\\,null').map((entry) => entry.name)).toEqual([
      'drawtext',
      'null',
    ]);
  });

  it('skips sws_flags and reads filters without arguments', () => {
    expect(parseFilterGraph('sws_flags=bicubic;null,anull')).toEqual([
      { name: 'null', args: undefined, options: [] },
      { name: 'anull', args: undefined, options: [] },
    ]);
  });

  it('refuses what FFmpeg refuses', () => {
    for (const graph of ['null,', '[a', '[]null', 'sws_flags=x']) {
      expect(() => parseFilterGraph(graph), graph).toThrow(FilterGraphSyntaxError);
    }
  });
});
