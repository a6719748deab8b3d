# Trace recording (in the child processes) and trace normalisation and
# comparison (in the runner).
#
# A child writes one JSON object per line, flushed at once, so a crash still
# leaves everything recorded up to the crash:
#   {"k": "call", "id": 3, "text": "c.write(b'abc')"}        a driver call begins
#   {"k": "ret", "id": 3, "text": "3"}                         ... and returns
#   {"k": "sig", "tag": "c", "name": "state-changed", "args": ["1"],
#    "state": "1", "mark": "sync"}                             a signal
#   {"k": "note", "text": "peer got = b'abc'"}                 a value the scenario records
#   {"k": "run", "text": "run_until connected -> True"}        the loop was run
#   {"k": "exc", "text": "..."}                                an exception in the scenario
#   {"k": "end"} / {"k": "teardown"}                           the scenario / teardown finished
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import hashlib
import json
import re


class Recorder:
    """Writes events as JSON lines; formats values with aliases applied."""

    def __init__(self, path):
        self.f = open(path, 'w', encoding='utf-8')
        self.next_id = 0
        self.int_aliases = {}
        self.str_aliases = []
        self.enabled = True

    def alias(self, value, name):
        """Show `value` as `<name>` in the trace (ports, paths, names that
        differ between runs)."""
        if isinstance(value, int) and not isinstance(value, bool):
            self.int_aliases[value] = '<%s>' % name
        else:
            self.str_aliases.append((str(value), '<%s>' % name))
            # longest first, so a path is replaced before its prefix
            self.str_aliases.sort(key=lambda p: -len(p[0]))
        return value

    def _write(self, ev):
        if not self.enabled:
            return
        self.f.write(json.dumps(ev) + '\n')
        self.f.flush()

    def fmt(self, v):
        if v is None:
            return 'None'
        if isinstance(v, bool):
            return 'True' if v else 'False'
        if isinstance(v, int):
            return self.int_aliases.get(v, str(v))
        if isinstance(v, (bytes, bytearray)):
            v = bytes(v)
            if len(v) <= 48:
                return repr(v)
            return '<%d bytes sha1:%s>' % (len(v), hashlib.sha1(v).hexdigest()[:10])
        if isinstance(v, str):
            for s, name in self.str_aliases:
                if s:
                    v = v.replace(s, name)
            return repr(v)
        if isinstance(v, tuple):
            return '(' + ', '.join(self.fmt(x) for x in v) + (',)' if len(v) == 1 else ')')
        if isinstance(v, list):
            return '[' + ', '.join(self.fmt(x) for x in v) + ']'
        if isinstance(v, dict):
            return '{' + ', '.join('%s: %s' % (k, self.fmt(v[k])) for k in sorted(v)) + '}'
        tag = getattr(v, '_trace_tag', None)
        if tag is not None:
            return tag
        return '<%s>' % type(v).__name__

    def call(self, text):
        self.next_id += 1
        self._write({'k': 'call', 'id': self.next_id, 'text': text})
        return self.next_id

    def ret(self, cid, value_text):
        self._write({'k': 'ret', 'id': cid, 'text': value_text})

    def sig(self, tag, name, args, state, mark):
        self._write({'k': 'sig', 'tag': tag, 'name': name,
                     'args': [self.fmt(a) for a in args],
                     'state': None if state is None else self.fmt(state), 'mark': mark})

    def note(self, text):
        self._write({'k': 'note', 'text': text})

    def run(self, text):
        self._write({'k': 'run', 'text': text})

    def exc(self, text):
        self._write({'k': 'exc', 'text': text})

    def end(self, kind='end'):
        self._write({'k': kind})


# ---------------------------------------------------------------------------
# Reading and normalising (runner side)

def load(path):
    """Events from a trace file, with each call's return merged into it."""
    events = []
    calls = {}
    try:
        with open(path, encoding='utf-8') as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash
                if ev['k'] == 'ret':
                    c = calls.get(ev['id'])
                    if c is not None:
                        c['ret'] = ev['text']
                    continue
                if ev['k'] == 'call':
                    calls[ev['id']] = ev
                events.append(ev)
    except FileNotFoundError:
        pass
    return events


