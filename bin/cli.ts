import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { adminCall, reviewLinksPath } from './admin-client.js';

const USAGE = `usage: npm run gatehouse -- <command>
  consumers [--status S] [--tier T] [--dormant-within DAYS] [--expiring-within DAYS]
  show <client_id>                       the consumer and its audit trail (chain verified)
  evidence <client_id>                   audit evidence mapped to OWASP NHI Top 10 and NIST CSF 2.0
  suspend <client_id> --reason TEXT
  terminate <client_id> --reason TEXT
  rotate-secret <client_id> --reason TEXT
  reinstate <client_id> --reason TEXT    ask reviewers to reinstate a suspended consumer
  resend-review-links <client_id> [--request ID]
                                         fresh links to the reviewers of a pending review's open round
                                         (the earlier links stop working)
  exceptions [--client ID] [--status S]  exceptions pending, in force and ended
  request-exception <client_id> --rule RULE --value V --until ISO-DATE --justification TEXT
                                         ask reviewers for a time-boxed exception (rules: auth_method,
                                         sender_constraint, dormancy_days, access_token_ttl_seconds)
  evaluate <request.json>                dry-run the deployed policy (nothing is stored)
  recertification [--within DAYS]       periodic access reviews due, awaiting a reviewer, overdue (and upcoming
                                         within DAYS, default 30), with the last attestation

Against local mode (npm start) the CLI uses the admin token; with GATEHOUSE_URL=https://<api> it signs with IAM SigV4
using the standard AWS credential chain.`;

