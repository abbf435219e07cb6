"""Tables displayed in notebook outputs: parsing (HTML and text reprs) and disclosure checks.

Used by :mod:`o4o_causal.sdc.notebooks`. A displayed table is read into header rows
and body rows (row labels, values); the checks work on column/index names and on
the values of count-like columns.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser

from o4o_causal.sdc.findings import Finding


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ö": "o", "ä": "a", "ü": "u", "ß": "ss"})

#: Tokens that name a person identifier on their own (register keys of NO, SE, DK).
ID_TOKENS = _words(
    "pnr lopnr lopenr lopenummer lobenr lobenummer fnr fodselsnummer foedselsnummer cpr cprnr "
    "personnummer personnr persnr ssn"
)
#: Units whose ``id``/``nr``/``key`` column identifies persons or small groups of persons.
PERSON_UNITS = _words(
    "person persons pers individ individual patient respondent subject child mother father parent "
    "barn mor far pupil student citizen spouse partner household husholdning family familie"
)
_KEY_TOKENS = frozenset({"id", "nr", "no", "key", "number", "lopnr", "num"})
#: Count columns that count persons.
PERSON_COUNT_TOKENS = _words(
    "persons personer people individuals individer respondents patients pupils students children youths"
)
#: Generic count column names (also read as counts of persons, except beside a QCA ``cases`` column).
GENERIC_COUNTS = _words("n count counts cnt freq frequency n_obs nobs obs observations antall antal number")
_ARM_COUNT = re.compile(r"^(?:n|count|cnt)_(?:treated|untreated|control|controls|exposed|unexposed|events|recipients)$")
MIN_MAX = frozenset({"min", "max", "minimum", "maximum"})
#: Person attributes (quasi-identifiers) that make a row of microdata recognisable.
QUASI_IDENTIFIERS = _words(
    "age alder sex gender kjonn kon koen female male birth_year birthyear year_of_birth fodselsar "
    "foedselsaar birth_date birthdate date_of_birth dob fodselsdato foedselsdato income inntekt "
    "inkomst indkomst earnings postcode postnummer zip education utdanning nationality "
    "country_of_birth"
)
_AGGREGATE_TOKENS = _words(
    "mean avg average share rate pct percent prop proportion median sd std se ci total sum coef effect estimate"
)
_HEADER_TOKEN = re.compile(r"[^\s:,;=!?'\"]+")
_SERIES_FOOTER = re.compile(r"^Name: (.+?), dtype: \w+$")
#: A quoted key holding a number, list or dict: ``'person_id': 17``, ``"pnr": {"0": ...``.
_RECORD_KEY = re.compile(r"[\"']([^\"'\n]{1,40})[\"']\s*:\s*(?=[-\d\[{])")
_NUMBER = re.compile(r"^[-+]?\d[\d,\u202f\u00a0']*(?:\.\d+)?(?:[eE][-+]?\d+)?$")


def norm(name: str) -> str:
    """Normalise a column name: camelCase split, Nordic letters folded, lower case, ``_`` separators."""
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name.strip()).lower().translate(_FOLD)
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9%]+", "_", name).strip("_")


def is_identifier(name: str) -> bool:
    """Whether a column/index name looks like a person identifier (``person_id``, ``pnr``, ``lopnr``, ...)."""
    for key in (norm(name), norm(name.lower())):  # LopNr: "lopnr" as well as "lop_nr"
        tokens = set(key.split("_"))
        if tokens & ID_TOKENS or key in {"person", "individual", "individ", "pid", "p_id"}:
            return True
        if tokens & PERSON_UNITS and tokens & _KEY_TOKENS:
            return True
    return False


def is_count(name: str, *, generic: bool = True) -> bool:
    """Whether a column name counts persons (``n``, ``count``, ``persons``, ``antall``, ...)."""
    key = norm(name)
    if set(key.split("_")) & PERSON_COUNT_TOKENS:
        return True
    return generic and (key in GENERIC_COUNTS or bool(_ARM_COUNT.match(key)))


def number(text: str) -> float | None:
    """Parse a displayed number (thousands separators allowed); ``None`` when not a number."""
    text = text.strip()
    if not _NUMBER.match(text):
        return None
    return float(re.sub(r"[,\u202f\u00a0']", "", text))


@dataclass
class Table:
    """A displayed table: header rows and body rows of (row labels, values)."""

    header: list[list[str]] = field(default_factory=list)
    rows: list[tuple[list[str], list[str]]] = field(default_factory=list)

    def names(self) -> list[str]:
        """Every non-empty header text (column names, index names, column-axis names)."""
        return [h for row in self.header for h in row if h.strip()]

    def labels(self) -> list[str]:
        """Every row label."""
        return [label for labels, _ in self.rows for label in labels]

    def columns(self) -> list[str]:
        """Names of the value columns, aligned from the right with the body rows' values."""
        width = max((len(values) for _, values in self.rows), default=0)
        for row in reversed(self.header):
            tail = row[-width:] if width else []
            if len(row) >= width and any(t.strip() for t in tail):
                return tail
        return [""] * width


