// Kubernetes resource quantities ("1Gi", "1500Mi", "2.5G", "1e3") compared exactly, as BigInt
// thousandths, so 1Gi vs 1073741824 vs 1024Mi compare equal without float rounding.

const BINARY: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};
const DECIMAL: Record<string, bigint> = {
  '': 1n,
  k: 10n ** 3n,
  M: 10n ** 6n,
  G: 10n ** 9n,
  T: 10n ** 12n,
  P: 10n ** 15n,
  E: 10n ** 18n,
};

const PATTERN = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** The quantity in thousandths of a unit (so "100m" is representable), or undefined if invalid. */
export function parseQuantityMilli(text: string): bigint | undefined {
  const m = PATTERN.exec(text.trim());
  if (!m) return undefined;
  const [, sign, number = '', suffix, exponent] = m;
  const [whole = '0', frac = ''] = number.split('.');
  // Value = digits / 10^frac.length, scaled by 1000 for milli-units.
  let numerator = BigInt((whole || '0') + frac) * 1000n;
  let denominator = 10n ** BigInt(frac.length);
  if (suffix === 'm') denominator *= 1000n;
  else if (suffix && suffix in BINARY) numerator *= BINARY[suffix] ?? 1n;
  else if (suffix) numerator *= DECIMAL[suffix] ?? 1n;
  if (exponent !== undefined) {
    const e = BigInt(exponent);
    if (e >= 0n) numerator *= 10n ** e;
    else denominator *= 10n ** -e;
  }
  // Round up: a size is a lower bound on what the user asked for.
  const value = (numerator + denominator - 1n) / denominator;
  return sign === '-' ? -value : value;
}

export function isValidQuantity(text: string): boolean {
  return parseQuantityMilli(text) !== undefined;
}

/** Bytes (rounded up) of a storage quantity; throws on invalid input. */
export function quantityToBytes(text: string): bigint {
  const milli = parseQuantityMilli(text);
  if (milli === undefined) throw new Error(`invalid quantity ${JSON.stringify(text)}`);
  return (milli + 999n) / 1000n;
}

/** -1, 0 or 1 like a comparator; throws on invalid input. */
export function compareQuantities(a: string, b: string): number {
  const x = parseQuantityMilli(a);
  const y = parseQuantityMilli(b);
  if (x === undefined) throw new Error(`invalid quantity ${JSON.stringify(a)}`);
  if (y === undefined) throw new Error(`invalid quantity ${JSON.stringify(b)}`);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Human-readable bytes for progress lines (binary units, one decimal). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
