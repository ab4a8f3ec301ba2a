// Generates the benchmark inputs: a source-like corpus with planted secrets of every rule
// (ground truth recorded by file and line range) and decoys (each rule's false-positive examples,
// hashes, UUIDs, lockfile integrity strings) that a noisy scanner would flag.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RULES } from '../../src/scanner/rules/rules.js';
import { ALNUM, B64, HEX, randomString, seeded } from '../../src/scanner/rules/fake.js';
import { createEngine } from '../../src/scanner/engine.js';

export interface Plant {
  file: string;
  /** 1-based first and last line of the planted block. */
  start: number;
  end: number;
  ruleId: string;
}

const IDENT = ['user', 'order', 'token', 'session', 'config', 'client', 'request', 'response', 'model', 'dataset', 'agent',
  'password', 'key', 'secret', 'cache', 'buffer', 'handler', 'router', 'service', 'repo', 'item', 'value', 'result', 'auth'];

function poolLines(rnd: () => number): string[] {
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)]!;
  const id = () => pick(IDENT) + pick(['', 'Id', 'Name', 'Count', 'Map', 'List', 'Key', 'Token', 'Secret', 'Hash']);
  const lines: string[] = [];
  for (let i = 0; i < 20000; i++) {
    const k = Math.floor(rnd() * 22);
    switch (k) {
      case 0: lines.push(`import { ${id()}, ${id()} } from './${pick(IDENT)}/${pick(IDENT)}.js';`); break;
      case 1: lines.push(`export function ${id()}(${id()}: string, ${id()}: number): Promise<${pick(['void', 'string', 'Result'])}> {`); break;
      case 2: lines.push(`  const ${id()} = await this.${id()}.get(${id()});`); break;
      case 3: lines.push(`  // ${pick(['TODO', 'NOTE', 'why:'])} the ${pick(IDENT)} ${pick(['must be rotated', 'is cached for 5 minutes', 'comes from the vault', 'is never logged'])}`); break;
      case 4: lines.push(`  if (!${id()}) throw new Error('missing ${pick(IDENT)} ${pick(IDENT)}');`); break;
      case 5: lines.push(`    "integrity": "sha512-${randomString(B64, 86, rnd)}==",`); break;
      case 6: lines.push(`  commit: '${randomString(HEX, 40, rnd)}', // pinned`); break;
      case 7: lines.push(`  const requestId = '${randomString(HEX, 8, rnd)}-${randomString(HEX, 4, rnd)}-${randomString(HEX, 4, rnd)}-${randomString(HEX, 4, rnd)}-${randomString(HEX, 12, rnd)}';`); break;
      case 8: lines.push(`  password: process.env.${pick(IDENT).toUpperCase()}_PASSWORD ?? '',`); break;
      case 9: lines.push(`  const token = req.headers.authorization?.slice(7);`); break;
      case 10: lines.push(`  api_key: config.get("${pick(IDENT)}.api_key"),`); break;
      case 11: lines.push(`  secret_name = "${pick(IDENT)}-${pick(IDENT)}-credentials"`); break;
      case 12: lines.push(`    return ${id()}.map((x) => x.${id()} * ${Math.floor(rnd() * 1000)});`); break;
      case 13: lines.push(`  }`); break;
      case 14: lines.push(''); break;
      case 15: lines.push(`  sha256: "${randomString(HEX, 64, rnd)}"`); break;
      case 16: lines.push(`  image: registry.example.com/${pick(IDENT)}@sha256:${randomString(HEX, 64, rnd)}`); break;
      case 17: lines.push(`  const ${id()} = Buffer.from('${randomString(B64, 40, rnd)}', 'base64');`); break;
      case 18: lines.push(`  logger.info({ ${id()}, ${id()} }, '${pick(IDENT)} ${pick(['created', 'updated', 'revoked'])}');`); break;
      case 19: lines.push(`  url: "https://api.${pick(IDENT)}.example.com/v1/${pick(IDENT)}s?page=${Math.floor(rnd() * 50)}",`); break;
      case 20: lines.push(`  const ${id()}Key = \`\${prefix}:${pick(IDENT)}:\${${id()}}\`;`); break;
      default: lines.push(`  ${id()}.${id()} = ${id()} ?? ${JSON.stringify(randomString(ALNUM, 8, rnd))};`);
    }
  }
  return lines;
}

export interface CorpusSpec {
  dir: string;
  totalBytes: number;
  fileBytes: number;
  plantsPerRule: number;
  decoysPerRule: number;
  seed: number;
}

/** Writes the corpus and returns the ground truth. Plants are each rule's true-positive examples. */
export function generateCorpus(spec: CorpusSpec): { plants: Plant[]; decoys: number; bytes: number; files: number } {
  const rnd = seeded(spec.seed);
  const engine = createEngine({ rules: RULES });
  const pool = poolLines(rnd);
  const nFiles = Math.ceil(spec.totalBytes / spec.fileBytes);
  const exts = ['ts', 'py', 'go', 'yaml', 'json', 'env', 'tf', 'js', 'md'];
  type Insert = { block: string; ruleId?: string };
  const inserts = new Map<number, Insert[]>();
  const nameOf = (f: number) => `pkg${Math.floor(f / 100)}/mod${f}.${exts[f % exts.length]}`;
  const add = (ins: Insert, pathPattern?: RegExp) => {
    let f = Math.floor(rnd() * nFiles);
    // Content-aware rules only run on their kind of file: plant them in one.
    for (let i = 0; pathPattern && !pathPattern.test(nameOf(f)) && i < exts.length; i++) f = (f + 1) % nFiles;
    inserts.set(f, [...(inserts.get(f) ?? []), ins]);
  };
  let decoyCount = 0;
  for (const r of RULES) {
    for (let i = 0; i < spec.plantsPerRule; i++) add({ block: r.examples.truePositives[i % r.examples.truePositives.length]!, ruleId: r.id }, r.pathPattern);
    // A rule's false-positive example can be another rule's true positive (a JWT that is not a
    // Kubernetes token is still a JWT); only examples that are no secret at all become decoys.
    const decoys = r.examples.falsePositives.filter((t) => engine.scanText(t).length === 0);
    for (let i = 0; i < spec.decoysPerRule && decoys.length > 0; i++, decoyCount++) add({ block: decoys[i % decoys.length]! });
  }
  const plants: Plant[] = [];
  let bytes = 0;
  for (let f = 0; f < nFiles; f++) {
    const name = nameOf(f);
    mkdirSync(path.join(spec.dir, path.dirname(name)), { recursive: true });
    const out: string[] = [];
    let size = 0;
    const pending = [...(inserts.get(f) ?? [])];
    const every = Math.max(1, Math.floor(spec.fileBytes / 45 / (pending.length + 1)));
    while (size < spec.fileBytes || pending.length > 0) {
      if (pending.length > 0 && out.length % every === every - 1) {
        const ins = pending.shift()!;
        const start = out.length + 1;
        const blockLines = ins.block.split('\n');
        out.push(...blockLines);
        if (ins.ruleId) plants.push({ file: name, start, end: start + blockLines.length - 1, ruleId: ins.ruleId });
        size += ins.block.length + 1;
        continue;
      }
      const line = pool[Math.floor(rnd() * pool.length)]!;
      out.push(line);
      size += line.length + 1;
    }
    const text = out.join('\n') + '\n';
    writeFileSync(path.join(spec.dir, name), text);
    bytes += Buffer.byteLength(text);
  }
  return { plants, decoys: decoyCount, bytes, files: nFiles };
}
