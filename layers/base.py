"""What a layer kind declares: schema, Chinese/English titles, which fields the public may see, and map style."""

from __future__ import annotations

from dataclasses import dataclass, field

from twin.schema import Schema


@dataclass(frozen=True)
class LayerKind:
    """A kind of layer (buildings, grids, ...): everything the twin and the web need to know about it."""

    name: str
    title_zh: str
    title_en: str
    schema: Schema
    load_order: int = 100  # layers load in this order (a building needs its grids for derived columns)
    file_stem: str = ""  # file name under the data dir without extension; defaults to `name`
    live: bool = False  # kept in the live store and changed at run time, not read from files
    # For a live kind: "module:function" called as function(twin, store) at start-up; it attaches the layer's
    # service (frame(), select(), version) as twin.live[name].
    live_service: str = ""
    optional: bool = False  # a data directory may lack its file: the twin then starts without the layer
    time_field: str | None = None  # the field that OGC `datetime` filters on
    public: bool = True  # False: only staff and admin may list its records
    styles: dict = field(default_factory=dict)  # colour tables keyed by field, each value -> [r, g, b] and labels

    @property
    def stem(self) -> str:
        """File name stem of the layer under the data directory."""
        return self.file_stem or self.name

    @property
    def personal_fields(self) -> list[str]:
        """Fields that are personal data and never reach a public or planner caller."""
        return self.schema.personal

    def title(self, lang: str = "zh") -> str:
        """The layer's title in `lang` (zh or en)."""
        return self.title_zh if lang == "zh" else self.title_en
