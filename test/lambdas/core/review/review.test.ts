import { describe, expect, it } from 'vitest';
import { eligibleReviewers, mayReview, type Approval } from '../../../../lambdas/core/review/review.js';
import { NOW } from '../../fixtures.js';
import { ALICE, BOB, DANA, OPS } from './fixtures.js';

const approvalBy = (reviewer: string, round = 1): Approval => ({ reviewer, round, at: NOW.toISOString() });

describe('eligibleReviewers', () => {
  it.each<[string, string[], string[], Approval[], string[]]>([
    ['everyone in the group when nobody is excluded', [ALICE, BOB], [OPS], [], [ALICE, BOB]],
    ['the group without a contact', [ALICE, BOB, DANA], [OPS, DANA], [], [ALICE, BOB]],
    ['the group without a contact spelt with other casing and spaces', [ALICE, BOB, DANA], [' Dana.Reviewer@Bank.EXAMPLE '], [], [ALICE, BOB]],
    ['the group without an earlier approver', [ALICE, BOB], [OPS], [approvalBy(ALICE)], [BOB]],
    ['the group without an earlier approver spelt with other casing', [ALICE, BOB], [OPS], [approvalBy('ALICE.Reviewer@bank.example')], [BOB]],
    ['nobody when every member is a contact or an approver', [ALICE, DANA], [DANA], [approvalBy(ALICE)], []],
    ['nobody for an empty group', [], [OPS], [], []],
    ['each address once, lower-cased, when the group repeats one', ['Alice.Reviewer@bank.example', ALICE, ` ${BOB}`], [OPS], [], [ALICE, BOB]],
  ])('answers %s', (_case, group, contacts, approvals, expected) => {
    expect(eligibleReviewers(group, contacts, approvals)).toEqual(expected);
  });

  it('treats a +tag in the bank’s own domains as the same person, and elsewhere as another address', () => {
    const own = ['bank.example'];
    expect(eligibleReviewers([ALICE, BOB], ['Alice.Reviewer+ops@Bank.example'], [], own)).toEqual([BOB]);
    expect(eligibleReviewers([ALICE, BOB], [OPS], [approvalBy('bob.reviewer+second@bank.example')], own)).toEqual([ALICE]);
    expect(eligibleReviewers([ALICE, 'alice.reviewer+2@bank.example', BOB], [], [], own)).toEqual([ALICE, BOB]);
    expect(eligibleReviewers(['dev@fintech.example'], ['dev+x@fintech.example'], [], own)).toEqual(['dev@fintech.example']);
  });

  it('keeps the group’s order', () => {
    expect(eligibleReviewers([BOB, DANA, ALICE], [OPS], [])).toEqual([BOB, DANA, ALICE]);
  });
});

describe('mayReview', () => {
  it.each<[string, string, string[], Approval[], boolean]>([
    ['a reviewer who is neither contact nor approver', ALICE, [OPS], [], true],
    ['a reviewer whatever the casing of the address', 'Alice.Reviewer@Bank.Example', [OPS], [], true],
    ['a contact', DANA, [OPS, DANA], [], false],
    ['a contact spelt with other casing', DANA, ['DANA.REVIEWER@BANK.EXAMPLE'], [], false],
    ['the requester’s own address', OPS, [OPS], [], false],
    ['someone who approved an earlier round', ALICE, [OPS], [approvalBy(ALICE)], false],
    ['someone who approved, with other casing', ALICE, [OPS], [approvalBy(' Alice.Reviewer@bank.example')], false],
    ['a second reviewer after someone else approved', BOB, [OPS], [approvalBy(ALICE)], true],
    ['a requester who asked under a +tag address', ALICE, ['alice.reviewer+oncall@bank.example'], [], false],
  ])('answers for %s', (_case, email, contacts, approvals, expected) => {
    expect(mayReview(email, contacts, approvals, ['bank.example'])).toBe(expected);
  });
});
