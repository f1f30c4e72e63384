import { describe, expect, it } from 'vitest';
import { addressKey, bankDomains, inDomains } from '../../../../lambdas/core/review/addresses.js';

describe('addressKey', () => {
  it.each([
    ['case and spaces', ' Alice.Reviewer@Bank.Example ', 'alice.reviewer@bank.example'],
    ['a +tag in a bank domain', 'alice.reviewer+ops@bank.example', 'alice.reviewer@bank.example'],
    ['a +tag in a subdomain of a bank domain', 'alice+x@ops.bank.example', 'alice@ops.bank.example'],
    ['a +tag elsewhere, kept', 'dev+x@fintech.example', 'dev+x@fintech.example'],
    ['an address that starts with +, kept', '+x@bank.example', '+x@bank.example'],
  ])('normalises %s', (_case, input, expected) => {
    expect(addressKey(input, ['bank.example'])).toBe(expected);
  });
});

describe('bankDomains', () => {
  it('lists each domain of the reviewers and operators once', () => {
    expect(bankDomains({ default: ['a@Bank.example', 'b@bank.example'], high: ['c@risk.bank.example'] }, [{ email: 'ops@corp.example' }])).toEqual([
      'bank.example',
      'risk.bank.example',
      'corp.example',
    ]);
  });
});

describe('inDomains', () => {
  it('matches a domain and its subdomains, not a look-alike', () => {
    expect(inDomains('x@ops.bank.example', ['bank.example'])).toBe(true);
    expect(inDomains('x@evilbank.example', ['bank.example'])).toBe(false);
  });
});
