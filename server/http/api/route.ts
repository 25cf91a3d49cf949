// Registers one route of the shared staff API table (shared/protocol/staff-api.ts):
// its schemas go to fastify (validated by fastify-type-provider-zod, answers
// serialized through the response schema, so a field not in the schema never
// leaves), its access level becomes an onRequest hook, its per-address limit a
// @fastify/rate-limit config. The handler gets the parsed, typed input.
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  staffApi,
  type ParsedRequestOf,
  type ResponseOf,
  type RouteDef,
  type RouteName,
} from '../../../shared/protocol/staff-api.ts';
import type { Stores } from '../../store/index.ts';
import { requireRole } from './common.ts';

export type Handler<N extends RouteName> = (
  input: ParsedRequestOf<N>,
  req: FastifyRequest,
  reply: FastifyReply,
) => Promise<ResponseOf<N>> | ResponseOf<N>;

/** Options that tests may change. */
export interface RouteOptions {
  /** Overrides the route's requests per minute per address. */
  perMinute?: number;
}

/**
 * Adds route `name` to `app`, which must be the /api scope (paths are given
 * in full and registered without their '/api'), with the zod compilers set.
 */
export function route<N extends RouteName>(
  app: FastifyInstance,
  stores: Stores,
  name: N,
  handler: Handler<N>,
  opts: RouteOptions = {},
): void {
  const def: RouteDef = staffApi[name];
  const schema: FastifySchema = {};
  if (def.params) schema.params = def.params;
  if (def.query) schema.querystring = def.query;
  if (def.body) schema.body = def.body;
  if (def.response) schema.response = { [def.status]: def.response };
  const perMinute = opts.perMinute ?? def.perMinute;
  app.withTypeProvider<ZodTypeProvider>().route({
    method: def.method,
    url: def.path.slice('/api'.length),
    schema,
    ...(def.access === 'anyone' ? {} : { onRequest: requireRole(stores, def.access === 'signed-in' ? undefined : def.access) }),
    ...(perMinute ? { config: { rateLimit: { max: perMinute, timeWindow: 60_000 } } } : {}),
    handler: async (req, reply) => {
      const input = { params: req.params, query: req.query, body: req.body } as ParsedRequestOf<N>;
      const out = await handler(input, req, reply);
      reply.code(def.status);
      return def.status === 204 ? reply.send() : out;
    },
  });
}
