#!/usr/bin/env python3
"""Summarise ``py-spy record -f raw`` output: top self and inclusive frames, per thread.

    pyspy_top.py OUT.txt [--top 25] [--match ironic_lite]
"""
import argparse
import collections

ap = argparse.ArgumentParser()
ap.add_argument('path')
ap.add_argument('--top', type=int, default=25)
ap.add_argument('--match', default='')
a = ap.parse_args()
self_c, incl, threads = collections.Counter(), collections.Counter(), collections.Counter()
total = 0
with open(a.path) as f:
    for line in f:
        stack, _, n = line.rstrip('\n').rpartition(' ')
        if not stack:
            continue
        n = int(n)
        frames = stack.split(';')
        total += n
        threads[frames[0].split(' ')[0] if frames[0].startswith(('thread', 'process')) else
                frames[0][:60]] += n
        frames = [fr for fr in frames if not fr.startswith(('thread ', 'process '))]
        if frames:
            self_c[frames[-1]] += n
        for fr in set(frames):
            if a.match in fr:
                incl[fr] += n
print(f'{total} samples')
print('-- threads')
for k, v in threads.most_common(10):
    print(f'{100 * v / total:5.1f}%  {k}')
print('-- self')
for k, v in self_c.most_common(a.top):
    print(f'{100 * v / total:5.1f}%  {k[:150]}')
print('-- inclusive' + (f' (matching {a.match})' if a.match else ''))
for k, v in incl.most_common(a.top):
    print(f'{100 * v / total:5.1f}%  {k[:150]}')
