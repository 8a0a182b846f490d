"""Override: `LightSerializer`, a DRF serializer whose fields are shallow copies of its declarations.

What it replaces (DRF 3.16.1): `Serializer.get_fields`, which returns
`copy.deepcopy(self._declared_fields)`. `Field.__deepcopy__` re-runs each field's `__init__`
with its original arguments, for every serializer built, so every request. The API's
serializers (conversations/edge/serializers.py) never change a field's settings after declaring
it; binding a field to its serializer sets attributes on the copy only (`field_name`,
`parent`, `source_attrs`), so a shallow copy of each unbound declaration is as independent.
What it relies on: `_declared_fields`, set by DRF's `SerializerMetaclass` (DRF's own
`get_fields` reads it, and DRF's documentation tells subclasses to override `get_fields`).

Why (docs/performance.md, "After", `ceb0371`, `light-serializers`): DRF's serializer validation
was 13.5 % of the GIL-holding samples of a chat, its per-request deep copy 10 %; with shallow
copies the gateway's CPU per chat went from 3.0–4.0 to 2.6–2.7 ms (−0.4 ms) and the best
throughput from 399–449 to 505 req/s. The copy itself is made without `copy.copy`'s generic
`__reduce_ex__` path (`shallow_copy`); with the surrogate validator dropped from `Text`, ChatInput's
validation went from 143–167 to 104–125 µs (`python -m bench.micro`).

Guarded by gateway/tests/test_overrides.py::test_framework_code_the_overrides_copy_is_unchanged
(the fingerprints below), ::test_drf_still_deep_copies_declared_fields_for_each_serializer, and
conversations/tests/test_api_chat_validation.py::test_one_requests_validation_leaves_nothing_behind_for_the_next,
and gateway/tests/test_overrides.py::test_shallow_copy_is_copy_copy_for_every_api_field.
"""

from rest_framework import serializers

RELIES_ON = {
    "rest_framework.serializers.Serializer.get_fields": "698bfc528474400e",
    "rest_framework.fields.Field.__deepcopy__": "8ab76c4db31d2647",
}


def shallow_copy(field):
    """What `copy.copy(field)` returns (a new instance of its class with the same attributes), without going
    through `__reduce_ex__` and `copyreg`: 4x faster for a DRF field (docs/performance.md, "the no-framework floor").
    test_overrides.py::test_shallow_copy_is_copy_copy_for_every_api_field holds the two equal."""
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    return clone


class LightSerializer(serializers.Serializer):
    """A serializer whose fields are shallow copies of its (never modified) declarations."""

    def get_fields(self):
        return {name: shallow_copy(field) for name, field in self._declared_fields.items()}
