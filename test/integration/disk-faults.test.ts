import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { postJson, publicRequest, startTestPlane } from './local-mode.js';

/** A small tmpfs to fill up (needs root with CAP_SYS_ADMIN; skipped elsewhere). */
function smallDisk(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return undefined;
  }
}

const disk = smallDisk();

describe('local mode on a full disk', () => {
  it.skipIf(disk === undefined)(
    'answers 503 to writes while the disk is full, keeps issuing tokens, stays up, and works again once there is room',
    async () => {
      const plane = await startTestPlane({ dataDir: join(disk!, 'data') });
      try {
        const first = await postJson(`${plane.url}/register`, publicRequest());
        expect(first.status).toBe(201);
        const basic = Buffer.from(`${String(first.json['client_id'])}:${String(first.json['client_secret'])}`).toString('base64');
        const tokenStatus = async () =>
          (
            await fetch(`${plane.url}/oauth2/token`, {
              method: 'POST',
              headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
              body: 'grant_type=client_credentials',
            })
          ).status;
        const fill = join(disk!, 'fill');
        try {
          writeFileSync(fill, Buffer.alloc(4 * 1024 * 1024));
        } catch {
          // Filled to the last byte: what the test wants.
        }

        // Issuing a token needs no write (its key is on disk already, usage is recorded best-effort): it keeps working.
        expect(await tokenStatus()).toBe(200);
        const refused = await postJson(`${plane.url}/register`, publicRequest());
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toBeTruthy();

        rmSync(fill);
        expect(await tokenStatus()).toBe(200);
        expect((await postJson(`${plane.url}/register`, publicRequest())).status).toBe(201);
      } finally {
        await plane.close(1000);
        execFileSync('umount', [disk!]);
      }
    },
  );
});