DEFAULT_RULES = {
    # Signals of different objects between two anchors (calls, notes, loop
    # runs) may interleave differently: compare each object's own order.
    'interleave': True,
    # How many ready-read one burst of data gives is timing: consecutive
    # ready-read of one object (same mark and state) count as one.
    'ready_read': 'collapse',        # or 'exact'
    # How bytes-written is split is timing: consecutive bytes-written of one
    # object are summed.
    'bytes_written': 'sum',          # or 'exact'
    # Regular expressions; matching lines are dropped from both traces.
    'drop': (),
}


def _sig_line(ev):
    st = '' if ev.get('state') is None else ' [state=%s]' % ev['state']
    return '%s %s.%s(%s)%s' % (ev['mark'], ev['tag'], ev['name'], ', '.join(ev['args']), st)


def _line(ev):
    k = ev['k']
    if k == 'call':
        return 'call %s -> %s' % (ev['text'], ev.get('ret', '<did not return>'))
    if k == 'sig':
        return _sig_line(ev)
    if k == 'note':
        return 'note ' + ev['text']
    if k == 'run':
        return ev['text']
    if k == 'exc':
        return 'exception ' + ev['text']
    if k in ('end', 'teardown'):
        return k
    return repr(ev)


def _norm_segment(seg, rules):
    if rules['interleave']:
        seg = sorted(seg, key=lambda e: e['tag'])   # stable: keeps each object's order
    out = []
    for ev in seg:
        prev = out[-1] if out else None
        same = prev is not None and prev['tag'] == ev['tag'] and prev['name'] == ev['name']
        if same and ev['name'] == 'ready-read' and rules['ready_read'] == 'collapse' \
                and prev['mark'] == ev['mark'] and prev.get('state') == ev.get('state'):
            continue
        if same and ev['name'] == 'bytes-written' and rules['bytes_written'] == 'sum':
            try:
                total = int(prev['args'][0]) + int(ev['args'][0])
                out[-1] = dict(prev, args=[str(total)])
                continue
            except ValueError:
                pass
        out.append(ev)
    return out


def normalise(events, rules):
    """The comparable lines of a trace under a scenario's rules."""
    r = dict(DEFAULT_RULES)
    r.update(rules or {})
    drops = [re.compile(p) for p in r['drop']]
    lines = []
    seg = []

    def flush():
        for e in _norm_segment(seg, r):
            lines.append(_line(e))
        seg.clear()

    for ev in events:
        if ev['k'] == 'sig':
            seg.append(ev)
        else:
            flush()
            lines.append(_line(ev))
    flush()
    lines = [l for l in lines if not any(p.search(l) for p in drops)]
    if callable(r.get('custom')):
        lines = r['custom'](lines)
    return lines


def side_by_side(left, right, lt='Qt (expected)', rt='qsock', width=None):
    """Two traces next to each other, marking the lines that differ ('!');
    differing lines too long for a column are repeated in full below."""
    import difflib
    if width is None:
        width = min(100, max([len(lt)] + [len(l) for l in left]))
    out = ['    %-*s | %s' % (width, lt, rt), '    ' + '-' * width + '-+-' + '-' * width]
    sm = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == 'equal':
            for a, b in zip(left[i1:i2], right[j1:j2]):
                out.append('    %-*s | %s' % (width, _cut(a, width), _cut(b, width)))
        else:
            la, lb = left[i1:i2], right[j1:j2]
            for n in range(max(len(la), len(lb))):
                a = la[n] if n < len(la) else ''
                b = lb[n] if n < len(lb) else ''
                out.append('  ! %-*s | %s' % (width, _cut(a, width), _cut(b, width)))
                if len(a) > width or len(b) > width:
                    out.append('      %s: %s' % (lt.split()[0], a))
                    out.append('      %s: %s' % (rt.split()[0], b))
    return '\n'.join(out)


def _cut(s, w):
    return s if len(s) <= w else s[:w - 1] + '~'
