#!/usr/bin/env python3
"""Import circles between the modules of a crate (issue 22: "no import
circle left in xtask").

Usage: .ci/import-circles.py xtask/src [-v]   (-v: every module's imports)

Every path in code (comments and literals blanked out) that starts with
`crate::`, `super::`, `self::` or a child module's name is resolved to the
module it names; then Tarjan's strongly connected components. A module
declaration (`mod x;`) is ownership, not an import; inside an inline
`mod tests`, `super::` is the file's own module. Exits 1 when there is a
circle, naming its modules."""
import os, re, sys
src = sys.argv[1]
mods = {}  # module path -> file
for dirpath, _, files in os.walk(src):
    for f in files:
        if not f.endswith('.rs'): continue
        rel = os.path.relpath(os.path.join(dirpath, f), src)[:-3].split('/')
        if rel in (['lib'], ['main']):
            path = ('crate',) if rel == ['lib'] else ('main',)
        else:
            if rel[-1] == 'mod': rel = rel[:-1]
            path = ('crate',) + tuple(rel)
        mods[path] = os.path.join(dirpath, f)
def strip(text):
    """The code of a Rust file, its comments and literals blanked out."""
    out = []; i = 0; n = len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i); i = n if j < 0 else j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2); i = n if j < 0 else j + 2
        elif c == 'r' and (i == 0 or not (text[i-1].isalnum() or text[i-1] == '_')) \
                and re.match(r'r#*"', text[i:]):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            j = text.find('"' + hashes, i + 2 + len(hashes)); i = n if j < 0 else j + 1 + len(hashes)
            out.append('""')
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == '\\' else 1
            i = j + 1; out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^'\\])'", text[i:i+4] + ' '):
            m = re.match(r"'(\\[^']*|[^'\\])'", text[i:])
            i += len(m.group(0)) if m else 1; out.append("' '")
        else:
            out.append(c); i += 1
    return ''.join(out)
def expand_use(body):
    """`a::{b, c::{d as e}}` -> ['a::b', 'a::c::d']"""
    body = re.sub(r'\s+as\s+\w+', '', body)
    body = re.sub(r'\s+', '', body)
    def split(s):
        items, depth, cur = [], 0, ''
        for ch in s:
            depth += (ch == '{') - (ch == '}')
            if ch == ',' and depth == 0:
                items.append(cur); cur = ''
            else:
                cur += ch
        return items + ([cur] if cur else [])
    def rec(prefix, s):
        out = []
        for it in split(s):
            m = re.match(r'^(.*?)::\{(.*)\}$', it)
            if m:
                out += rec(prefix + m.group(1) + '::', m.group(2))
            elif it.startswith('{') and it.endswith('}'):
                out += rec(prefix, it[1:-1])
            else:
                out.append(prefix + it)
        return out
    return rec('', body)
edges = {m: set() for m in mods}
for mod, path in mods.items():
    text = strip(open(path).read())
    # Inside an inline `mod tests { … }` (at a file's end), `super::` is
    # the file's module itself.
    at = text.find('mod tests {')
    if at >= 0:
        text = text[:at] + text[at:].replace('super::', 'self::')
    paths = []
    for m in re.finditer(r'\buse\s+([^;]+);', text):
        paths += expand_use(m.group(1))
    paths += re.findall(r'\b((?:crate|super|self)(?:::\w+)+)', text)
    # Paths that start at a child module (`vm::Machine`, `use cleanup::X`).
    for m in re.finditer(r'(?<![:\w])(\w+)::', text):
        if mod + (m.group(1),) in mods:
            paths.append('self::' + m.group(1))
    for p in paths:
        parts = [x for x in p.split('::') if x]
        if not parts or parts[0] not in ('crate', 'super', 'self'): continue
        if mod == ('main',):
            continue
        if parts[0] == 'crate': base = ('crate',); rest = parts[1:]
        else:
            base = mod
            while parts and parts[0] in ('super', 'self'):
                if parts[0] == 'super': base = base[:-1]
                parts = parts[1:]
            rest = parts
        target = base
        for name in rest:
            if target + (name,) in mods: target = target + (name,)
            else: break
        # A child naming its ancestor's items is an edge to that ancestor;
        # an ancestor naming its child's, one the other way: both count.
        if target != mod:
            edges[mod].add(target)
index = {}; low = {}; stack = []; on = set(); sccs = []; n = [0]
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index: visit(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        sccs.append(comp)
for v in mods:
    if v not in index: visit(v)
name = lambda m: '::'.join(m)
circles = [c for c in sccs if len(c) > 1]
if '-v' in sys.argv:
    for m in sorted(edges):
        print(name(m), '->', ', '.join(sorted(name(t) for t in edges[m])))
for c in circles:
    print('circle:', ' <-> '.join(sorted(name(m) for m in c)))
print(f'{len(mods)} modules, {sum(map(len, edges.values()))} import edges, {len(circles)} circle(s)')
sys.exit(1 if circles else 0)
