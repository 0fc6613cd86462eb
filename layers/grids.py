"""Management grids (网格): closed, non-overlapping polygons, one community each, a 15-digit code."""

from twin.schema import Field, Schema
from twin.vocab import GRID_TYPES

from .base import LayerKind

KIND = LayerKind(
    name="grids",
    title_zh="网格",
    title_en="Grids",
    load_order=40,
    schema=Schema(
        id_field="grid_code",
        geometry="Polygon",
        fields=(
            Field("grid_code", pattern=r"\d{15}", zh="网格编码", en="Grid code"),
            Field("community_id", pattern=r"\d{12}", zh="所属社区", en="Community"),
            Field("name", zh="网格名称", en="Name"),
            Field("worker", zh="网格员", en="Grid worker"),
            Field("worker_phone", required=False, personal=True, zh="网格员电话", en="Grid worker phone"),
            Field("type", choices=tuple(GRID_TYPES), zh="网格类型", en="Grid type"),
        ),
    ),
)
