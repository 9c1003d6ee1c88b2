"""Every storable type, defaults, deletes, tuple keys and copy semantics."""

from pycontract import Map, Value, public, view

things = Map(default=None)
lists = Map(default=[])
counter = Value(default=0)
config = Value(default={"owner": "nobody", "limits": [1, 2, 3]})


@public
def put(key: str, value) -> None:
    things[key] = value


@view
def get(key: str):
    return things[key]


@public
def put_pair(a: str, b: int, value: int) -> int:
    things[a, b] = value
    return things[a, b]


@public
def remove(key: str) -> bool:
    existed = things.contains(key)
    del things[key]
    return existed


@public
def append(key: str, item: int) -> list:
    items = lists[key]
    items.append(item)
    lists[key] = items
    return lists[key]


@view
def copy_semantics(key: str) -> list:
    items = lists[key]
    items.append(99)
    return lists[key]


@public
def bump(by: int) -> int:
    counter.set(counter.get() + by)
    return counter.get()


@public
def reset_counter() -> int:
    counter.set(0)
    return counter.get()


@view
def configuration() -> dict:
    return config.get()


@public
def store_values() -> list:
    things["none"] = None
    things["bool"] = True
    things["int"] = -(10 ** 40)
    things["str"] = "héllo"
    things["bytes"] = b"\x00\xff"
    things["list"] = [1, [2, 3], {"a": False}]
    things["dict"] = {"z": 1, "a": [b"x"]}
    return [things["none"], things["bool"], things["int"], things["str"], things["bytes"],
            things["list"], things["dict"]]


@public
def store_bad() -> int:
    things["t"] = (1, 2)
    return 1
