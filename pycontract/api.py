"""Placeholder: the authoring API is built under issue 3."""
public = view = constructor = Map = Value = ctx = require = revert = emit = call = None
