import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyError } from '../../../../lambdas/core/policy/errors.js';
import { compiledPolicy } from '../../../../lambdas/core/policy/compiled.js';
import { loadPolicy, loadPolicyFile } from '../../../../lambdas/core/policy/load.js';
import { POLICY_DEFINE } from '../../../../lambdas/adapters/aws/env.js';
import { gatehouseBundling } from '../../../../lib/bundling.js';
import type { PolicyDocument, RiskRequirements } from '../../../../lambdas/core/policy/schema.js';
import { DEFAULT_POLICY_PATH, defaultDocument } from './fixtures.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The same JSON with object keys in reverse order at every level (arrays untouched). */
function reverseKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .reverse()
        .map((k) => [k, reverseKeys(value[k]!)]),
    );
  }
  return value;
}

/** Every path to a leaf value in a JSON value. */
function leafPaths(value: Json, path: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return value.flatMap((v, i) => leafPaths(v, [...path, i]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...path, k]));
  return [path];
}

function setAt(root: Json, path: ReadonlyArray<string | number>, next: (old: Json) => Json): void {
  let node = root as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  node[last] = next(node[last]!);
}

const rawDefault = (): Json => JSON.parse(readFileSync(DEFAULT_POLICY_PATH, 'utf8')) as Json;

/** Runs `fn` and returns the PolicyError it throws; fails the test if it throws anything else or nothing. */
function policyErrorFrom(fn: () => unknown): PolicyError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return error as PolicyError;
  }
  throw new Error('expected a PolicyError, but nothing was thrown');
}

