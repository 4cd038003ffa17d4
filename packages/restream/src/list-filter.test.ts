import { describe, expect, it } from 'vitest';
import { listFilterMatcher } from './list-filter.js';

const cam = { id: 'cam-1', reference: 'hall' };

describe('listFilterMatcher', () => {
  it('matches everything without criteria', () => {
    expect(listFilterMatcher({})(cam)).toBe(true);
  });

  it('needs every given criterion to hold', () => {
    expect(listFilterMatcher({ ids: ['cam-1', 'cam-2'] })(cam)).toBe(true);
    expect(listFilterMatcher({ ids: ['cam-2'] })(cam)).toBe(false);
    expect(listFilterMatcher({ idPattern: 'cam-?', reference: 'hall' })(cam)).toBe(true);
    expect(listFilterMatcher({ idPattern: 'cam-?', reference: 'yard' })(cam)).toBe(false);
    expect(listFilterMatcher({ referencePattern: 'h*' })(cam)).toBe(true);
    expect(listFilterMatcher({ referencePattern: 'h' })(cam)).toBe(false);
  });

  it('compares the reference whole, an empty one included', () => {
    expect(listFilterMatcher({ reference: '' })({ id: 'x', reference: '' })).toBe(true);
    expect(listFilterMatcher({ reference: 'hal' })(cam)).toBe(false);
  });
});
