/**
 * Types engine throughput (issue 3): validations per second of typical
 * constrained types, and the time a catastrophic-backtracking pattern takes
 * against 100,000 characters (RE2 keeps it linear).
 */
import { compileType } from '@unified-bridge/types';
import { fmtUs, type BenchContext } from '../context.js';
import { measureBatched, measureSerial, toCase } from '../measure.js';

const GROUP = 'types';

function compiled(type: string, constraints: Record<string, unknown>) {
  const r = compileType(type, constraints);
  if (!r.ok) throw new Error(`compileType(${type}) failed: ${JSON.stringify(r.violations)}`);
  return r.compiled;
}

/** Runs the types cases. */
export async function runTypes(ctx: BenchContext): Promise<void> {
  const { batches, perBatch } = ctx.config;
  const embedding = new Float32Array(768).map((_, i) => Math.sin(i));
  const cases: [string, ReturnType<typeof compiled>, unknown][] = [
    ['types.validate.float_minmax', compiled('float', { min: 0, max: 1 }), 0.5],
    ['types.validate.string_pattern', compiled('string', { pattern: '^[A-Z][a-z]+(-[A-Z][a-z]+)*$' }), 'Jean-Luc'],
    ['types.validate.embedding_768', compiled('embedding', { dimensions: 768 }), embedding],
    [
      'types.validate.json_schema',
      compiled('json', {
        schema: {
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 1 },
            age: { type: 'integer', minimum: 0 },
            tags: { type: 'array', items: { type: 'string' }, maxItems: 10 },
          },
          required: ['name', 'age'],
          additionalProperties: false,
        },
      }),
      { name: 'Ada', age: 36, tags: ['math', 'engines'] },
    ],
  ];
  for (const [name, type, value] of cases) {
    const first = type.validate(value);
    if (!first.ok) throw new Error(`${name}: sample value is invalid: ${JSON.stringify(first)}`);
    let sink = 0;
    const m = await measureBatched(
      () => {
        if (type.validate(value).ok) sink++;
      },
      { batches, perBatch },
    );
    if (sink !== m.ops + perBatch) throw new Error(`${name}: a validation failed during the run`);
    const c = toCase(m, { name, group: GROUP, unit: 'ns' });
    ctx.record(c);
    ctx.progress(`${name}: ${fmtUs(c.median / 1e3)} per validation, ${c.opsPerSec?.toFixed(0)} validations/s`);
  }
  // (a+)+$ against 100,000 characters that almost match: exponential for a backtracking engine.
  const redos = compiled('string', { pattern: '(a+)+$' });
  const input = `${'a'.repeat(100_000)}!`;
  const verdict = redos.validate(input);
  const m = await measureSerial(() => redos.validate(input), { iterations: ctx.config.quick ? 5 : 20, warmup: 2 });
  const c = toCase(m, {
    name: 'types.redos.nested_quantifier_100k',
    group: GROUP,
    unit: 'ms',
    extra: { inputChars: input.length, matched: verdict.ok },
  });
  ctx.record(c);
  ctx.progress(`${c.name}: ${c.median.toFixed(2)} ms (matched: ${verdict.ok})`);
}
