"""Adversarial contract sources for the vetting suite, each with its exact expected outcome.

Every source starts with the line ``HEADER`` (line 1), so contract code starts on line 2.
``expect`` lists every problem as (line, col, message substring); the suite asserts that the
problems reported are exactly these positions, each message containing its substring.
"""

HEADER = (
    "from pycontract import public, view, constructor, Map, Value, ctx, require, revert, "
    "emit, call\n"
)

#: cases whose body is the whole source (no HEADER line)
NO_HEADER = {"api_not_imported"}

# (id, body after HEADER, [(line, col, substring), ...])
REJECTED = [
    # ---- escapes through frames, code objects, dunders
    ("dunder_class", """\
@public
def f(x: str) -> str:
    return x.__class__
""", [(4, 14, "attribute '__class__' begins with '_'")]),
    ("subclasses_chain", """\
@view
def f() -> int:
    return len(().__class__.__bases__[0].__subclasses__())
""", [(4, 19, "'__class__' begins with '_'"), (4, 29, "'__bases__' begins with '_'"),
      (4, 42, "'__subclasses__' begins with '_'")]),
    ("globals_of_function", """\
def g():
    return 1

@view
def f() -> dict:
    return g.__globals__
""", [(7, 14, "'__globals__' begins with '_'")]),
    ("gi_frame_f_back", """\
@view
def f() -> int:
    gen = (i for i in range(3))
    return gen.gi_frame.f_back
""", [(5, 16, "attribute 'gi_frame' is not available"),
      (5, 25, "attribute 'f_back' is not available")]),
    ("code_object", """\
def g():
    return 1

@view
def f() -> int:
    return g.__code__.co_consts
""", [(7, 14, "'__code__' begins with '_'"), (7, 23, "attribute 'co_consts' is not available")]),
    ("builtins_name", """\
@view
def f() -> int:
    return __builtins__
""", [(4, 12, "name '__builtins__' begins with '_'")]),
    ("underscore_local", """\
@public
def f(x: int) -> int:
    _secret = x
    return _secret
""", [(4, 5, "name '_secret' begins with '_'"), (5, 12, "name '_secret' begins with '_'")]),
    ("underscore_param_and_def", """\
def _helper(_x):
    return 1
""", [(2, 5, "name '_helper' begins with '_'"), (2, 13, "name '_x' begins with '_'")]),
    # ---- formatters
    ("str_format", """\
@view
def f(x: str) -> str:
    return "{0}".format(x)
""", [(4, 18, "str.format is not available")]),
    ("format_class_traversal", """\
@view
def f() -> str:
    return "{0.__class__.__mro__}".format(1)
""", [(4, 36, "str.format is not available")]),
    ("format_map", """\
@view
def f() -> str:
    return "{a}".format_map({"a": 1})
""", [(4, 18, "str.format_map is not available")]),
    ("format_builtin", """\
@view
def f() -> str:
    return format(1, "x")
""", [(4, 12, "'format' is not available in contracts: use an f-string")]),
    ("fstring_repr", """\
@view
def f() -> str:
    return f"{init!r}"

def init():
    return 1
""", [(4, 15, "'!r', '!a' and '=' in f-strings")]),
    ("fstring_dunder", """\
@view
def f(x: str) -> str:
    return f"{x.__class__}"
""", [(4, 17, "'__class__' begins with '_'")]),
    # ---- attribute names as strings
    ("getattr_concat", """\
@view
def f(x: int) -> int:
    return getattr(x, '__' + 'class__')
""", [(4, 12, "'getattr' is not available in contracts: attribute names must be written "
               "literally")]),
    ("vars_dir_globals", """\
@view
def f() -> int:
    return len(vars()) + len(dir()) + len(globals())
""", [(4, 16, "'vars' is not available"), (4, 30, "'dir' is not available"),
      (4, 43, "'globals' is not available")]),
    ("eval_exec_compile", """\
@public
def f(s: str) -> None:
    eval(s)
    exec(s)
    compile(s, "x", "exec")
""", [(4, 5, "'eval' is not available"), (5, 5, "'exec' is not available"),
      (6, 5, "'compile' is not available")]),
    ("type_id_hash", """\
@view
def f(x: int) -> int:
    return id(x) + hash(x) + len(str(type(x)))
""", [(4, 12, "object identities differ"), (4, 20, "hash values differ"),
      (4, 38, "use isinstance(x, int)")]),
    ("unknown_attribute", """\
@view
def f(x: list) -> int:
    return x.mro
""", [(4, 14, "attribute 'mro' is not available")]),
    # ---- unicode
    ("fullwidth_eval", """\
@view
def f(s: str) -> int:
    return ｅｖａｌ(s)
""", [(4, 12, "non-ASCII character U+FF45"), (4, 12, "'eval' is not available in contracts")]),
    ("nfkc_superscript", """\
@view
def f(s: str) -> int:
    return ᵉval(s)
""", [(4, 12, "non-ASCII character U+1D49"), (4, 12, "'eval' is not available in contracts")]),
    ("nfkc_dunder_attr", """\
@view
def f(x: int) -> int:
    return x.__ｃlass__
""", [(4, 16, "non-ASCII character U+FF43"), (4, 12, "attribute '__class__' begins with '_'")]),
    ("nonascii_in_fstring", """\
@view
def f(x: int) -> str:
    return f"{ｘ}"
""", [(4, 15, "non-ASCII characters in a name")]),
    # ---- decorators
    ("foreign_decorator", """\
def deco(fn):
    return fn

@deco
def f():
    return 1
""", [(5, 2, "only the @public, @view and @constructor decorators")]),
    ("decorator_call", """\
@public()
def f():
    return 1
""", [(2, 2, "only the @public, @view and @constructor decorators")]),
    ("two_entry_decorators", """\
@public
@view
def f():
    return 1
""", [(3, 2, "only one of @public, @view and @constructor")]),
    ("nested_entry_point", """\
def outer():
    @public
    def inner():
        return 1
    return inner
""", [(3, 6, "@public may only decorate module-level functions")]),
    ("two_constructors", """\
@constructor
def a():
    pass

@constructor
def b():
    pass
""", [(6, 2, "only one @constructor (the first is at line 3)")]),
    # ---- exceptions
    ("except_baseexception", """\
@public
def f() -> None:
    try:
        pass
    except BaseException:
        pass
""", [(6, 12, "'except BaseException' is not allowed: engine limits cannot be caught")]),
    ("bare_except", """\
@public
def f() -> None:
    try:
        pass
    except:
        pass
""", [(6, 5, "a bare 'except:' is not allowed")]),
    ("except_underscore_name", """\
@public
def f() -> None:
    try:
        pass
    except Exception as _x:
        pass
""", [(6, 25, "name '_x' begins with '_'")]),
    ("except_tuple_with_systemexit", """\
@public
def f() -> None:
    try:
        pass
    except (ValueError, SystemExit):
        pass
""", [(6, 25, "'except SystemExit' is not allowed")]),
    ("except_star", """\
@public
def f() -> None:
    try:
        pass
    except* ValueError:
        pass
""", [(4, 5, "'except*' is not supported")]),
    ("raise_from_and_raise_name", """\
@public
def f() -> None:
    try:
        pass
    except ValueError as e:
        raise e from None
""", [(7, 15, "raise must name an allowed exception"),
      (7, 22, "'raise ... from ...' is not supported")]),
    ("raise_systemexit", """\
@public
def f() -> None:
    raise SystemExit(1)
""", [(4, 11, "'SystemExit' cannot be raised: use revert(message)")]),
    # ---- imports
    ("import_os", """\
import os
""", [(2, 1, "only 'from pycontract import ...' is allowed")]),
    ("from_os_import_path", """\
from os import path
""", [(2, 1, "cannot import from 'os'")]),
    ("dunder_import", """\
@view
def f() -> int:
    return __import__("os")
""", [(4, 12, "name '__import__' begins with '_'")]),
    ("from_pycontract_builtins", """\
from pycontract import __builtins__
""", [(2, 24, "'__builtins__' begins with '_' and is not part of the pycontract API")]),
    ("from_pycontract_unknown", """\
from pycontract import Chain
""", [(2, 24, "'Chain' is not part of the pycontract API")]),
    ("import_inside_function", """\
def f():
    from pycontract import emit as e2
    return 1
""", [(3, 5, "imports must be at module level")]),
    ("api_alias_swap", """\
from pycontract import Map as Value2, Value as Map2, public as view2
from pycontract import Map as len
""", [(3, 31, "cannot import 'Map' as 'len'")]),
    ("api_rebound", """\
@public
def f() -> None:
    emit = 1
    require = 2
""", [(4, 5, "'emit' is the pycontract API name 'emit'"),
      (5, 5, "'require' is the pycontract API name 'require'")]),
    # ---- refused constructs
    ("class_def", """\
class Token:
    pass
""", [(2, 1, "classes are not supported")]),
    ("lambda_default", """\
def f():
    g = lambda x=[]: x
    return g
""", [(3, 18, "default values must be literals")]),
    ("generator_yield", """\
def f():
    yield 1
""", [(3, 5, "generators (yield) are not supported")]),
    ("async_await", """\
async def f():
    await g()

def g():
    return 1
""", [(2, 1, "async functions are not supported"), (3, 5, "await is not supported")]),
    ("match_stmt", """\
def f(x):
    match x:
        case 1:
            return 1
""", [(3, 5, "'match' statements are not supported")]),
    ("walrus", """\
def f(x):
    if (y := x) > 1:
        return y
""", [(3, 9, "assignment expressions (:=) are not supported")]),
    ("set_display_and_comp", """\
def f(x):
    a = {1, 2}
    b = {i for i in x}
    return a, b
""", [(3, 9, "set displays are not supported"), (4, 9, "set comprehensions are not supported")]),
    ("global_nonlocal", """\
counter = 0

def f():
    global counter
    counter = 1

def g():
    n = 0
    def h():
        nonlocal n
        n = 1
    return h
""", [(5, 5, "'global' is not supported"), (11, 9, "'nonlocal' is not supported")]),
    ("with_stmt", """\
def f(x):
    with x:
        pass
""", [(3, 5, "'with' statements are not supported")]),
    ("attribute_assign_and_del", """\
def f(x):
    x.value = 1
    del x.value
""", [(3, 5, "attributes cannot be assigned or deleted"),
      (4, 9, "attributes cannot be assigned or deleted")]),
    ("del_plain_name", """\
def f():
    x = 1
    del x
""", [(4, 9, "'del x' is not supported")]),
    ("is_on_ints", """\
def f(x):
    return x is 1000
""", [(3, 12, "'is' compares object identity")]),
    # ---- floats and division
    ("float_literal", """\
RATE = 1.5
""", [(2, 8, "floating-point numbers are not allowed")]),
    ("true_division", """\
@view
def f(a: int, b: int) -> int:
    return a / b
""", [(4, 14, "true division '/' produces floats; use '//'")]),
    ("true_division_augassign", """\
@public
def f(a: int) -> int:
    a /= 2
    return a
""", [(4, 7, "true division '/=' produces floats; use '//='")]),
    ("matmul_complex_ellipsis", """\
def f(a, b):
    x = 2j
    y = ...
    return a @ b
""", [(3, 9, "complex numbers are not allowed"), (4, 9, "'...' (Ellipsis) is not allowed"),
      (5, 14, "the '@' operator is not supported")]),
    ("float_builtin", """\
@view
def f(x: int) -> int:
    return float(x)
""", [(4, 12, "'float' is not available in contracts")]),
    # ---- names
    ("undefined_name", """\
@view
def f() -> int:
    return undefined_thing + 1
""", [(4, 12, "name 'undefined_thing' is not defined")]),
    ("api_not_imported", """\
from pycontract import public

@public
def f() -> None:
    revert2 = 1
    emit("x")
""", [(6, 5, "name 'emit' is not defined; import it")]),
    ("print_reserved", """\
@public
def f() -> None:
    print("hi")
    printed = 1
""", [(4, 5, "'print' is not available in contracts"), (5, 5, "'printed' is a reserved name")]),
    # ---- entry points
    ("entry_star_args", """\
@public
def f(*args, **kwargs) -> None:
    pass
""", [(3, 8, "entry points cannot take *args or **kwargs")]),
    ("entry_bad_annotation", """\
@public
def f(x: float, y: list[int], z: "int") -> None:
    pass
""", [(3, 10, "parameter 'x' must be annotated"), (3, 20, "parameter 'y' must be annotated"),
      (3, 34, "parameter 'z' must be annotated")]),
    ("entry_nonliteral_default", """\
@public
def f(x: int = len("abc"), y: list = [1]) -> None:
    pass
""", [(3, 16, "default values must be literals"), (3, 38, "default values must be literals")]),
    ("entry_bad_return", """\
@view
def f() -> float:
    return 1
""", [(3, 12, "return annotation must be one of")]),
    ("entry_positional_only", """\
@public
def f(a: int, /, b: int) -> None:
    pass
""", [(3, 7, "entry-point parameters are passed by name")]),
    # ---- storage
    ("storage_in_function", """\
def f():
    m = Map(default=0)
    return m
""", [(3, 9, "storage must be declared at module level")]),
    ("storage_bad_default", """\
a = Map(default=(1, 2))
b = Value(default=1.5)
c = Map(default=len("x"))
d = Value(1, 2)
""", [(2, 17, "a Map default must be a literal of a storable type"),
      (3, 19, "floating-point numbers are not allowed"),
      (4, 17, "a Map default must be a literal of a storable type"),
      (5, 5, "declare storage as NAME = Value()")]),
    ("storage_redeclared", """\
balances = Map(default=0)
balances = Map(default=1)
""", [(3, 1, "'balances' is already defined at line 2")]),
    # ---- module level
    ("module_level_code", """\
x = 1
for i in range(10):
    x = x + i
if x:
    pass
BIG = 10 ** 100
OWNERS = ["alice"]
""", [(3, 1, "only function definitions"), (5, 1, "only function definitions"),
      (7, 7, "a module-level constant must be a literal value"),
      (8, 10, "module-level constants must be immutable literals")]),
    ("module_call", """\
emit("deployed")
""", [(2, 1, "only function definitions")]),
    # ---- f-strings that only Python 3.12+ can parse
    ("fstring_pep701_quotes", """\
@view
def f(d: dict) -> str:
    return f"{d["k"]}"
""", [(4, 12, "this f-string needs Python 3.12 syntax")]),
    ("fstring_backslash", """\
@view
def f(x: list) -> str:
    return f"{'\\n'.join(x)}"
""", [(4, 16, "a backslash or '#' inside an f-string replacement field")]),
]

ACCEPTED_TOKEN = """\
from pycontract import public, view, constructor, Map, Value, ctx, require, emit

balances = Map(default=0)
total_supply = Value(default=0)

@constructor
def init(supply: int) -> None:
    balances[ctx.sender] = supply
    total_supply.set(supply)

@public
def transfer(to: str, amount: int) -> bool:
    require(amount > 0, "amount must be positive")
    require(balances[ctx.sender] >= amount, "insufficient balance")
    balances[ctx.sender] -= amount
    balances[to] += amount
    emit("Transfer", sender=ctx.sender, to=to, amount=amount)
    return True

@view
def balance_of(owner: str) -> int:
    return balances[owner]
"""
