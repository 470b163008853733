"""A 30-second tour of lrsched: build, evaluate, compose, save."""

import numpy as np

import lrsched as ls

# 1,000 updates of linear warmup to 0.1, then cosine down to 1e-5 over 9,000 updates
s = ls.warmup(ls.cosine(0.1, 1e-5, steps=9_000), steps=1_000)
print("schedule:        ", s)
print("s(1), s(1000):   ", s(1), s(1_000))
print("s.values(10_000):", s.values(10_000)[[0, 999, 1000, 9999]])

# compose: hold 0.1 for 2,000 updates, then decay linearly to 0 over 500
s2 = ls.join([ls.constant(0.1), ls.linear(0.1, 0.0, 500)], boundaries=[2_000])
s3 = 0.5 * s + ls.constant(1e-4)
print("s2(2000), s2(2001):", s2(2_000), s2(2_001))
print("s3:", s3)

# restarts: SGDR with doubling periods and decaying peaks
sgdr = ls.cycle(ls.cosine(0.1, 0.0, steps=1_000), period=1_000, period_mult=2, decay=0.5)
print("sgdr peaks:", sgdr(np.array([1, 1_001, 3_001])))

# a schedule is a value: compare, hash, pickle, save as JSON and load back
text = s.to_json()
assert ls.from_json(text) == s and eval(repr(s), vars(ls)) == s
print("json:", text)
