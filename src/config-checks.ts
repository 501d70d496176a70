/**
 * The vocabulary config validation is written in: a `Check<T>` turns a raw
 * value into a T or a problem ("must be ..."), and `checkFields` runs a table
 * of them over one object, collecting every problem with its field's name.
 */
const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** `8M`, `64K`, `1G`, `4096` (binary units, optional trailing B/iB) to bytes; null if malformed. */
export function parseSize(value: string | number): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  const match = /^\s*(\d+)\s*([KMG]?)(?:i?B)?\s*$/i.exec(value);
  if (!match) return null;
  const bytes = Number(match[1]) * SIZE_UNITS[match[2].toUpperCase()];
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** A field validator: returns the parsed value, or a problem ("must be ...") as { problem }. */
export type Check<T> = (value: unknown) => T | { problem: string };

export const shown = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value));
export const isProblem = (r: unknown): r is { problem: string } => typeof r === 'object' && r !== null && 'problem' in r;

export function integer(min: number, max: number): Check<number> {
  return (v) =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max
      ? (v as number)
      : { problem: `must be an integer from ${min} to ${max} (got ${shown(v)})` };
}

export function size(min: number, max: number): Check<number> {
  return (v) => {
    const bytes = typeof v === 'string' || typeof v === 'number' ? parseSize(v) : null;
    if (bytes === null) return { problem: `must be a size in bytes like 4096, 64K or 8M (got ${shown(v)})` };
    if (bytes < min || bytes > max) return { problem: `must be from ${min} to ${max} bytes (got ${bytes})` };
    return bytes;
  };
}

export const oneOf = <T extends string>(choices: readonly T[]): Check<T> => (v) =>
  choices.includes(v as T) ? (v as T) : { problem: `must be one of ${choices.join(', ')} (got ${shown(v)})` };

export function text(problemOf: (s: string) => string | null): Check<string> {
  return (v) => {
    if (typeof v !== 'string') return { problem: `must be a string (got ${shown(v)})` };
    const problem = problemOf(v);
    return problem ? { problem: `${problem} (got ${shown(v)})` } : v;
  };
}

export const fileMode: Check<number> = (v) => {
  if (typeof v === 'string' && /^(0o?)?[0-7]{1,4}$/.test(v)) v = parseInt(v.replace(/^0o?/, '') || '0', 8);
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0o777
    ? (v as number)
    : { problem: `must be a permission mode like 0600 or "0660" (got ${shown(v)})` };
};

/** uid_t / gid_t: 0 … 2^32 - 2 (2^32 - 1 is "no id"). */
export const ID_MAX = 0xfffffffe;
export const idList: Check<number[]> = (v) => {
  if (!Array.isArray(v)) return { problem: `must be an array of numeric ids like [1000, 1001] (got ${shown(v)})` };
  const bad = v.filter((id) => !Number.isSafeInteger(id) || id < 0 || id > ID_MAX);
  return bad.length === 0 ? [...new Set(v as number[])] : { problem: `must hold integers from 0 to ${ID_MAX} (got ${bad.map(shown).join(', ')})` };
};

export const powerOfTwo = (check: Check<number>): Check<number> => (v) => {
  const r = check(v);
  if (isProblem(r)) return r;
  return (r & (r - 1)) === 0 ? r : { problem: `must be a power of two (got ${r})` };
};


/** Checks each known field of `raw` against `table`; unknown keys are problems too. */
export function checkFields<T extends object>(
  raw: unknown,
  table: { [K in keyof T]: Check<T[K]> },
  where: string,
  nameOf: (key: string) => string,
  issues: string[],
): Partial<T> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    issues.push(`${where} must be an object (got ${Array.isArray(raw) ? 'an array' : shown(raw)})`);
    return {};
  }
  const out: Partial<T> = {};
  const unknown = Object.keys(raw).filter((key) => !Object.hasOwn(table, key));
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined || !Object.hasOwn(table, key)) continue;
    const r = (table as Record<string, Check<unknown>>)[key](value);
    // a nested block's problem starts with its field's path (`.ttl must ...`)
    if (isProblem(r)) issues.push(`${nameOf(key)}${r.problem.startsWith('.') ? '' : ' '}${r.problem}`);
    else (out as Record<string, unknown>)[key] = r;
  }
  if (unknown.length > 0) {
    const known = Object.keys(table).join(', ');
    issues.push(`${where} has unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map(shown).join(', ')} (known: ${known})`);
  }
  return out;
}

