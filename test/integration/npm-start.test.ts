import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Runs `node bin/start.mjs` (what `npm start` runs) until `until` appears in its output or it exits. */
function runLocal(env: Record<string, string>, until: RegExp): Promise<{ output: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/start.mjs'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out; output so far:\n${output}`));
    }, 45_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (until.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ output, code });
    });
  });
}

describe('npm start', () => {
  it('stops the server gracefully when npm is told to stop (SIGTERM to npm, as a supervisor sends it), leaving no orphan', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-npm-'));
    const npm = spawn('npm', ['start', '--silent'], { env: { ...process.env, GATEHOUSE_DATA_DIR: dataDir, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    // The server's own output keeps arriving after npm has gone: it is read from the pipes until they close.
    const closed = new Promise<void>((resolve) => npm.stdout.on('close', () => resolve()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`did not start; output:\n${output}`)), 45_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const found = /running locally at (\S+)[\s\S]*Stop with Ctrl-C/.exec(output)?.[1];
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      };
      npm.stdout.on('data', onData);
      npm.stderr.on('data', onData);
    });
    npm.kill('SIGTERM');
    await closed;
    // The graceful stop ran (its summary is printed at the end of it), not a kill.
    expect(output).toMatch(/Stopping: finishing the requests[\s\S]*Metrics since start/);
    // Nothing is left listening: the server was npm's own process, not an orphan of a shell npm ran it in.
    await expect(fetch(`${url}/.well-known/jwks.json`)).rejects.toThrow();
  });

  it('starts on a fresh data directory and prints how to try it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-start-'));
    // SIGTERM goes out as soon as the banner's last line is read, so the handlers must already be in place.
    const { output, code } = await runLocal({ GATEHOUSE_DATA_DIR: dataDir, PORT: '0' }, /Stop with Ctrl-C/);
    expect(code).toBe(0);
    expect(output).toMatch(/Gatehouse is running locally at http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain('curl -s -X POST');
    expect(output).toContain('/oauth2/token');
    // Stopped with SIGTERM: the metrics are written to the data directory and summed up.
    expect(output).toContain(`metrics       ${join(dataDir, 'metrics.json')}`);
    expect(output).toMatch(/Metrics since start/);
    expect(Array.isArray(JSON.parse(readFileSync(join(dataDir, 'metrics.json'), 'utf8')))).toBe(true);
  });

  it('refuses to start with a broken policy and lists what is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-policy-'));
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ id: 'broken' }));
    const { output, code } = await runLocal({ GATEHOUSE_DATA_DIR: dir, PORT: '0', GATEHOUSE_POLICY_FILE: policy }, /$^/);
    expect(code).toBe(1);
    expect(output).toContain('The Gatehouse policy document is invalid');
    expect(output).toContain('risks: Invalid input');
  });

  it('refuses a setting that is not a whole number with one line naming it, before it opens anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-setting-'));
    const { output, code } = await runLocal({ GATEHOUSE_DATA_DIR: dir, PORT: '0', GATEHOUSE_SWEEP_SECONDS: 'abc' }, /$^/);
    expect(code).toBe(1);
    expect(output.trim()).toBe('GATEHOUSE_SWEEP_SECONDS="abc" is not a whole number at most 86400; unset it to use 300.');
    const port = await runLocal({ GATEHOUSE_DATA_DIR: dir, PORT: '70000' }, /$^/);
    expect(port.code).toBe(1);
    expect(port.output).toContain('PORT="70000" is not a whole number from 0 to 65535');
    expect(port.output).not.toContain('RangeError');
  });
});
