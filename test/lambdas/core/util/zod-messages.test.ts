import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../../lib/gatehouse-function.js';

const run = promisify(execFile);

describe('zod-messages', () => {
  it('gives zod/mini zod’s English messages, in a process that never loads the chainable zod (as a small bundle does)', async () => {
    // A child process: this one has loaded 'zod', which configures the same messages for every zod API.
    const script = `
      import * as z from 'zod/mini';
      import './lambdas/core/util/zod-messages.ts';
      const message = (schema, value) => schema.safeParse(value).error.issues[0].message;
      console.log(JSON.stringify([message(z.url(), 'x'), message(z.string().check(z.minLength(1)), ''), message(z.enum(['a']), 'b')]));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: PROJECT_ROOT });
    expect(JSON.parse(stdout)).toEqual(['Invalid URL', 'Too small: expected string to have >=1 characters', 'Invalid input: expected "a"']);
  });
});