class _HTMLTables(HTMLParser):
    """Collect every ``<table>`` of an HTML output (pandas, Styler, result reprs)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[Table] = []
        self._open: list[Table] = []
        self._head = False
        self._row: list[tuple[str, str, int]] | None = None
        self._cell: tuple[str, list[str], int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._open.append(Table())
        elif tag in ("thead", "tbody"):
            self._head = tag == "thead"
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td"):
            span = dict(attrs).get("colspan") or "1"
            self._cell = (tag, [], int(span) if span.isdigit() else 1)

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None and self._row is not None:
            self._row.append((self._cell[0], " ".join("".join(self._cell[1]).split()), self._cell[2]))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._open:
            self._end_row(self._open[-1], self._row)
            self._row = None
        elif tag == "table" and self._open:
            self.tables.append(self._open.pop())

    def _end_row(self, table: Table, row: list[tuple[str, str, int]]) -> None:
        if self._head or (not table.rows and all(kind == "th" for kind, _, _ in row)):
            table.header.append([text for _, text, span in row for _ in range(span)])
        else:
            table.rows.append(([t for k, t, _ in row if k == "th"], [t for k, t, _ in row if k == "td"]))


def html_tables(html: str) -> list[Table]:
    """Return the tables of an HTML output."""
    parser = _HTMLTables()
    parser.feed(html)
    parser.close()
    return [t for t in parser.tables if t.rows or t.header]


def _depipe(line: str) -> str | None:
    """Markdown/pipe table lines to whitespace-separated cells; ``None`` for separator lines."""
    if line.count("|") < 2:
        return line
    if set(line.strip()) <= set("|-:+ "):
        return None
    return "  ".join(cell.strip().replace(" ", "_") for cell in line.strip().strip("|").split("|"))


def _undelimit(lines: list[str]) -> list[str]:
    """Delimited text (``print(df.to_csv())``: ``,``, ``;`` or tab) to whitespace-separated cells.

    A block is two or more lines with the same number of one delimiter, headed by a line
    whose fields are all names (a leading empty field -- the index -- is dropped).
    """
    out = list(lines)
    for sep in (",", ";", "\t"):
        i = 0
        while i < len(out):
            fields = [f.strip() for f in out[i].split(sep)]
            head = fields[1:] if fields and not fields[0] else fields
            if len(head) < 2 or not all(_HEADER_TOKEN.fullmatch(f) for f in head):
                i += 1
                continue
            j = i + 1
            while j < len(out) and out[j].count(sep) == out[i].count(sep):
                j += 1
            if j - i < 2:
                i += 1
                continue
            out[i] = "  ".join(head)
            for k in range(i + 1, j):
                out[k] = "  ".join(f.strip().replace(" ", "_") or "NaN" for f in out[k].split(sep))
            i = j
    return out


def text_tables(text: str) -> list[Table]:
    """Return the tables in a text repr (``print(df)``, ``text/plain``, Markdown pipe tables, CSV)."""
    lines = _undelimit([line for line in map(_depipe, text.splitlines()) if line is not None])
    found: list[Table] = []
    i = 0
    while i < len(lines):
        head = lines[i].split()
        if not head or not all(_HEADER_TOKEN.fullmatch(t) for t in head) or len(set(head)) < len(head):
            i += 1
            continue
        table = Table(header=[head])
        j = i + 1
        if j + 1 < len(lines) and len(lines[j].split()) == 1 and len(head) > 1:
            table.header.append(lines[j].split())  # the index-name line of a DataFrame repr
            j += 1
        while j < len(lines):
            cells = lines[j].split()
            values = cells[len(cells) - len(head) :]
            if not len(head) <= len(cells) <= len(head) + 3 or all(number(v) is None for v in values):
                break
            table.rows.append((cells[: len(cells) - len(head)], values))
            j += 1
        if table.rows:
            found.append(table)
            i = j
        else:
            i += 1
    return found + _series(lines)


def _series(lines: list[str]) -> list[Table]:
    """Series reprs (``value_counts()``): rows above a ``Name: <name>, dtype: ...`` footer."""
    found = []
    for k, line in enumerate(lines):
        footer = _SERIES_FOOTER.match(line)
        if not footer:
            continue
        start = k
        while start > 0 and len(cells := lines[start - 1].split()) >= 2 and number(cells[-1]) is not None:
            start -= 1
        head = lines[start - 1].split() if start > 0 else []
        table = Table(header=[head] if len(head) == 1 else [])
        table.header.append([footer.group(1)])
        table.rows = [(line.split()[:-1], line.split()[-1:]) for line in lines[start:k]]
        if table.rows:
            found.append(table)
    return found


def _row_name(labels: list[str], values: list[str]) -> str:
    """Name a row by its labels, plus its first text value when the labels are plain numbers."""
    name = " / ".join(labels) or "?"
    text = next((v for v in values if v.strip() and number(v) is None), None)
    return f"{name} ({text})" if text and all(number(label) is not None for label in labels) else name


def _small_counts(table: Table, threshold: int, where: str) -> list[Finding]:
    columns = table.columns()
    generic = "cases" not in {norm(n) for n in table.names()}  # QCA: n counts the named cases beside it
    findings = []
    for k, name in enumerate(columns):
        if not is_count(name, generic=generic):
            continue
        small = []
        for labels, values in table.rows:
            offset = len(values) - len(columns)
            value = number(values[k + offset]) if 0 <= k + offset < len(values) else None
            if value is not None and 0 < value < threshold and value == int(value):
                small.append(f"row {_row_name(labels, values)} = {value:g}")
        if small:
            findings.append(
                Finding(
                    "threshold",
                    where,
                    f"column {name!r} shows {len(small)} count(s) below the threshold {threshold} "
                    f"({'; '.join(small[:3])}); suppress or merge small cells (o4o_causal.sdc.check_table)",
                )
            )
    return findings


def _looks_like_person_rows(table: Table) -> list[str]:
    """Quasi-identifier columns of a table whose rows look like persons (empty list when not)."""
    names = [norm(n) for n in table.columns()]
    quasi = [n for n in names if n in QUASI_IDENTIFIERS]
    tokens = {t for n in names for t in n.split("_")}
    plain_index = all(number(label) is not None for label in table.labels())
    if len(quasi) < 2 or tokens & _AGGREGATE_TOKENS or any(is_count(n) for n in names) or not plain_index:
        return []
    return quasi


def text_findings(text: str, where: str, threshold: int) -> list[Finding]:
    """Return the findings of the tables in a text output and of records keyed by identifiers (dict/JSON dumps)."""
    found = [f for table in text_tables(text) for f in check(table, where, threshold)]
    keys = sorted({k for k in _RECORD_KEY.findall(text) if is_identifier(k)})
    if keys and not any(f.rule == "identifier" for f in found):
        msg = (f"text shows records keyed by identifier-like {keys} (a dict/JSON dump of microdata): "
               "do not print microdata; show aggregates (o4o_causal.sdc.check_table)")  # fmt: skip
        found.insert(0, Finding("identifier", where, msg))
    return found


def check(table: Table, where: str, threshold: int) -> list[Finding]:
    """Disclosure findings of one displayed table."""
    findings: list[Finding] = []
    ids = sorted({n for n in table.names() if is_identifier(n)})
    if ids:
        findings.append(
            Finding(
                "identifier",
                where,
                f"table shows identifier-like column/index {ids}: rows of persons must not be displayed; "
                "show aggregates (o4o_causal.sdc.check_table) and drop identifiers",
            )
        )
    stats = sorted({n for n in table.names() + table.labels() if norm(n) in MIN_MAX})
    if stats:
        findings.append(
            Finding(
                "min_max",
                where,
                f"table shows {stats} (describe()-style): a minimum or maximum is one person's value; "
                "use o4o_causal.sdc.safe_describe",
            )
        )
    quasi = [] if ids else _looks_like_person_rows(table)
    if quasi:
        findings.append(
            Finding(
                "person_rows",
                where,
                f"table rows look like persons (integer row index, person attributes {quasi}, no counts or "
                "statistics): do not display microdata (df.head()); show aggregates instead",
            )
        )
    return findings + _small_counts(table, threshold, where)