describe('loadPolicy', () => {
  it('loads the default policy', () => {
    const policy = loadPolicy(rawDefault());

    expect(policy.id).toBe('gatehouse-bank-default');
    expect(policy.document).toStrictEqual(rawDefault());
    expect(Object.keys(policy.document.tiers)).toEqual(['public', 'partner', 'internal']);
  });

  it('versions the policy as id@<16 hex characters>', () => {
    const policy = loadPolicy(rawDefault());

    expect(policy.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(policy.version).toBe(`${policy.id}@${policy.hash}`);
    expect(policy.version).toMatch(/^gatehouse-bank-default@[0-9a-f]{16}$/);
  });

  it('gives the same hash however the keys are ordered', () => {
    const reordered = reverseKeys(rawDefault());
    expect(Object.keys(reordered as object)[0]).toBe('lifecycle');

    expect(loadPolicy(reordered).hash).toBe(loadPolicy(rawDefault()).hash);
  });

  it('gives the same hash when loaded twice', () => {
    expect(loadPolicy(rawDefault()).version).toBe(loadPolicy(rawDefault()).version);
  });

  it.each<{ label: string; mutate: (doc: PolicyDocument) => void }>([
    { label: 'the id', mutate: (d) => void (d.id = 'gatehouse-bank-other') },
    { label: 'minPurposeLength', mutate: (d) => void (d.minPurposeLength += 1) },
    { label: 'a tier maxRisk', mutate: (d) => void (d.tiers.partner.maxRisk = 'medium') },
    { label: 'a tier scope list', mutate: (d) => void d.tiers.partner.scopes.pop() },
    { label: 'the order of a tier scope list', mutate: (d) => void d.tiers.partner.scopes.reverse() },
    { label: 'a scope risk', mutate: (d) => void (d.scopes['accounts:read']!.risk = 'high') },
    { label: 'a data class risk', mutate: (d) => void (d.dataClasses['confidential']!.risk = 'high') },
    { label: 'a token TTL', mutate: (d) => void (d.risks.low.accessTokenTtlSeconds -= 1) },
    { label: 'a sender constraint', mutate: (d) => void (d.risks.medium.senderConstraint = 'dpop') },
    { label: 'a software-statement rule', mutate: (d) => void (d.tiers.public.softwareStatement = 'required') },
    { label: 'a new scope', mutate: (d) => void (d.scopes['rates:read'] = { ...d.scopes['reference-data:read']! }) },
  ])('changes the hash when $label changes', ({ mutate }) => {
    const doc = defaultDocument();
    mutate(doc);

    const changed = loadPolicy(doc);

    expect(changed.hash).not.toBe(loadPolicy(rawDefault()).hash);
    expect(changed.version).not.toBe(loadPolicy(rawDefault()).version);
  });

  it('changes the hash when any single leaf value changes, wherever the change is still valid', () => {
    const baseline = loadPolicy(rawDefault()).hash;
    const paths = leafPaths(rawDefault());
    const seen = new Set<string>();
    let validMutations = 0;

    for (const path of paths) {
      for (const next of [(v: Json) => (typeof v === 'number' ? v + 1 : `${String(v)}x`), (v: Json) => (typeof v === 'number' ? v - 1 : v)]) {
        const doc = rawDefault();
        setAt(doc, path, next);
        let hash: string;
        try {
          hash = loadPolicy(doc).hash;
        } catch {
          continue; // the mutation broke the policy; the invalid-document tests cover that
        }
        if (JSON.stringify(doc) === JSON.stringify(rawDefault())) continue;
        validMutations += 1;
        expect(hash, path.join('.')).not.toBe(baseline);
        expect(seen.has(hash), path.join('.')).toBe(false);
        seen.add(hash);
      }
    }

    // Every description, plus most numeric limits, can change without breaking the policy.
    expect(validMutations).toBeGreaterThan(30);
  });

  type Mutation = (doc: PolicyDocument) => void;
  const asRecord = (v: object) => v as Record<string, unknown>;

  it.each<{ label: string; mutate: Mutation; issue: string }>([
    {
      label: 'an unknown scope in a tier',
      mutate: (d) => void d.tiers.public.scopes.push('nope:read'),
      issue: 'tiers.public.scopes.1: unknown scope "nope:read"',
    },
    {
      label: 'an unknown data class in a tier',
      mutate: (d) => void (d.tiers.partner.dataClasses[2] = 'secret'),
      issue: 'tiers.partner.dataClasses.2: unknown data class "secret"',
    },
    {
      label: 'an unknown data class in a scope',
      mutate: (d) => void (d.scopes['accounts:read']!.dataClass = 'secret'),
      issue: 'scopes.accounts:read.dataClass: unknown data class "secret"',
    },
    {
      label: 'high risk with no approvals',
      mutate: (d) => {
        d.risks.low.approvals = 0;
        d.risks.medium.approvals = 0;
        d.risks.high.approvals = 0;
      },
      issue: 'risks.high.approvals: high risk must need human review',
    },
    {
      label: 'higher risk with a longer token TTL',
      mutate: (d) => void (d.risks.high.accessTokenTtlSeconds = d.risks.medium.accessTokenTtlSeconds + 1),
      issue: 'risks: medium to high: access-token TTL must not grow',
    },
    {
      label: 'medium risk with a longer token TTL than low',
      mutate: (d) => void (d.risks.medium.accessTokenTtlSeconds = d.risks.low.accessTokenTtlSeconds + 1),
      issue: 'risks: low to medium: access-token TTL must not grow',
    },
    {
      label: 'higher risk with fewer approvals',
      mutate: (d) => void (d.risks.low.approvals = d.risks.medium.approvals + 1),
      issue: 'risks: low to medium: approvals must not decrease',
    },
    {
      label: 'higher risk with a longer maximum grant',
      mutate: (d) => void (d.risks.high.maxGrantDays = d.risks.medium.maxGrantDays + 1),
      issue: 'risks: medium to high: maximum grant must not grow',
    },
    {
      label: 'higher risk with a longer dormancy window',
      mutate: (d) => void (d.risks.high.dormancyDays = d.risks.medium.dormancyDays + 1),
      issue: 'risks: medium to high: dormancy window must not grow',
    },
    {
      label: 'higher risk with a longer secret rotation period',
      mutate: (d) => void (d.risks.medium.secretRotationDays = d.risks.low.secretRotationDays + 1),
      issue: 'risks: low to medium: secret rotation period must not grow',
    },
    {
      label: 'higher risk without the sender constraint of a lower one',
      mutate: (d) => {
        d.risks.medium.senderConstraint = 'dpop';
        d.risks.high.senderConstraint = 'none';
      },
      issue: 'risks: medium to high: sender constraint must not be dropped',
    },
    {
      label: 'a reviewed risk that allows client secrets',
      mutate: (d) => void d.risks.medium.authMethods.push('client_secret_basic'),
      issue: 'risks.medium.authMethods: a risk that needs review allows only private_key_jwt',
    },
    {
      label: 'an extra unknown property at the root',
      mutate: (d) => void (asRecord(d).extra = true),
      issue: '(root): Unrecognized key: "extra"',
    },
    {
      label: 'an extra unknown property in a risk',
      mutate: (d) => void (asRecord(d.risks.low).mfa = true),
      issue: 'risks.low: Unrecognized key: "mfa"',
    },
    {
      label: 'an extra unknown property in a scope',
      mutate: (d) => void (asRecord(d.scopes['accounts:read']!).owner = 'ops'),
      issue: 'scopes.accounts:read: Unrecognized key: "owner"',
    },
    {
      label: 'a missing field in a risk',
      mutate: (d) => void delete (d.risks.medium as Partial<RiskRequirements>).dormancyDays,
      issue: 'risks.medium.dormancyDays: Invalid input: expected number, received undefined',
    },
    {
      label: 'a missing tier',
      mutate: (d) => void delete (d.tiers as Partial<PolicyDocument['tiers']>).internal,
      issue: 'tiers.internal: Invalid input: expected object, received undefined',
    },
    {
      label: 'a missing top-level field',
      mutate: (d) => void delete (d as Partial<PolicyDocument>).minPurposeLength,
      issue: 'minPurposeLength: Invalid input: expected number, received undefined',
    },
    {
      label: 'an unknown auth method',
      mutate: (d) => void ((d.risks.high.authMethods as string[])[0] = 'none'),
      issue: 'risks.high.authMethods.0: Invalid option: expected one of "client_secret_basic"|"client_secret_post"|"private_key_jwt"',
    },
    {
      label: 'a scope name that is not lower-case resource:action',
      mutate: (d) => void (d.scopes['Accounts:Read'] = { ...d.scopes['accounts:read']! }),
      issue: 'scopes.Accounts:Read: Invalid key in record',
    },
  ])('rejects $label', ({ mutate, issue }) => {
    const doc = defaultDocument();
    mutate(doc);

    const error = policyErrorFrom(() => loadPolicy(doc));

    expect(error.code).toBe('policy_invalid');
    expect(error.name).toBe('PolicyError');
    expect(error.issues).toContain(issue);
    expect(error.message).toContain(`\n  - ${issue}`);
  });

  it.each<{ label: string; mutate: Mutation; risk: 'low' | 'medium' | 'high' }>([
    { label: 'as long as the rotation period', mutate: (d) => void (d.risks.high.secretGraceDays = d.risks.high.secretRotationDays), risk: 'high' },
    {
      label: 'longer than the rotation period',
      mutate: (d) => {
        d.risks.high.secretRotationDays = 20;
        d.risks.high.secretGraceDays = 21;
      },
      risk: 'high',
    },
    {
      label: 'as long as a one-day rotation period',
      mutate: (d) => {
        for (const r of ['low', 'medium', 'high'] as const) d.risks[r].secretRotationDays = 1;
        d.risks.low.secretGraceDays = 1;
        d.risks.medium.secretGraceDays = 0;
        d.risks.high.secretGraceDays = 0;
      },
      risk: 'low',
    },
  ])('rejects a client-secret grace window $label, with that one issue', ({ mutate, risk }) => {
    const doc = defaultDocument();
    mutate(doc);

    const error = policyErrorFrom(() => loadPolicy(doc));

    expect(error.code).toBe('policy_invalid');
    expect(error.issues).toEqual([`risks.${risk}.secretGraceDays: the grace window must be shorter than the rotation period`]);
    expect(error.message).toContain('the grace window must be shorter than the rotation period');
  });

  it('accepts a grace window one day shorter than the rotation period, and no grace at all', () => {
    const doc = defaultDocument();
    doc.risks.high.secretGraceDays = doc.risks.high.secretRotationDays - 1;
    doc.risks.low.secretGraceDays = 0;

    expect(loadPolicy(doc).document.risks.high.secretGraceDays).toBe(29);
    expect(loadPolicy(doc).document.risks.low.secretGraceDays).toBe(0);
  });

  it.each([
    ['negative', -1, 'Too small: expected number to be >=0'],
    ['over 30 days', 31, 'Too big: expected number to be <=30'],
    ['fractional', 1.5, 'Invalid input: expected int, received number'],
  ])('rejects a %s grace window', (_, days, message) => {
    const doc = defaultDocument();
    doc.risks.low.secretGraceDays = days;

    expect(policyErrorFrom(() => loadPolicy(doc)).issues).toContain(`risks.low.secretGraceDays: ${message}`);
  });

  it('requires a grace window for every risk', () => {
    const doc = defaultDocument();
    delete (doc.risks.low as Partial<RiskRequirements>).secretGraceDays;

    expect(policyErrorFrom(() => loadPolicy(doc)).issues).toContain('risks.low.secretGraceDays: Invalid input: expected number, received undefined');
  });

  it('reports every issue of a document with several cross-reference mistakes', () => {
    const doc = defaultDocument();
    doc.tiers.public.scopes.push('nope:read');
    doc.scopes['accounts:read']!.dataClass = 'secret';
    doc.risks.high.accessTokenTtlSeconds = 1000;

    const error = policyErrorFrom(() => loadPolicy(doc));

    expect(error.issues).toEqual(
      expect.arrayContaining([
        'tiers.public.scopes.1: unknown scope "nope:read"',
        'scopes.accounts:read.dataClass: unknown data class "secret"',
        'risks: medium to high: access-token TTL must not grow',
      ]),
    );
    expect(error.issues).toHaveLength(3);
  });

  it.each([
    { label: 'null', raw: null, issue: '(root): Invalid input: expected object, received null' },
    { label: 'an array', raw: [], issue: '(root): Invalid input: expected object, received array' },
    { label: 'a string', raw: 'policy', issue: '(root): Invalid input: expected object, received string' },
  ])('rejects $label as the whole document', ({ raw, issue }) => {
    const error = policyErrorFrom(() => loadPolicy(raw));

    expect(error.code).toBe('policy_invalid');
    expect(error.issues).toEqual([issue]);
  });
});

describe('loadPolicyFile', () => {
  let dir: string;
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text, 'utf8');
    return path;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-policy-test-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the default policy file with the same version as loadPolicy', () => {
    expect(loadPolicyFile(DEFAULT_POLICY_PATH).version).toBe(loadPolicy(rawDefault()).version);
  });

  it('gives the same version for a file with reordered keys and different whitespace', () => {
    const path = write('reordered.json', JSON.stringify(reverseKeys(rawDefault())));

    expect(loadPolicyFile(path).version).toBe(loadPolicyFile(DEFAULT_POLICY_PATH).version);
  });

  it('throws policy_unreadable with the cause when the file does not exist', () => {
    const path = join(dir, 'missing.json');

    const error = policyErrorFrom(() => loadPolicyFile(path));

    expect(error.code).toBe('policy_unreadable');
    expect(error.message).toContain(path);
    expect(error.issues).toEqual([]);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('throws policy_unreadable when the path is a directory', () => {
    const path = join(dir, 'a-directory.json');
    mkdirSync(path);

    const error = policyErrorFrom(() => loadPolicyFile(path));

    expect(error.code).toBe('policy_unreadable');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('EISDIR');
  });

  it.each([
    { label: 'truncated JSON', text: '{"id": "gatehouse-bank-default", ' },
    { label: 'an empty file', text: '' },
    { label: 'JSON with a trailing comma', text: '{"id": "x",}' },
  ])('throws policy_unreadable for $label', ({ label, text }) => {
    const path = write(`${label.replaceAll(' ', '-')}.json`, text);

    const error = policyErrorFrom(() => loadPolicyFile(path));

    expect(error.code).toBe('policy_unreadable');
    expect(error.message).toContain(path);
    expect(error.message).toContain('is not valid JSON');
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('throws policy_invalid for valid JSON that is not a valid policy', () => {
    const doc = defaultDocument();
    doc.tiers.public.scopes.push('nope:read');
    const path = write('invalid-policy.json', JSON.stringify(doc));

    const error = policyErrorFrom(() => loadPolicyFile(path));

    expect(error.code).toBe('policy_invalid');
    expect(error.issues).toEqual(['tiers.public.scopes.1: unknown scope "nope:read"']);
  });
});

describe('compiledPolicy', () => {
  it('gives a Lambda function the version the stack was synthesized with, from the document compiled into its bundle', () => {
    const loaded = loadPolicyFile(DEFAULT_POLICY_PATH);
    // What esbuild's define puts in the bundle: a JS string literal holding the validated document's JSON.
    const literal = gatehouseBundling(loaded).define![POLICY_DEFINE]!;
    const inBundle = compiledPolicy(JSON.parse(JSON.parse(literal) as string) as PolicyDocument);
    expect(inBundle).toEqual(loaded);
    expect(inBundle.version).toMatch(/^gatehouse-bank-default@[0-9a-f]{16}$/);
  });

  it('versions a changed document differently, as loadPolicy does', () => {
    const changed = { ...defaultDocument(), minPurposeLength: defaultDocument().minPurposeLength + 1 };
    expect(compiledPolicy(changed).version).toBe(loadPolicy(changed).version);
    expect(compiledPolicy(changed).version).not.toBe(loadPolicy(defaultDocument()).version);
  });
});
