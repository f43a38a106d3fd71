import { Dbl, javaDouble } from '../fourlw';

/**
 * JSON as ZooKeeper's AdminServer writes it (Jackson's default pretty printer): objects one field
 * per line indented by two spaces with `"key" : value`, arrays on one line (`[ 1, 2 ]`, `[ ]`),
 * empty objects `{ }`. bigint values (session ids, zxids) print as exact integers, `Dbl` as Java
 * doubles (`0.0`), so clients that parse ZooKeeper's output parse ours.
 */
export type JsonValue = null | boolean | number | bigint | string | Dbl | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

function scalar(v: Exclude<JsonValue, JsonValue[] | JsonObject>): string {
  if (v === null) return 'null';
  if (v instanceof Dbl) return Number.isFinite(v.v) ? javaDouble(v.v) : '"NaN"';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  return JSON.stringify(v);
}

function render(v: JsonValue, indent: string): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return '[ ]';
    return `[ ${v.map((x) => render(x, indent)).join(', ')} ]`;
  }
  if (v !== null && typeof v === 'object' && !(v instanceof Dbl)) {
    const keys = Object.keys(v);
    if (keys.length === 0) return '{ }';
    const inner = indent + '  ';
    return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)} : ${render(v[k]!, inner)}`).join(',\n')}\n${indent}}`;
  }
  return scalar(v);
}

export function jacksonJson(v: JsonValue): string {
  return render(v, '');
}