/** Renders rows as a fixed-width text table. */
export function table(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): string {
  const cells = rows.map((r) => columns.map((c) => (Array.isArray(r[c]) ? (r[c] as unknown[]).join(' ') : String(r[c] ?? ''))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      status: { type: 'string' },
      tier: { type: 'string' },
      'dormant-within': { type: 'string' },
      'expiring-within': { type: 'string' },
      reason: { type: 'string' },
      client: { type: 'string' },
      rule: { type: 'string' },
      value: { type: 'string' },
      until: { type: 'string' },
      justification: { type: 'string' },
      within: { type: 'string' },
      request: { type: 'string' },
    },
  });
  const [command, arg] = positionals;
  const id = () => {
    if (!arg) throw new Error(USAGE);
    return encodeURIComponent(arg);
  };
  const out = (text: string) => process.stdout.write(`${text}\n`);
  switch (command) {
    case 'consumers': {
      const query = new URLSearchParams({ limit: '500' });
      if (values.status) query.set('status', values.status);
      if (values.tier) query.set('tier', values.tier);
      if (values['dormant-within']) query.set('dormant_within_days', values['dormant-within']);
      if (values['expiring-within']) query.set('expiring_within_days', values['expiring-within']);
      const rows: Array<Record<string, unknown>> = [];
      let cursor: string | undefined;
      do {
        if (cursor) query.set('cursor', cursor);
        const page = await adminCall('GET', `/admin/consumers?${query.toString()}`);
        rows.push(...(page['consumers'] as Array<Record<string, unknown>>));
        cursor = page['next_cursor'] as string | undefined;
      } while (cursor);
      out(table(rows, ['clientId', 'clientName', 'tier', 'risk', 'status', 'expiresAt', 'lastUsedAt', 'scopes']));
      return;
    }
    case 'show': {
      const got = await adminCall('GET', `/admin/consumers/${id()}`);
      const audit = got['audit'] as { chain_verified: boolean; events: Array<Record<string, unknown>> };
      out(JSON.stringify(got['consumer'], null, 2));
      out(`\naudit trail (${audit.chain_verified ? 'hash chain verified' : 'HASH CHAIN BROKEN'}):`);
      out(
        table(
          audit.events.map((e) => ({ ...e, actor: `${(e['actor'] as { kind: string; id: string }).kind}:${(e['actor'] as { id: string }).id}` })),
          ['seq', 'at', 'type', 'actor'],
        ),
      );
      return;
    }
    case 'evidence': {
      const evidence = await adminCall('GET', `/admin/consumers/${id()}/evidence`);
      out(table(evidence['controls'] as Array<Record<string, unknown>>, ['id', 'status', 'title', 'finding']));
      out(`\nchain: ${JSON.stringify(evidence['chain'])}`);
      return;
    }
    case 'exceptions': {
      const query = new URLSearchParams({ limit: '500' });
      if (values.client) query.set('client_id', values.client);
      if (values.status) query.set('status', values.status);
      const rows: Array<Record<string, unknown>> = [];
      let cursor: string | undefined;
      do {
        if (cursor) query.set('cursor', cursor);
        const page = await adminCall('GET', `/admin/exceptions?${query.toString()}`);
        rows.push(...(page['exceptions'] as Array<Record<string, unknown>>));
        cursor = page['next_cursor'] as string | undefined;
      } while (cursor);
      out(table(rows, ['request_id', 'client_id', 'status', 'rule', 'value', 'expires_at', 'requested_by']));
      return;
    }
    case 'recertification': {
      const query = new URLSearchParams({ limit: '500', within_days: values.within ?? '30' });
      const rows: Array<Record<string, unknown>> = [];
      let cursor: string | undefined;
      do {
        if (cursor) query.set('cursor', cursor);
        const page = await adminCall('GET', `/admin/recertifications?${query.toString()}`);
        rows.push(...(page['recertifications'] as Array<Record<string, unknown>>));
        cursor = page['next_cursor'] as string | undefined;
      } while (cursor);
      const last = (r: Record<string, unknown>) => r['last'] as { at: string; attestedBy: string; scopesRemoved: string[] } | undefined;
      out(
        table(
          rows.map((r) => ({
            ...r,
            lastAttested: last(r) ? `${last(r)!.at} by ${last(r)!.attestedBy}` : 'never',
            scopesRemoved: last(r)?.scopesRemoved.join(' ') ?? '',
          })),
          ['clientId', 'clientName', 'risk', 'state', 'dueAt', 'suspendAt', 'lastAttested', 'scopesRemoved'],
        ),
      );
      return;
    }
    case 'request-exception': {
      if (!arg || !values.rule || values.value === undefined || !values.until || !values.justification) throw new Error(USAGE);
      const value = /^\d+$/.test(values.value) ? Number(values.value) : values.value;
      const body = { client_id: arg, rule: values.rule, value, expires_at: new Date(values.until).toISOString(), justification: values.justification };
      out(JSON.stringify(await adminCall('POST', '/admin/exceptions', body), null, 2));
      return;
    }
    case 'suspend':
    case 'terminate':
    case 'reinstate':
    case 'rotate-secret': {
      if (!values.reason) throw new Error(`${command} needs --reason (every admin change is audited with why)`);
      out(JSON.stringify(await adminCall('POST', `/admin/consumers/${id()}/${command}`, { reason: values.reason }), null, 2));
      return;
    }
    case 'resend-review-links': {
      if (!arg) throw new Error(USAGE);
      const resent = await adminCall('POST', reviewLinksPath(arg, values.request));
      out(`review ${String(resent['review_id'])} round ${String(resent['round'])}: links sent to ${(resent['recipients'] as string[]).join(', ')}`);
      if (Array.isArray(resent['not_sent'])) out(`not sent (resend again): ${(resent['not_sent'] as string[]).join(', ')}`);
      return;
    }
    case 'evaluate': {
      if (!arg) throw new Error(USAGE);
      // `npm run` starts this in the project root; a relative path means the directory the operator typed it in.
      const file = resolve(process.env['INIT_CWD'] ?? process.cwd(), arg);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new Error(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, {
          cause: error,
        });
      }
      out(JSON.stringify(await adminCall('POST', '/admin/policy/evaluate', JSON.parse(text)), null, 2));
      return;
    }
    default:
      throw new Error(USAGE);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
