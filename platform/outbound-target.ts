/**
 * Where the order event feed may send a webhook: a public unicast address over
 * http(s), unless the operator allow-listed the address (FEED_ALLOWED_PRIVATE_TARGETS).
 * The API checks a URL when it is given (checkTarget); the dispatcher connects
 * through outboundAgent, which applies the same rule to the address it actually
 * connects to, so a name that resolves elsewhere later (DNS rebinding) is still refused.
 */
import { promises as dns } from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

type Ip = ipaddr.IPv4 | ipaddr.IPv6;

/** Private addresses allowed as targets after all. */
export interface AllowList {
  /** each entry as a CIDR (a single address as /32 or /128), in the form the connect-time agent reads */
  readonly entries: readonly string[];
  readonly ranges: readonly (readonly [Ip, number])[];
}

export type TargetVerdict = { ok: true } | { ok: false; reason: string };

/** Resolves a host name to every address it has (default: the system resolver, as connections use). */
export type Resolve = (host: string) => Promise<string[]>;

const SETTING = 'FEED_ALLOWED_PRIVATE_TARGETS';
/** A resolver that does not answer by then is a refusal, not a hung request. */
const LOOKUP_TIMEOUT_MS = 5_000;

/** Comma-separated IPs or CIDRs (127.0.0.1, 10.0.0.0/8, fd00::/8); a bad entry throws naming it. */
export function parseAllowList(setting: string): AllowList {
  const ranges = setting
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry): readonly [Ip, number] => {
      const bad = (why: string) => new Error(`${SETTING}: "${entry}" ${why} (give IPs or CIDRs, comma-separated, e.g. 127.0.0.1,10.0.0.0/8,fd00::/8)`);
      const [address, prefix, ...rest] = entry.split('/');
      // net.isIP takes only the usual notations (no 0x7f.1 or 127.1), and no zone ids
      if (rest.length > 0 || net.isIP(address) === 0 || address.includes('%')) throw bad('is not an IP address or CIDR');
      const ip = ipaddr.parse(address);
      const max = ip.kind() === 'ipv4' ? 32 : 128;
      if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) throw bad('has a prefix length that is not a number');
      const bits = prefix === undefined ? max : Number(prefix);
      if (bits > max) throw bad(`has a prefix length over ${max}`);
      return [ip, bits];
    });
  return { entries: ranges.map(([ip, bits]) => `${ip.toString()}/${bits}`), ranges };
}

const inList = (ip: Ip, allow: AllowList) => allow.ranges.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits));

/** Why an address may not be a target, or undefined when it may. IPv4-mapped IPv6 counts as the IPv4 address. */
function forbidden(address: string, allow: AllowList): string | undefined {
  const raw = ipaddr.parse(address);
  const ip = ipaddr.process(address);
  if (inList(raw, allow) || inList(ip, allow)) return undefined;
  const range = ip.range();
  return range === 'unicast' ? undefined : `a ${range} address, not a public one (allow it in ${SETTING} if it is meant)`;
}

const systemResolve: Resolve = async (host) => (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

async function resolveWithin(resolve: Resolve, host: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${LOOKUP_TIMEOUT_MS} ms`)), LOOKUP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([resolve(host), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether a webhook URL may be a target: http or https, no user:password@, and every address
 * its host is (a literal) or resolves to is public unicast or allow-listed.
 */
export async function checkTarget(url: string, allow: AllowList, resolve: Resolve = systemResolve): Promise<TargetVerdict> {
  const refuse = (reason: string): TargetVerdict => ({ ok: false, reason });
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return refuse('not an absolute URL');
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return refuse(`only http and https targets are allowed, not ${target.protocol.slice(0, -1)}`);
  if (target.username || target.password) return refuse('the URL carries credentials (user:password@), which would be sent with every delivery');
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) return refuse('the URL has no host');
  let addresses: string[];
  if (net.isIP(host) !== 0) addresses = [host];
  else {
    try {
      addresses = await resolveWithin(resolve, host);
    } catch (err) {
      const { code, message } = err as { code?: string; message?: string };
      return refuse(`${host} does not resolve (${code ?? message ?? 'no address'})`);
    }
    if (addresses.length === 0) return refuse(`${host} does not resolve (no address)`);
  }
  for (const address of addresses) {
    const why = forbidden(address, allow);
    if (why) return refuse(address === host ? `${host} is ${why}` : `${host} resolves to ${address}, ${why}`);
  }
  return { ok: true };
}

const agents = new WeakMap<AllowList, { http: RequestFilteringHttpAgent; https: RequestFilteringHttpsAgent }>();

/**
 * The agent to send to `url` with (node:http / node:https requests): it refuses, when it connects,
 * an address checkTarget would refuse. One pair of agents per allow-list.
 */
export function outboundAgent(url: string | URL, allow: AllowList): RequestFilteringHttpAgent | RequestFilteringHttpsAgent {
  let pair = agents.get(allow);
  if (!pair) {
    // keep-alive: a busy receiver gets its deliveries over a few reused connections (each checked when it was opened)
    const options = { allowIPAddressList: [...allow.entries], keepAlive: true, maxFreeSockets: 32, scheduling: 'lifo' as const };
    pair = { http: new RequestFilteringHttpAgent(options), https: new RequestFilteringHttpsAgent(options) };
    agents.set(allow, pair);
  }
  return new URL(url).protocol === 'https:' ? pair.https : pair.http;
}
