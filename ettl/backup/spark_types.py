"""Spark SQL data types, parsed: a backup's manifest gives each column a type that restore puts
into a CREATE TABLE, so it must be a type and nothing else (no comment, no second statement).

A recursive-descent parser of Spark's `dataType` rule (SqlBaseParser.g4), for the types a table
column can have; keywords are case-insensitive and whitespace may separate any two tokens:

    type    := primitive | decimal | char | varchar | interval
             | array<type> | map<type, type> | struct<field, ...> | struct<>
    field   := name [:] type [not null]         name: identifier or `back-quoted`
    decimal := (decimal | dec | numeric) [(precision [, scale])]   1 <= p <= 38, 0 <= s <= p

Column comments (`comment '...'`) and string collations are not accepted: a backup never writes
them, and a string literal is the one place SQL could hide in a type. pyspark's own parser
(`_parse_datatype_string`) needs a running JVM; restore checks its manifest before Spark starts.
"""

import re

PRIMITIVES = frozenset(
    {
        "boolean", "tinyint", "byte", "smallint", "short", "int", "integer", "bigint", "long",
        "float", "real", "double", "date", "timestamp", "timestamp_ntz", "timestamp_ltz",
        "string", "binary", "void", "variant",
    }
)  # fmt: skip
DECIMALS = frozenset({"decimal", "dec", "numeric"})
MAX_PRECISION = 38  # Spark's DecimalType.MAX_PRECISION
LENGTHED = frozenset({"char", "character", "varchar"})
YEAR_MONTH = ("year", "month")
DAY_TIME = ("day", "hour", "minute", "second")
MAX_LENGTH = 2**31 - 1
MAX_DEPTH = 32  # nesting of array/map/struct: deeper is no table a backup holds, and no stack

SPACES = " \t\r\n"  # between tokens, as Spark's lexer allows; other (Unicode) spaces are refused
# A back-quoted field name may hold any printable character; `` is a back quote in it.
TOKEN = re.compile(
    r"(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>[0-9]+)|(?P<quoted>`(?:[^`\x00-\x1f\x7f]|``)+`)"
    r"|(?P<symbol>[<>(),:])"
)


class SparkTypeError(ValueError):
    """Not a Spark SQL data type; the message says where, in one line."""


def parse_spark_type(text: str) -> str:
    """`text` in canonical form (lower case, no spaces: `map<string,array<decimal(10,2)>>`);
    SparkTypeError if it is not exactly one Spark SQL data type."""
    parser = _Parser(text)
    result = parser.data_type()
    parser.expect_end()
    return result


class _Parser:
    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise SparkTypeError(f"a type must be a string, not {type(text).__name__}")
        self.text, self.tokens, self.position, self.depth = text, [], 0, 0
        offset = 0
        while True:
            while offset < len(text) and text[offset] in SPACES:
                offset += 1
            if offset == len(text):
                break
            match = TOKEN.match(text, offset)
            if match is None:
                raise SparkTypeError(f"unexpected {text[offset]!r} at {offset}")
            self.tokens.append((match.lastgroup, match.group(), offset))
            offset = match.end()

    # -- tokens
    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _fail(self, wanted: str) -> SparkTypeError:
        token = self._peek()
        if token is None:
            return SparkTypeError(f"expected {wanted}, found the end")
        return SparkTypeError(f"expected {wanted}, found {token[1]!r} at {token[2]}")

    def _take(self, kind: str, wanted: str) -> str:
        token = self._peek()
        if token is None or token[0] != kind:
            raise self._fail(wanted)
        self.position += 1
        return token[1]

    def _symbol(self, symbol: str) -> None:
        token = self._peek()
        if token is None or token[1] != symbol:
            raise self._fail(repr(symbol))
        self.position += 1

    def _at(self, *values: str) -> bool:
        token = self._peek()
        return token is not None and token[0] in ("word", "symbol") and token[1].lower() in values

    def _number(self, low: int, high: int, what: str) -> int:
        start = self._peek()
        value = int(self._take("number", what))
        if not low <= value <= high:
            raise SparkTypeError(f"{what} {value} at {start[2]} is not in {low}..{high}")
        return value

    def expect_end(self) -> None:
        if self._peek() is not None:
            raise self._fail("the end of the type")

    # -- grammar
    def data_type(self) -> str:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SparkTypeError(f"types nested deeper than {MAX_DEPTH} levels")
        try:
            return self._data_type()
        finally:
            self.depth -= 1

    def _data_type(self) -> str:
        name = self._take("word", "a type name").lower()
        if name == "array":
            self._symbol("<")
            element = self.data_type()
            self._symbol(">")
            return f"array<{element}>"
        if name == "map":
            self._symbol("<")
            key = self.data_type()
            self._symbol(",")
            value = self.data_type()
            self._symbol(">")
            return f"map<{key},{value}>"
        if name == "struct":
            return self._struct()
        if name == "interval":
            return self._interval()
        if name in DECIMALS:
            return self._decimal()
        if name in LENGTHED:
            self._symbol("(")
            length = self._number(1, MAX_LENGTH, "length")
            self._symbol(")")
            return f"{'char' if name == 'character' else name}({length})"
        if name in PRIMITIVES:
            return name
        self.position -= 1
        raise self._fail("a type name")

    def _decimal(self) -> str:
        precision, scale = 10, 0  # Spark's DecimalType.USER_DEFAULT
        if self._at("("):
            self._symbol("(")
            precision = self._number(1, MAX_PRECISION, "precision")
            if self._at(","):
                self._symbol(",")
                scale = self._number(0, precision, "scale")
            self._symbol(")")
        return f"decimal({precision},{scale})"

    def _struct(self) -> str:
        self._symbol("<")
        fields = []
        if not self._at(">"):
            fields.append(self._field())
            while self._at(","):
                self._symbol(",")
                fields.append(self._field())
        self._symbol(">")
        return f"struct<{','.join(fields)}>"

    def _field(self) -> str:
        token = self._peek()
        if token is not None and token[0] == "quoted":
            self.position += 1
            name = token[1]
        else:
            name = "`" + self._take("word", "a field name") + "`"
        if self._at(":"):
            self._symbol(":")
        field = f"{name}:{self.data_type()}"
        if self._at("not"):
            self.position += 1
            if not self._at("null"):
                raise self._fail("'null'")
            self.position += 1
            field += " not null"
        return field

    def _interval(self) -> str:
        start = self._take("word", "an interval unit").lower()
        units = YEAR_MONTH if start in YEAR_MONTH else DAY_TIME if start in DAY_TIME else None
        if units is None:
            self.position -= 1
            raise self._fail("an interval unit")
        if not self._at("to"):
            return f"interval {start}"
        self.position += 1
        end = self._take("word", "an interval unit").lower()
        if end not in units or units.index(end) <= units.index(start):
            self.position -= 1
            raise self._fail(f"an interval unit after {start}")
        return f"interval {start} to {end}"
