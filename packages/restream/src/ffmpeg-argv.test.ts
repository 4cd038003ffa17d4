import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './ffmpeg-argv.js';

const line = (...texts: string[]) => parseCommandLine(texts.map((text) => ({ text, where: 'w' })));

describe('parseCommandLine', () => {
  it('groups options with the input or output they precede', () => {
    const parsed = line(
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2',
      '-c:v',
      'libx264',
      '-preset',
      'fast',
      'out.ts',
    );
    expect(parsed.inputs).toEqual([
      {
        url: 'testsrc2',
        where: 'w',
        options: [
          { name: 're', spelled: '-re', fromFile: false, value: undefined, where: 'w' },
          { name: 'f', spelled: '-f', fromFile: false, value: 'lavfi', where: 'w' },
        ],
      },
    ]);
    expect(parsed.outputs[0]?.url).toBe('out.ts');
    expect(parsed.outputs[0]?.options.map((option) => [option.name, option.value])).toEqual([
      ['c', 'libx264'],
      ['preset', 'fast'],
    ]);
  });

  it('takes a word after a flag for an output, and one after any other option for its value', () => {
    expect(line('-y', 'a.ts').outputs.map((output) => output.url)).toEqual(['a.ts']);
    expect(line('-nostdin', '-noautorotate', 'a.ts').outputs.map((output) => output.url)).toEqual(['a.ts']);
    expect(line('-metadata', 'a.ts').outputs).toEqual([]);
    expect(line('-metadata', 'a.ts').trailing.map((option) => option.value)).toEqual(['a.ts']);
  });

  it('reads version-dependent booleans both ways: a number is their value, a path is an output', () => {
    expect(line('-autorotate', '0', 'a.ts').outputs.map((output) => output.url)).toEqual(['a.ts']);
    expect(line('-autorotate', '/etc/x').outputs.map((output) => output.url)).toEqual(['/etc/x']);
  });

  it('knows `-`, `--`, `-/option` and missing arguments', () => {
    expect(line('-', '--', '-odd.ts').outputs.map((output) => output.url)).toEqual(['-', '-odd.ts']);
    const fromFile = line('-/filter_complex', 'graph.txt', 'out.ts').options[0];
    expect(fromFile).toMatchObject({ name: 'filter_complex', fromFile: true, value: 'graph.txt' });
    expect(line('-f').missingArgument).toBe('-f');
    expect(line('-i').missingArgument).toBe('-i');
  });
});
