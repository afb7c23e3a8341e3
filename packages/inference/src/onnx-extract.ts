import { InferenceError } from './errors.js';

/**
 * Cut a segment out of an ONNX model: the nodes that compute tensor `output` from tensor `input` (a layer
 * boundary or the graph input), with the initializers they read — as a model of its own whose input is
 * `input` and whose output is `output`. The referee of a bisection re-executes one layer this way, from the
 * very (sha256-checked) file the miner ran, so the segment's arithmetic is the model's own in every variant.
 *
 * Works at the protobuf wire level on the fields it needs (ModelProto.graph; GraphProto node, initializer,
 * input, output, value_info; NodeProto input/output; ValueInfoProto and TensorProto names) and copies every
 * other field byte for byte. Refuses a segment that reads any other graph input (it would not be separable).
 */

type Field = { no: number; wire: number; value: Uint8Array | bigint; raw: Uint8Array };

const utf8d = new TextDecoder();
const utf8e = new TextEncoder();

function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new InferenceError('ERR_VALIDATION', 'malformed ONNX protobuf: truncated varint');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

function parse(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    let value: Uint8Array | bigint;
    if (wire === 0) [value, pos] = readVarint(buf, pos);
    else if (wire === 1) {
      value = buf.subarray(pos, pos + 8);
      pos += 8;
    } else if (wire === 5) {
      value = buf.subarray(pos, pos + 4);
      pos += 4;
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      pos = p2;
      value = buf.subarray(pos, pos + Number(len));
      pos += Number(len);
    } else throw new InferenceError('ERR_VALIDATION', `malformed ONNX protobuf: wire type ${wire}`);
    if (pos > buf.length) throw new InferenceError('ERR_VALIDATION', 'malformed ONNX protobuf: field runs past the end');
    out.push({ no, wire, value, raw: buf.subarray(start, pos) });
  }
  return out;
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function lenField(no: number, body: Uint8Array): Uint8Array {
  const head = [...varint((no << 3) | 2), ...varint(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const bytesOf = (f: Field) => f.value as Uint8Array;
const strings = (fields: Field[], no: number) => fields.filter((f) => f.no === no && f.wire === 2).map((f) => utf8d.decode(bytesOf(f)));
const nameOf = (fields: Field[], no: number) => strings(fields, no)[0] ?? '';

/**
 * The ONNX model computing `output` from `input` alone.
 * @throws InferenceError `ERR_VALIDATION` if a name is unknown or the segment also reads another graph input.
 */
export function extractSegment(model: Uint8Array, opts: { input: string; output: string; name?: string }): Uint8Array {
  const top = parse(model);
  const graphField = top.find((f) => f.no === 7 && f.wire === 2);
  if (!graphField) throw new InferenceError('ERR_VALIDATION', 'not an ONNX model: no graph');
  const graph = parse(bytesOf(graphField));
  const nodes = graph.filter((f) => f.no === 1).map((f) => ({ f, sub: parse(bytesOf(f)) }));
  const valueInfos = graph.filter((f) => f.no === 11 || f.no === 12 || f.no === 13);
  const viOf = (name: string) => valueInfos.find((f) => nameOf(parse(bytesOf(f)), 1) === name);
  const inputVi = viOf(opts.input);
  const outputVi = viOf(opts.output);
  if (!inputVi) throw new InferenceError('ERR_VALIDATION', `segment input "${opts.input}" is not a typed tensor of the model (a graph input or a layer-boundary output)`);
  if (!outputVi) throw new InferenceError('ERR_VALIDATION', `segment output "${opts.output}" is not a typed tensor of the model`);
  const graphInputs = new Set(graph.filter((f) => f.no === 11).map((f) => nameOf(parse(bytesOf(f)), 1)));
  const initNames = new Map(graph.filter((f) => f.no === 5).map((f) => [nameOf(parse(bytesOf(f)), 8), f] as const));
  const needed = new Set([opts.output]);
  const keep = new Set<number>();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const outs = strings(nodes[i]!.sub, 2);
    if (!outs.some((o) => needed.has(o))) continue;
    keep.add(i);
    for (const inp of strings(nodes[i]!.sub, 1)) if (inp !== '' && inp !== opts.input) needed.add(inp);
  }
  for (const n of needed) {
    if (graphInputs.has(n) && !initNames.has(n)) {
      throw new InferenceError('ERR_VALIDATION', `the segment ${opts.input} → ${opts.output} also reads graph input "${n}": it is not separable at that boundary`);
    }
  }
  const parts: Uint8Array[] = [];
  for (const f of graph) {
    if (f.no === 1 || f.no === 5 || f.no === 11 || f.no === 12 || f.no === 13) continue;
    if (f.no === 2 && opts.name) parts.push(lenField(2, utf8e.encode(opts.name)));
    else parts.push(f.raw);
  }
  nodes.forEach((n, i) => keep.has(i) && parts.push(n.f.raw));
  for (const [name, f] of initNames) if (needed.has(name)) parts.push(f.raw);
  parts.push(lenField(11, bytesOf(inputVi)), lenField(12, bytesOf(outputVi)));
  const newGraph = concat(parts);
  return concat(top.map((f) => (f === graphField ? lenField(7, newGraph) : f.raw)));
}
