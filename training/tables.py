"""The tables the training shares with the C++ engine, read from their one source:
include/cephtrace/tables.def, an X-macro list that the engine compiles in (landmark
vocabularies and prior widths, zones, the Stage 2 grid). Reading it here, rather than
generating it from a data file at build time, keeps the training runnable without a build
(the GPU machine gets the bare repository) and the engine free of a generator."""
import os
import re

DEF_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "include", "cephtrace", "tables.def")
_ENTRY = re.compile(r"(CEPHTRACE_[A-Z_]+)\((.*)\)")


def _literal(text):
    text = text.strip()
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text  # an identifier (a landmark, tier or zone name, a C++ type)


def read(path=DEF_FILE):
    """{macro name: [argument list per entry, in file order]} of a tables.def file."""
    entries = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.split("//")[0].strip()
            if not line.startswith("CEPHTRACE_"):
                continue  # blank, comment or preprocessor line
            m = _ENTRY.fullmatch(line)
            if m is None:
                raise ValueError("%s:%d: not a one-line table entry: %s" % (path, number, line))
            entries.setdefault(m.group(1), []).append([_literal(a) for a in m.group(2).split(",")])
    return entries


_T = read()

CANONICAL_25 = [name for name, _, _ in _T["CEPHTRACE_LANDMARK"]]
SIGMA = {name: sigma for name, sigma, _ in _T["CEPHTRACE_LANDMARK"]}  # prior σ, px of the 256² map
ANCHORS_7 = [name for name, in _T["CEPHTRACE_ANCHOR"]]
DERIVED_18 = [name for name, in _T["CEPHTRACE_DERIVED"]]
# The extended model's landmarks after CANONICAL_25, with their CL-Detection 2023 numbers
EXTENDED_14 = [name for name, _ in _T["CEPHTRACE_EXTENDED"]]
EXTENDED_CL_NUMBER = {name: number for name, number in _T["CEPHTRACE_EXTENDED"]}
# z1..z5: fallback boxes (x1, y1, x2, y2) on the 512² image and CLAHE (clip limit, tile grid)
FALLBACK_ZONES = [tuple(row[1:5]) for row in _T["CEPHTRACE_ZONE"]]
ZONE_CLAHE = {row[0]: (row[5], row[6]) for row in _T["CEPHTRACE_ZONE"]}
ZONE_CLASSES = {row[0]: row[1:] for row in _T["CEPHTRACE_ZONE_CLASSES"]}  # z1..z4
CONSTANTS = {name: value for _, name, value in _T["CEPHTRACE_CONSTANT"]}

if (len(CANONICAL_25), len(ANCHORS_7), len(DERIVED_18)) != (25, 7, 18) or \
        sorted(ANCHORS_7 + DERIVED_18) != sorted(CANONICAL_25):
    raise ValueError("%s: the landmark tables do not make 25 = 7 anchors + 18 derived" % DEF_FILE)
if len(EXTENDED_14) != 14 or set(EXTENDED_14) & set(CANONICAL_25):
    raise ValueError("%s: EXTENDED_14 must hold 14 names that are not canonical" % DEF_FILE)
