import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi';
import type { ZodType } from 'zod';

interface CompiledRoute {
  operation: string;
  method: string;
  pattern: RegExp;
  literalLength: number;
  tags: string[];
  responses: RouteConfig['responses'];
}

/**
 * Checks real responses against the document the app serves: the route's
 * declared response for that status (5xx may fall back to `default`) must
 * exist, have the content type, and its zod schema — the same object
 * /openapi.json is generated from — must accept the body.
 */
export class Contract {
  private readonly routes: CompiledRoute[];
  readonly covered = new Map<string, Set<number>>();

  constructor(app: OpenAPIHono<any>) {
    this.routes = app.openAPIRegistry.definitions.flatMap((d) => {
      if (d.type !== 'route') return [];
      const { method, path, responses, tags } = d.route;
      const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
      return [{
        operation: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        pattern: new RegExp(`^${source}$`),
        literalLength: path.replace(/\{[^}]+\}/g, '').length,
        tags: tags ?? [],
        responses,
      }];
    });
  }

  operations(tags?: string[]): string[] {
    return this.routes.filter((r) => !tags || r.tags.some((t) => tags.includes(t))).map((r) => r.operation);
  }

  /** Operations of these tags that no test has called yet. */
  uncovered(tags: string[]): string[] {
    return this.operations(tags).filter((op) => !this.covered.has(op));
  }

  route(method: string, url: string): CompiledRoute | undefined {
    const path = new URL(url, 'http://x').pathname;
    return this.routes
      .filter((r) => r.method === method.toUpperCase() && r.pattern.test(path))
      .sort((a, b) => b.literalLength - a.literalLength)[0];
  }

  /** Returns a list of problems; empty when the response matches the document. */
  async check(method: string, url: string, res: Response): Promise<string[]> {
    const route = this.route(method, url);
    if (!route) return [];
    const where = `${route.operation} → ${res.status}`;
    const declared = route.responses[res.status] ?? (res.status >= 500 ? route.responses.default : undefined);
    if (!declared) return [`${where}: status not in the document`];
    const statuses = this.covered.get(route.operation) ?? new Set<number>();
    statuses.add(res.status);
    this.covered.set(route.operation, statuses);

    const content = (declared as { content?: Record<string, { schema: unknown }> }).content;
    if (!content) return [];
    const type = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    const media = content[type];
    if (!media) return [`${where}: content-type ${type || '(none)'} not among ${Object.keys(content).join(', ')}`];
    if (type !== 'application/json') return [];
    const body = await res.clone().json();
    const parsed = (media.schema as ZodType).safeParse(body);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${where}: ${i.path.join('.') || '(body)'} ${i.message}`);
  }
}
