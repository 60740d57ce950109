#!/usr/bin/env python3
"""Dev aid (not used at runtime): checks that the streaming trigger-onset state machine
implemented in Sources/Picking/TriggerOnset.swift reproduces ObsPy's `trigger_onset` exactly.

It holds a Python model of the Swift state machine (same states and decisions, one sample at a
time) and compares it with obspy.signal.trigger.trigger_onset on the ObsPy test vector and on
many random characteristic functions (random thresholds, max_len, max_len_delete), including
thres2 > thres1. Run with the dev venv:  /work/devvenv/bin/python scripts/dev/stalta_trigger_onset_model.py
"""
import numpy as np
from obspy.signal.trigger import trigger_onset

IDLE, PENDING, DELETING = 0, 1, 2


def streaming_model(cf, on, off, max_len=None, delete=False):
    state, p, last_off = IDLE, -1, -1
    prev1 = prev2 = False
    out = []
    for i, v in enumerate(cf):
        a1 = v >= on
        a2 = v >= off
        # 1) is i-1 the last sample of a run with cf >= off?
        if prev2 and not a2:
            o = i - 1
            if state == PENDING:
                if max_len is not None and o - p > max_len:
                    if delete:
                        last_off = o
                    else:
                        out.append((p, p + max_len)); last_off = p + max_len
                else:
                    out.append((p, o)); last_off = o
                state = IDLE
            elif state == DELETING:
                last_off = o; state = IDLE
        # 2) max_len exceeded while the run goes on: decided now
        if state == PENDING and max_len is not None and i > p + max_len:
            if delete:
                state = DELETING
            else:
                out.append((p, p + max_len)); last_off = p + max_len; state = IDLE
        # 3) is i the first sample of a run with cf >= on?
        if a1 and not prev1 and state == IDLE and i > last_off:
            state, p = PENDING, i
        prev1, prev2 = a1, a2
    n = len(cf)
    if prev2:
        o = n - 1
        if state == PENDING:
            if max_len is not None and o - p > max_len:
                if not delete:
                    out.append((p, p + max_len))
            else:
                out.append((p, o))
            state = IDLE
        elif state == DELETING:
            state = IDLE
    if state == PENDING:  # no off at/after p: ObsPy's len(cf) sentinel (or 1e99 when deleting)
        if delete and max_len is not None:
            pass
        elif max_len is not None and n - p > max_len:
            out.append((p, p + max_len))
        else:
            out.append((p, n))
    return out


def obspy_pairs(cf, on, off, max_len, delete):
    kw = {}
    if max_len is not None:
        kw["max_len"] = max_len
    r = trigger_onset(cf, on, off, max_len_delete=delete, **kw)
    return [tuple(int(v) for v in row) for row in r]


def main():
    cf = np.concatenate([np.sin(np.arange(0, 5 * np.pi, 0.1)) + k for k in (1, 2.1, 0.4, 1)])
    for delete in (False, True):
        ref = obspy_pairs(cf, 1.5, 1.0, 50, delete)
        got = streaming_model(cf, 1.5, 1.0, 50, delete)
        print("test vector delete=%s obspy=%s" % (delete, ref))
        assert ref == got, got
    rng = np.random.default_rng(20261129)
    checked = skipped = 0
    for trial in range(20000):
        n = int(rng.integers(1, 120))
        kind = trial % 3
        if kind == 0:
            x = rng.random(n) * 3
        elif kind == 1:
            x = np.round(rng.random(n) * 4) / 2  # many exact ties with the thresholds
        else:
            x = np.cumsum(rng.standard_normal(n)) * 0.3 + 1.5
        on = float(rng.choice([0.5, 1.0, 1.5, 2.0, 2.5]))
        off = float(rng.choice([0.5, 1.0, 1.5, 2.0, 2.5]))
        max_len = None if rng.random() < 0.3 else int(rng.integers(0, 30))
        delete = bool(rng.random() < 0.5)
        try:
            ref = obspy_pairs(x, on, off, max_len, delete)
        except (IndexError, OverflowError, ValueError):
            skipped += 1  # ObsPy itself fails (no sample >= off, or 1e99 sentinel as int64)
            continue
        got = streaming_model(x, on, off, max_len, delete)
        if ref != got:
            print("MISMATCH", list(x), on, off, max_len, delete, ref, got)
            raise SystemExit(1)
        checked += 1
    print("random cases identical: %d (ObsPy raised on %d)" % (checked, skipped))


if __name__ == "__main__":
    main()
