/** Operations endpoints. */
import { Type } from '@sinclair/typebox';

export const Health = Type.Object(
  {
    status: Type.Literal('ok'),
    version: Type.String(),
    backend: Type.Object({ name: Type.String(), requested: Type.String(), native: Type.Boolean(), threads: Type.Integer(), fixes: Type.Array(Type.String()) }),
    uptime_s: Type.Number(),
    queue: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  },
  { $id: 'Health' },
);
export const Ready = Type.Object(
  { ready: Type.Boolean(), checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) })) },
  { $id: 'Ready' },
);
