import { rejectedSectionProblems } from '@dragon/test-helpers';
import { expect } from 'vitest';

/** Asserts that the answer rejects its `kind` m-section well-formed (see `rejectedSectionProblems`). */
export function expectRejectedSection(answerSdp: string, kind: 'audio' | 'video'): void {
  expect(rejectedSectionProblems(answerSdp, kind)).toEqual([]);
}
