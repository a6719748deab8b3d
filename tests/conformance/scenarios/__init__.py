# The scenario registry.  Each scenario is a function f(d) written once
# against the driver interface (driver.py) and run under both drivers.
#
#   @scenario('tcp.connect.refused', ref='§2.2 C',
#             rules={...},              # normalisation, see trace.DEFAULT_RULES
#             differs=None,             # or the reason qsock deliberately differs
#             expect_qsock=None,        # with differs: the expected qsock trace,
#                                       # a list of lines or a function of Qt's lines
#             timeout=30)
#   def _(d):
#       ...
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import importlib
import pkgutil

SCENARIOS = {}


class Scenario:
    def __init__(self, name, fn, ref, rules, differs, expect_qsock, timeout, module):
        self.name = name
        self.fn = fn
        self.ref = ref
        self.rules = rules or {}
        self.differs = differs
        self.expect_qsock = expect_qsock
        self.timeout = timeout
        self.module = module


def scenario(name, ref='', rules=None, differs=None, expect_qsock=None, timeout=30):
    def deco(fn):
        if name in SCENARIOS:
            raise ValueError('duplicate scenario ' + name)
        if differs and expect_qsock is None:
            raise ValueError(name + ': differs needs expect_qsock')
        SCENARIOS[name] = Scenario(name, fn, ref, rules, differs, expect_qsock, timeout,
                                   fn.__module__)
        return fn
    return deco


def load_all():
    for m in pkgutil.iter_modules(__path__):
        importlib.import_module(__name__ + '.' + m.name)
    return SCENARIOS
