// Summarises a V8 .cpuprofile (from node --cpu-prof): where the server's CPU time went, by self time and
// by inclusive time in Custos's own code (dist/), so a slow path can be named without opening DevTools.

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function keyOf(f: CallFrame): string {
  const url = f.url.replace(/^file:\/\//, '');
  const file = url.includes('/node_modules/') ? url.replace(/^.*\/node_modules\//, 'node_modules/') : url.replace(/^.*\/(dist|src)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
}

export function summarizeProfile(profile: CpuProfile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i+1] is the time until the next sample, i.e. how long sample i was running.
    const us = profile.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(profile.samples[i]!);
    if (!leaf) continue;
    total += us;
    if (leaf.callFrame.functionName === '(idle)') idle += us;
    const leafKey = keyOf(leaf.callFrame);
    self.set(leafKey, (self.get(leafKey) ?? 0) + us);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const k = keyOf(byId.get(id)!.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const busy = total - idle;
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const lines = [`sampled ${(total / 1e6).toFixed(1)} s; idle ${(idle / 1e6).toFixed(1)} s; percentages are of busy time (${(busy / 1e6).toFixed(1)} s)`, '', `top ${top} by self time:`];
  for (const [k, us] of [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${k}`);
  lines.push('', `top ${top} Custos functions (dist/) by inclusive time:`);
  for (const [k, us] of [...inclusive].filter(([k]) => / dist\//.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${k}`);
  lines.push('', `top ${top} library functions (node_modules/) by inclusive time:`);
  for (const [k, us] of [...inclusive].filter(([k]) => / node_modules\//.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${k}`);
  return lines.join('\n');
}
