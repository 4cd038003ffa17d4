import { describe, expect, it } from 'vitest';
import { missingNodeFlags } from './node-flags.js';

describe('missingNodeFlags', () => {
  it('asks for every wanted flag when node was started without any', () => {
    expect(missingNodeFlags(['--max-semi-space-size=4'], [], undefined)).toEqual(['--max-semi-space-size=4']);
  });

  it('keeps other flags on the command line out of the way', () => {
    expect(
      missingNodeFlags(['--max-semi-space-size=4'], ['--inspect=127.0.0.1:0', '--enable-source-maps'], ''),
    ).toEqual(['--max-semi-space-size=4']);
  });

  it('leaves an operator value on the command line in place, in either spelling', () => {
    expect(missingNodeFlags(['--max-semi-space-size=4'], ['--max-semi-space-size=16'], undefined)).toEqual(
      [],
    );
    expect(missingNodeFlags(['--max-semi-space-size=4'], ['--max_semi_space_size', '16'], undefined)).toEqual(
      [],
    );
  });

  it('leaves an operator value in NODE_OPTIONS in place', () => {
    expect(missingNodeFlags(['--max-semi-space-size=4'], [], '--trace-gc  --max_semi_space_size=8')).toEqual(
      [],
    );
  });
});
