#!/usr/bin/env python3
"""Extracts what Berth validates ECR requests against from botocore's ECR service model: for each operation its
input shape, and every shape reachable from the inputs with its type and constraints (required members, min,
max, pattern, enum). Writes src/ecr/model.json. Run again when botocore's model changes:
    python3 scripts/ecr-model.py
botocore comes from Debian's python3-botocore or pip."""
import gzip, json, os, sys

import botocore

base = os.path.join(os.path.dirname(botocore.__file__), 'data', 'ecr', '2015-09-21')
path = os.path.join(base, 'service-2.json')
model = json.load(gzip.open(path + '.gz') if os.path.exists(path + '.gz') else open(path))
shapes = model['shapes']

out_shapes = {}

def visit(name):
    if name in out_shapes:
        return
    s = shapes[name]
    entry = {'type': s['type']}
    for k in ('min', 'max', 'pattern', 'enum', 'required'):
        if k in s:
            entry[k] = s[k]
    out_shapes[name] = entry
    if s['type'] == 'structure':
        entry['members'] = {m: v['shape'] for m, v in s.get('members', {}).items()}
        for v in s.get('members', {}).values():
            visit(v['shape'])
    elif s['type'] == 'list':
        entry['member'] = s['member']['shape']
        visit(s['member']['shape'])
    elif s['type'] == 'map':
        entry['key'] = s['key']['shape']
        entry['value'] = s['value']['shape']
        visit(s['key']['shape'])
        visit(s['value']['shape'])

operations = {}
for op, o in sorted(model['operations'].items()):
    inp = o.get('input', {}).get('shape')
    operations[op] = {'input': inp, 'errors': [e['shape'] for e in o.get('errors', [])]}
    if inp:
        visit(inp)

result = {
    'source': f"botocore {botocore.__version__} ecr 2015-09-21",
    'targetPrefix': model['metadata']['targetPrefix'],
    'operations': operations,
    'shapes': dict(sorted(out_shapes.items())),
}
dest = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'ecr', 'model.json')
with open(dest, 'w') as f:
    json.dump(result, f, indent=1, sort_keys=False)
    f.write('\n')
print(f"wrote {dest}: {len(operations)} operations, {len(out_shapes)} shapes ({result['source']})")
