/**
 * Webhook targets (platform/outbound-target.ts): what the API refuses when a URL is given, and
 * what the dispatcher's agent refuses when it connects.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTarget, outboundAgent, parseAllowList, type Resolve } from '../../platform/outbound-target';

const none = parseAllowList('');
const refusal = async (url: string, allow = none, resolve?: Resolve) => {
  const verdict = await checkTarget(url, allow, resolve);
  return verdict.ok ? undefined : verdict.reason;
};
/** A resolver standing in for DNS: the names it knows, and ENOTFOUND for the rest. */
const fakeDns = (names: Record<string, string[]>): Resolve => async (host) => {
  if (names[host]) return names[host];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
};

describe('checkTarget', () => {
  it.each([
    ['http://10.0.0.5/hook', /10\.0\.0\.5 is a private address/],
    ['http://192.168.1.1/hook', /private/],
    ['http://172.16.0.1/hook', /private/],
    ['http://169.254.169.254/latest/meta-data', /linkLocal/],
    ['http://127.0.0.1:8080/hook', /127\.0\.0\.1 is a loopback address/],
    ['http://[::1]/hook', /::1 is a loopback address/],
    ['http://[::ffff:127.0.0.1]/hook', /loopback/],
    ['http://[fd00::1]/hook', /uniqueLocal/],
    ['http://0.0.0.0/hook', /unspecified/],
    ['http://100.64.0.1/hook', /carrierGradeNat/],
    ['http://0x7f.1/hook', /127\.0\.0\.1 is a loopback/], // the URL parser reads it as 127.0.0.1
    ['http://localhost:3000/hook', /localhost resolves to (127\.0\.0\.1|::1), a loopback address/],
    ['ftp://93.184.216.34/hook', /only http and https targets are allowed, not ftp/],
    ['file:///etc/passwd', /not file/],
    ['https://user:pass@93.184.216.34/hook', /credentials/],
    ['not a url', /not an absolute URL/],
  ])('refuses %s', async (url, reason) => {
    expect(await refusal(url)).toMatch(reason);
  });

  it('accepts a public address, literal (no DNS asked) or resolved', async () => {
    const noDns: Resolve = () => Promise.reject(new Error('DNS must not be asked'));
    expect(await checkTarget('https://93.184.216.34/hooks/orders', none, noDns)).toEqual({ ok: true });
    expect(await checkTarget('http://[2606:4700::1]:8443/x', none, noDns)).toEqual({ ok: true });
    expect(await checkTarget('https://shop.example.com/hooks', none, fakeDns({ 'shop.example.com': ['93.184.216.34', '2606:2800:220:1::1'] }))).toEqual({ ok: true });
  });

  it('refuses a name when any of its addresses is private, and a name that does not resolve', async () => {
    const dns = fakeDns({ 'mixed.example.com': ['93.184.216.34', '10.1.2.3'], 'empty.example.com': [] });
    expect(await refusal('https://mixed.example.com/', none, dns)).toBe('mixed.example.com resolves to 10.1.2.3, a private address, not a public one (allow it in FEED_ALLOWED_PRIVATE_TARGETS if it is meant)');
    expect(await refusal('https://nowhere.example.com/', none, dns)).toBe('nowhere.example.com does not resolve (ENOTFOUND)');
    expect(await refusal('https://empty.example.com/', none, dns)).toMatch(/does not resolve/);
  });

  it('accepts an allow-listed private address, by address or by CIDR, and nothing next to it', async () => {
    expect(await checkTarget('http://127.0.0.1:8080/hook', parseAllowList('127.0.0.1'))).toEqual({ ok: true });
    expect(await refusal('http://127.0.0.2/hook', parseAllowList('127.0.0.1'))).toMatch(/loopback/);
    const lan = parseAllowList(' 10.20.0.0/16 , ::1 ');
    expect(await checkTarget('http://10.20.3.4/hook', lan)).toEqual({ ok: true });
    expect(await checkTarget('http://[::1]/hook', lan)).toEqual({ ok: true });
    expect(await refusal('http://10.21.0.1/hook', lan)).toMatch(/private/);
    expect(await checkTarget('http://[::ffff:10.20.0.9]/hook', lan)).toEqual({ ok: true }); // IPv4-mapped counts as the IPv4 address
  });
});

describe('parseAllowList', () => {
  it('reads IPs and CIDRs into CIDRs; empty is none', () => {
    expect(parseAllowList('').entries).toEqual([]);
    expect(parseAllowList('127.0.0.1, 10.0.0.0/8,fd00::/8,::1').entries).toEqual(['127.0.0.1/32', '10.0.0.0/8', 'fd00::/8', '::1/128']);
  });

  it.each([['localhost'], ['10.0.0.0/33'], ['::1/129'], ['10.0.0.0/x'], ['127.1'], ['300.1.1.1'], ['1.2.3.4/8/9'], ['fe80::1%eth0']])('throws on %s, naming the setting and the entry', (entry) => {
    expect(() => parseAllowList(`127.0.0.1,${entry}`)).toThrow(`FEED_ALLOWED_PRIVATE_TARGETS: "${entry}"`);
  });
});

describe('outboundAgent: the same rule when connecting', () => {
  let server: http.Server;
  let port = 0;
  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const get = (url: string, agent: http.Agent) =>
    new Promise<string>((resolve, reject) => {
      http
        .get(url, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
        })
        .on('error', reject);
    });

  it('refuses a loopback address, literal or resolved (localhost), unless allow-listed', async () => {
    await expect(get(`http://127.0.0.1:${port}/`, outboundAgent(`http://127.0.0.1:${port}/`, none))).rejects.toThrow(/not allowed/);
    await expect(get(`http://localhost:${port}/`, outboundAgent(`http://localhost:${port}/`, none))).rejects.toThrow(/not allowed/);
    const allow = parseAllowList('127.0.0.0/8');
    expect(await get(`http://127.0.0.1:${port}/`, outboundAgent(`http://127.0.0.1:${port}/`, allow))).toBe('200');
  });

  it('is an https agent for https URLs, and one pair per allow-list', () => {
    const allow = parseAllowList('127.0.0.1');
    expect(outboundAgent('https://93.184.216.34/', allow)).toBe(outboundAgent('https://93.184.216.34/other', allow));
    expect(outboundAgent('https://93.184.216.34/', allow)).not.toBe(outboundAgent('http://93.184.216.34/', allow));
    expect(outboundAgent('https://93.184.216.34/', allow)).toBeInstanceOf(https.Agent);
    expect(outboundAgent('http://93.184.216.34/', allow)).not.toBeInstanceOf(https.Agent);
  });
});
