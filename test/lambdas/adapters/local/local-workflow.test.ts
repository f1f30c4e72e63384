import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileValidationRecord, validatedStateMachine, validationDigest } from '../../../../lambdas/adapters/local/local-workflow.js';

const definition = (next: string) => ({
  StartAt: 'Wait',
  States: { Wait: { Type: 'Pass', Next: next }, Done: { Type: 'Succeed' } },
});

describe('validatedStateMachine', () => {
  it('refuses a definition that does not validate, every time it is asked, so a bad file is never remembered as good', () => {
    for (let i = 0; i < 2; i++) expect(() => validatedStateMachine(definition('Nowhere'))).toThrow();
  });

  it('refuses a bad JSONPath even after the same states with good paths passed', () => {
    const good = { StartAt: 'A', States: { A: { Type: 'Pass', InputPath: '$.a', End: true } } };
    expect(validatedStateMachine(good)).toBeDefined();
    expect(() => validatedStateMachine({ ...good, States: { A: { ...good.States.A, InputPath: 'not a path' } } })).toThrow();
  });

  it('runs a definition it validated before', async () => {
    validatedStateMachine(definition('Done'));
    const execution = validatedStateMachine(definition('Done')).run({ x: 1 });
    await expect(execution.result).resolves.toEqual({ x: 1 });
  });
});

describe('fileValidationRecord', () => {
  const recordFile = () => join(mkdtempSync(join(tmpdir(), 'gatehouse-asl-record-')), 'sub', 'asl-validated');
  // A distinct definition per test, so this process's own memory of validated definitions plays no part.
  const unique = (tag: string) => ({ StartAt: 'A', States: { A: { Type: 'Pass', Comment: `${tag}-${Math.random()}`, End: true } } });

  it('records a definition that validated, and a later process (a fresh record on the same file) finds it', () => {
    const file = recordFile();
    const good = unique('good');
    // Taken first: the state machine adds defaults to the object it is given.
    const digest = validationDigest(JSON.stringify(good));
    validatedStateMachine(good, fileValidationRecord(file));
    expect(readFileSync(file, 'utf8')).toBe(`${digest}\n`);
    expect(fileValidationRecord(file).has(digest)).toBe(true);
  });

  it('never records a definition that failed validation, so every process refuses it', () => {
    const file = recordFile();
    const bad = () => ({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere', Comment: 'never valid' } } });
    for (let i = 0; i < 2; i++) expect(() => validatedStateMachine(bad(), fileValidationRecord(file))).toThrow();
    expect(fileValidationRecord(file).has(validationDigest(JSON.stringify(bad())))).toBe(false);
  });

  it('skips validation of a definition the record names (what saves a restarted process the schema compile)', () => {
    const file = recordFile();
    // Refused when unrecorded; built without validation once its digest is on record.
    const comment = String(Math.random());
    const unresolvable = () => ({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Elsewhere', Comment: comment } } });
    expect(() => validatedStateMachine(unresolvable(), fileValidationRecord(file))).toThrow();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${validationDigest(JSON.stringify(unresolvable()))}\n`);
    expect(validatedStateMachine(unresolvable(), fileValidationRecord(file))).toBeDefined();
  });

  it('keys the digest by the validator version and options as well as the text', () => {
    const text = JSON.stringify(unique('salted'));
    expect(validationDigest(text)).toMatch(/^[0-9a-f]{64}$/);
    expect(validationDigest(text)).not.toBe(createHashHex(text));
  });

  it('works as an empty record when its file cannot be read or written', () => {
    // Under a plain file, so neither reading nor creating the directory can work.
    const plainFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-asl-record-')), 'a-file');
    writeFileSync(plainFile, '');
    const record = fileValidationRecord(join(plainFile, 'sub', 'asl-validated'));
    expect(record.has('0'.repeat(64))).toBe(false);
    expect(() => record.add('1'.repeat(64))).not.toThrow();
    expect(validatedStateMachine(unique('unwritable'), record)).toBeDefined();
  });
});

function createHashHex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
